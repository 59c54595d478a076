"""Rebuilding the rollups: the migration fills them for a database that already had charges, and
``computeport billing rollups --rebuild`` repairs them; both equal the incremental result."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from computeport.billing.posting import post_all
from computeport.cli.billing import app
from computeport.db.engine import make_engine, make_session_factory, unit_of_work
from computeport.db.migrate import downgrade, upgrade
from computeport.kit.clock import ManualClock
from computeport.metering.ingest import ingest_usage
from computeport.models.rollup import UsageRollup, UtilisationRollup, WaitRollup
from tests.factories import billing as fb
from tests.support.databases import drop_postgres_database, fresh_postgres_database, worker_suffix

NOW = datetime(2026, 11, 2, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'rollups.sqlite3'}"
        return
    found = fresh_postgres_database(f"cp_rollups_{worker_suffix()}")
    yield found
    drop_postgres_database(found)


def _posted(engine: Engine) -> None:
    upgrade(engine)
    clock = ManualClock(datetime(2026, 9, 1, tzinfo=UTC))
    with unit_of_work(make_session_factory(engine)) as session:
        world = fb.World(session, clock, "ROLL-1", "ROLL-2")
        clock.set(NOW)
        late = world.october()
        ingest_usage(session, clock, late[3:])
        post_all(session, clock, batch_size=4)
        ingest_usage(session, clock, late[:3])  # late: later ratings are reversed, re-rated
        post_all(session, clock, batch_size=4)


def _tables(engine: Engine) -> list[list[tuple[object, ...]]]:
    with Session(engine) as session:
        return [
            sorted((tuple(r) for r in session.execute(select(t.__table__)).all()), key=str)
            for t in (UsageRollup, UtilisationRollup, WaitRollup)
        ]


def _cli(url: str, *args: str) -> str:
    old = os.environ.get("COMPUTEPORT_DATABASE_URL")
    os.environ["COMPUTEPORT_DATABASE_URL"] = url
    try:
        result = CliRunner().invoke(app, list(args))
    finally:
        if old is None:
            del os.environ["COMPUTEPORT_DATABASE_URL"]
        else:
            os.environ["COMPUTEPORT_DATABASE_URL"] = old
    assert result.exit_code == 0, result.output
    return result.output


def test_the_migration_rolls_up_existing_charges(url: str) -> None:
    engine = make_engine(url)
    try:
        _posted(engine)
        incremental = _tables(engine)
        assert all(incremental)
        downgrade(engine, "0001")  # as if the charges predated the rollups
        upgrade(engine, "0002_usage_rollups")
        assert _tables(engine) == incremental
    finally:
        engine.dispose()


def test_the_cli_rebuilds_damaged_rollups(url: str) -> None:
    engine = make_engine(url)
    try:
        _posted(engine)
        incremental = _tables(engine)
        assert "already up to date" in _cli(url, "rollups")
        with unit_of_work(make_session_factory(engine)) as session:
            session.execute(delete(UsageRollup))
            session.execute(delete(WaitRollup))
            session.execute(
                delete(UtilisationRollup).where(UtilisationRollup.partial_gpu_seconds > 0)
            )
        assert _tables(engine) != incremental
        assert "rebuilt" in _cli(url, "rollups", "--rebuild")
        assert _tables(engine) == incremental
    finally:
        engine.dispose()
