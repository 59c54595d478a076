"""``computeport demo``'s setup steps: schema, idempotent seed with the assumed price, logins."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from rich.console import Console
from sqlalchemy import select

from computeport.cli.demo import demo_logins, demo_settings, logins_table, prepare_database, seed
from computeport.db.engine import make_engine, make_session_factory
from computeport.models.pricing import PriceVersion


@pytest.mark.slow
def test_setup_is_idempotent_and_prices_usage(tmp_path: Path) -> None:
    settings = demo_settings(tmp_path, 1440.0)
    assert prepare_database(settings) == "database created"
    assert seed(settings).startswith("seeded ")
    assert seed(settings) == "scenario already seeded"
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as session:
            prices = session.scalars(select(PriceVersion)).all()
            # The scenario's rate card, once: H800, four QOS factors, two token prices (the
            # assistant's model and the demo's own) and an audio price, all assumptions.
            assert len(prices) == 8
            assert all(p.is_assumption for p in prices)
            h800 = next(p for p in prices if p.subject == "h800")
            assert h800.unit_price == Decimal(30)
    finally:
        engine.dispose()
    assert prepare_database(settings) == "schema upgraded"


def test_logins_table_lists_every_role() -> None:
    rows = demo_logins()
    assert {r.role for r in rows} >= {"operator", "scheme_officer", "funder", "org_admin"}
    console = Console(record=True, width=140)
    console.print(logins_table(rows, "http://127.0.0.1:8000"))
    text = console.export_text()
    assert "http://127.0.0.1:8000" in text
    for row in rows:
        assert row.email in text
        assert row.password in text
