"""Read-only and write transactions (``computeport.db.engine``).

The read-only kind is what GET requests run in: it must refuse writes on both engines, leave
the pooled connection usable for writes afterwards, and, on SQLite, neither wait for nor block
a writer.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, delete, event, func, select, text
from sqlalchemy.exc import DBAPIError

from computeport.db.engine import (
    ReadOnlyTransaction,
    make_engine,
    make_read_session_factory,
    make_session_factory,
    unit_of_work,
)
from computeport.db.schema import create_schema
from computeport.kit.slurm_names import organisation_account_name
from computeport.models.identity import Organisation, OrganisationCategory

WHEN = datetime(2026, 10, 1, tzinfo=UTC)


def _organisation(name: str) -> Organisation:
    return Organisation(
        name=name,
        category=OrganisationCategory.ENTERPRISE,
        slurm_account=organisation_account_name(name),
        created_at=WHEN,
    )


def test_read_only_session_refuses_orm_writes(db_engine: Engine) -> None:
    reads = make_read_session_factory(db_engine)
    with reads() as session:
        session.add(_organisation(f"ro-{uuid.uuid4()}"))
        with pytest.raises(ReadOnlyTransaction, match="Organisation"):
            session.flush()


def test_read_only_session_refuses_sql_writes(db_engine: Engine) -> None:
    """A write that bypasses the ORM is refused by the database itself."""
    reads = make_read_session_factory(db_engine)
    with reads() as session, pytest.raises(DBAPIError):
        session.execute(delete(Organisation).where(Organisation.name == "nobody"))


def test_a_pooled_connection_writes_again_after_a_read_only_transaction(
    db_engine: Engine,
) -> None:
    reads, writes = make_read_session_factory(db_engine), make_session_factory(db_engine)
    name = f"after-ro-{uuid.uuid4()}"
    with reads() as session:
        session.execute(select(func.count()).select_from(Organisation))
    try:
        with unit_of_work(writes) as session:
            session.add(_organisation(name))
        with reads() as session:
            assert session.scalar(select(Organisation.id).where(Organisation.name == name))
    finally:
        with unit_of_work(writes) as session:
            session.execute(delete(Organisation).where(Organisation.name == name))


@pytest.fixture
def wal_engine(tmp_path: Path) -> Iterator[Engine]:
    """A SQLite file database (WAL) whose busy timeout is short, so a wait fails fast."""
    engine = make_engine(f"sqlite:///{tmp_path / 'wal.sqlite3'}")

    def short_timeout(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA busy_timeout=200")

    event.listen(engine, "connect", short_timeout)  # after make_engine's 30 s default
    create_schema(engine)
    yield engine
    engine.dispose()


def test_sqlite_reader_neither_waits_for_nor_blocks_the_writer(wal_engine: Engine) -> None:
    """SQLite only (PostgreSQL's MVCC readers never block): while a writer holds the write lock
    with an uncommitted row, a read-only session reads the last committed state at once; and
    while that reader's snapshot is open, the writer commits."""
    reads = make_read_session_factory(wal_engine)
    writer = wal_engine.connect()
    try:
        transaction = writer.begin()  # a write transaction: BEGIN IMMEDIATE
        writer.execute(
            text(
                "INSERT INTO organisation (id, name, category, sector, slurm_account,"
                " is_assumption, created_at)"
                " VALUES (:id, 'pending', 'enterprise', 'general', 'org_pending', 0, :at)"
            ),
            {"id": uuid.uuid4().hex, "at": WHEN.isoformat()},
        )
        with reads() as session:
            assert session.scalar(select(func.count()).select_from(Organisation)) == 0
            transaction.commit()  # the open read snapshot does not stop it
            assert session.scalar(select(func.count()).select_from(Organisation)) == 0
        with reads() as session:
            assert session.scalar(select(func.count()).select_from(Organisation)) == 1
    finally:
        writer.close()


def test_sqlite_write_transactions_take_the_lock_up_front(wal_engine: Engine) -> None:
    """A write session waits for (here: times out on) the write lock before its first read,
    so it can never read a snapshot it is later unable to write on."""
    writes = make_session_factory(wal_engine)
    holder = wal_engine.connect()
    try:
        holder.begin()
        with writes() as session, pytest.raises(DBAPIError, match="locked"):
            session.execute(select(func.count()).select_from(Organisation))
    finally:
        holder.close()
