"""Fixtures every test may use: the decimal trap, a manual clock, and databases on both engines.

``db_engine`` is parametrised over SQLite and PostgreSQL, so every test that asks for
``session`` runs on both.  Each test runs inside a transaction that is rolled back
(``join_transaction_mode="create_savepoint"`` lets services and tests flush freely).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from computeport.db.engine import make_engine
from computeport.db.schema import create_schema
from computeport.kit import decimal_context
from computeport.kit.clock import ManualClock
from tests.support.databases import (
    drop_postgres_database,
    fresh_postgres_database,
    worker_suffix,
)
from tests.support.xdist_groups import pytest_collection_modifyitems  # noqa: F401 (a hook)

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
TRACES = SHARED / "traces"


@pytest.fixture(autouse=True)
def _trap_floats() -> None:
    decimal_context.install()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 10, 1, tzinfo=UTC))


@pytest.fixture(
    scope="session", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def db_engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    pg_url = None
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("db") / "test.sqlite3"
        engine = make_engine(f"sqlite:///{path}")
    else:
        pg_url = fresh_postgres_database(f"cp_test_{worker_suffix()}")
        engine = make_engine(pg_url)
    create_schema(engine)
    yield engine
    engine.dispose()
    if pg_url is not None:
        drop_postgres_database(pg_url)


@pytest.fixture
def session(db_engine: Engine) -> Iterator[Session]:
    """A session in a transaction rolled back after the test."""
    connection = db_engine.connect()
    outer = connection.begin()
    sess = Session(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    try:
        yield sess
    finally:
        sess.close()
        outer.rollback()
        connection.close()


@pytest.fixture(scope="session")
def traces_dir() -> Path:
    """The real traces in ../shared/traces (never copied into the repository)."""
    from tests.support.databases import require

    require(TRACES.is_dir(), f"traces folder {TRACES}")
    return TRACES
