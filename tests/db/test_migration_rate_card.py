"""Migration 0006 on a database with prices: every old version and QOS factor is carried over.

Built at 0005 with two H800 versions (the first closed by the second, the old ``valid_to``) and
a scavenger factor, then upgraded: the ids survive (charges name them), the ends are derived,
the factor is in force for every past rating, and the table refuses edits.  Downgrade restores
the old shape with the same rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from tests.support.databases import drop_postgres_database, fresh_postgres_database, worker_suffix

from computeport.db.base import UtcDateTime
from computeport.db.engine import make_engine
from computeport.db.migrate import downgrade, upgrade
from computeport.kit.ids import uuid7
from computeport.pricing.book import PriceBook

PREVIOUS = "0005_worker_leases"
THIS = "0006_rate_card"
EPOCH = datetime(2024, 10, 1, tzinfo=UTC)
CHANGE = datetime(2026, 10, 15, tzinfo=UTC)
CREATED = datetime(2026, 9, 1, tzinfo=UTC)

_utc = UtcDateTime(timezone=True)
_price = sa.table(
    "price_version",
    sa.column("id", sa.Uuid()),
    sa.column("accelerator_type", sa.String()),
    sa.column("price_per_gpu_hour", sa.Numeric(18, 8)),
    sa.column("currency", sa.String()),
    sa.column("valid_from", _utc),
    sa.column("valid_to", _utc),
    sa.column("is_assumption", sa.Boolean()),
    sa.column("note", sa.Text()),
    sa.column("created_at", _utc),
)
_qos = sa.table(
    "qos_multiplier",
    sa.column("id", sa.Uuid()),
    sa.column("qos", sa.String()),
    sa.column("multiplier", sa.Numeric(18, 8)),
    sa.column("is_assumption", sa.Boolean()),
    sa.column("note", sa.Text()),
    sa.column("created_at", _utc),
)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    url = (
        f"sqlite:///{tmp_path / 'migrate.sqlite3'}"
        if request.param == "sqlite"
        else fresh_postgres_database(f"cp_migrate_prices_{worker_suffix()}")
    )
    made = make_engine(url)
    yield made
    made.dispose()
    if request.param != "sqlite":
        drop_postgres_database(url)


def _seed_previous_head(engine: Engine) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
    upgrade(engine, PREVIOUS)
    old, new, scavenger = uuid7(), uuid7(), uuid7()
    with engine.begin() as c:
        c.execute(
            sa.insert(_price),
            [
                dict(id=old, accelerator_type="h800", price_per_gpu_hour=Decimal("28.00"),
                     currency="HKD", valid_from=EPOCH, valid_to=CHANGE, is_assumption=True,
                     note="ASSUMPTION", created_at=CREATED),
                dict(id=new, accelerator_type="h800", price_per_gpu_hour=Decimal("30.00"),
                     currency="HKD", valid_from=CHANGE, valid_to=None, is_assumption=False,
                     note="", created_at=CREATED),
            ],
        )  # fmt: skip
        c.execute(
            sa.insert(_qos).values(
                id=scavenger, qos="scavenger", multiplier=Decimal("0.5"), is_assumption=True,
                note="", created_at=CREATED,
            )
        )  # fmt: skip
    return old, new, scavenger


def test_old_prices_and_factors_become_versions_with_their_ids(engine: Engine) -> None:
    old, new, scavenger = _seed_previous_head(engine)
    upgrade(engine, THIS)
    # Read through the live price book, which knows today's schema (it also reads the
    # inventory's clusters, added after this revision): the later migrations leave prices be.
    upgrade(engine)
    with Session(engine) as session:
        book = PriceBook.load(session)
        before = book.at("h800", CHANGE.timestamp() - 1)
        after = book.at("h800", CHANGE.timestamp())
        assert before is not None
        assert after is not None
        assert (before.id, before.unit_price, before.valid_to) == (old, Decimal("28.00"), CHANGE)
        assert before.is_assumption
        assert (after.id, after.unit_price, after.valid_to) == (new, Decimal("30.00"), None)
        # The factor applied to every rating so far, so it is in force from the first price.
        factor, start, _ = book.multiplier_at("scavenger", EPOCH.timestamp())
        assert factor == Decimal("0.5")
        assert start == EPOCH.timestamp()
        assert {e.id for e in book.entries()} == {old, new, scavenger}
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as c:
        c.execute(sa.text("UPDATE price_version SET unit_price = 1"))


def test_downgrade_gives_the_old_rows_back(engine: Engine) -> None:
    old, new, scavenger = _seed_previous_head(engine)
    upgrade(engine, THIS)
    downgrade(engine, PREVIOUS)
    with engine.connect() as c:
        prices = {r.id: r for r in c.execute(sa.select(_price))}
        factors = {r.id: r for r in c.execute(sa.select(_qos))}
    assert set(prices) == {old, new}
    assert prices[old].valid_to == CHANGE
    assert prices[new].valid_to is None
    assert factors[scavenger].multiplier == Decimal("0.5")
