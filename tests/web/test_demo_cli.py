"""``computeport demo``'s setup steps: schema, idempotent seed with the assumed price, logins."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from rich.console import Console
from sqlalchemy import select

from computeport.cli.demo import demo_logins, demo_settings, logins_table, prepare_database, seed
from computeport.db.engine import make_engine, make_session_factory
from computeport.inventory.repository import all_clusters
from computeport.kit.clock import ManualClock
from computeport.models.pricing import PriceVersion
from computeport.models.sim_cluster import SimCluster
from computeport.seed.demo_centre import demo_cluster_name, seed_demo_centre


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
            # assistant's model and the demo's own), an audio price, and Sandy Ridge's
            # accelerator at its site, every one an assumption.
            assert len(prices) == 9
            assert all(p.is_assumption for p in prices)
            h800 = next(p for p in prices if p.subject == "h800")
            assert h800.unit_price == Decimal(30)
            ridge = next(p for p in prices if p.subject == "cn-accel-a")
            assert (ridge.site, ridge.unit_price) == ("sandy-ridge", Decimal(36))
            # its commissioning: a simulated week after the demo is seeded (the scenario)
            ridge_cluster = next(c for c in all_clusters(session) if c.name == "sandy-ridge-a")
            assert ridge.valid_from.date() == ridge_cluster.commissioned
            assert ridge_cluster.commissioned is not None
            assert ridge_cluster.commissioned > datetime.now(UTC).date()
            # Both sites, the demo's virtual cluster under Cyberport's inventory name.
            clusters = {c.name: (c.site.key, c.backend, c.status) for c in all_clusters(session)}
            assert clusters == {
                "cyberport-h800": ("cyberport", "sim", "active"),
                "sandy-ridge-a": ("sandy-ridge", "sim", "planned"),
            }
            assert demo_cluster_name(session) == "cyberport-h800"
    finally:
        engine.dispose()
    assert prepare_database(settings) == "schema upgraded"


def test_a_demo_from_before_sites_keeps_its_cluster(tmp_path: Path) -> None:
    """A demo database whose virtual cluster is journaled as ``aisc`` is not given an
    inventory that would rename it: its history stays one cluster's."""
    settings = demo_settings(tmp_path, 1440.0)
    prepare_database(settings)
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine).begin() as session:
            session.add(SimCluster(cluster="aisc", meta={"origin_s": 0}, position_s=0))
        with make_session_factory(engine).begin() as session:
            assert demo_cluster_name(session) == "aisc"
            assert seed_demo_centre(session, ManualClock(datetime(2026, 10, 1, tzinfo=UTC))) == 0
            assert all_clusters(session) == []
    finally:
        engine.dispose()


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
