"""Migration 0017 on a database with rated usage: the per-cluster rollups come out filled.

Built at head with a month of usage ingested and posted (the poster folds the rollups), taken
down to 0011 (the tables and their cursor gone, the charges kept), then upgraded again: the
migration's own fill gives the same rows the poster's folds gave, and its cursor stands at the
last charge, so the next fold adds nothing twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from tests.factories import billing as fb
from tests.support.databases import drop_postgres_database, fresh_postgres_database, worker_suffix

from computeport.billing.posting import post_all
from computeport.db.engine import make_engine
from computeport.db.migrate import downgrade, upgrade
from computeport.kit.clock import ManualClock
from computeport.metering.ingest import ingest_usage
from computeport.metering.rollups import refresh_usage_rollups

PREVIOUS = "0011_award_shares"
TABLES = ("cluster_usage_rollup", "cluster_wait_rollup")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    url = (
        f"sqlite:///{tmp_path / 'migrate.sqlite3'}"
        if request.param == "sqlite"
        else fresh_postgres_database(f"cp_migrate_site_views_{worker_suffix()}")
    )
    made = make_engine(url)
    yield made
    made.dispose()
    if request.param != "sqlite":
        drop_postgres_database(url)


def _snapshot(engine: Engine) -> dict[str, set[tuple[object, ...]]]:
    with engine.connect() as connection:
        return {
            t: {tuple(r) for r in connection.execute(sa.text(f"SELECT * FROM {t}"))} for t in TABLES
        }


def test_the_upgrade_fills_the_cluster_rollups_as_the_poster_did(engine: Engine) -> None:
    upgrade(engine)
    clock = ManualClock(datetime(2026, 11, 2, tzinfo=UTC))
    with Session(engine) as session, session.begin():
        world = fb.World(session, clock)
        ingest_usage(session, clock, world.october())
        post_all(session, clock)
    folded = _snapshot(engine)
    assert folded["cluster_usage_rollup"]
    assert folded["cluster_wait_rollup"]

    downgrade(engine, PREVIOUS)
    assert not set(TABLES) & set(sa.inspect(engine).get_table_names())
    upgrade(engine)
    assert _snapshot(engine) == folded
    with Session(engine) as session, session.begin():
        refresh_usage_rollups(session)  # the cursor is at the last charge: nothing twice
    assert _snapshot(engine) == folded
