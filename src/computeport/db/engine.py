"""Engines and sessions for SQLite (default) and PostgreSQL (production).

Services never commit: the request, command or job boundary owns the unit of work
(:func:`unit_of_work`).

Two kinds of transaction:

* a **write** transaction (:func:`make_session_factory`) takes SQLite's write lock up front
  (``BEGIN IMMEDIATE``), so a unit of work that reads and then writes never fails on a stale
  snapshot; writers queue behind each other;
* a **read-only** transaction (:func:`make_read_session_factory`, safe HTTP methods) is a plain
  deferred ``BEGIN`` on SQLite with ``PRAGMA query_only`` on, and ``READ ONLY`` on PostgreSQL: in
  WAL mode it reads one consistent snapshot and never waits for, nor blocks, a writer.  A write
  attempted in it fails at once (:class:`ReadOnlyTransaction` for ORM changes, the database's own
  error for anything else) rather than silently taking the write lock after reading.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

READ_ONLY = "computeport_read_only"
"""Execution option (and ``Session.info`` key) that marks a read-only transaction."""


class ReadOnlyTransaction(RuntimeError):
    """Something tried to write in a read-only (safe-method) unit of work: a programming error."""


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    # A write transaction is IMMEDIATE: it takes the write lock up front, because a deferred
    # transaction that read first cannot upgrade a stale WAL snapshot and fails at once with
    # "database is locked" (busy_timeout does not apply), whereas an immediate one simply waits
    # its turn.  A read-only transaction is deferred: a WAL reader never waits for the writer.
    # query_only is a per-connection flag, so every BEGIN sets it (pooled connections are reused
    # by both kinds).
    # Statements that cannot fail go straight to the driver (SQLAlchemy's execution path costs
    # more than they do); BEGIN IMMEDIATE can ("database is locked"), so it goes through
    # SQLAlchemy, whose exceptions callers catch.
    driver = connection.connection.driver_connection
    if connection.get_execution_options().get(READ_ONLY):
        driver.execute("PRAGMA query_only=ON")
        driver.execute("BEGIN")
    else:
        driver.execute("PRAGMA query_only=OFF")
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url``; SQLite gets foreign keys, WAL and a busy timeout."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "isolation_level": None}, **kwargs
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite's own transaction handling breaks SAVEPOINTs; let SQLAlchemy emit BEGIN.
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions for units of work that may write (SQLite: ``BEGIN IMMEDIATE``)."""
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


def make_read_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions for read-only units of work: no write lock, and writes refused.

    The engine is the same (same pool); only the transaction differs.  The ORM's changes are
    refused before any SQL is sent (:func:`refuse_writes`); PostgreSQL's ``READ ONLY`` and
    SQLite's ``query_only`` refuse the rest.
    """
    options: dict[str, Any] = {READ_ONLY: True}
    if engine.dialect.name == "postgresql":
        options["postgresql_readonly"] = True
    factory = sessionmaker(
        bind=engine.execution_options(**options),
        expire_on_commit=False,
        autoflush=True,
        info={READ_ONLY: True},
    )
    event.listen(factory, "before_flush", refuse_writes)
    return factory


def refuse_writes(session: Session, _context: Any, _instances: Any) -> None:
    """``before_flush`` guard of a read-only session (``session.info[READ_ONLY]``)."""
    if not session.info.get(READ_ONLY):
        return
    dirty = [o for o in session.dirty if session.is_modified(o)]
    if session.new or dirty or session.deleted:
        changed = sorted({type(o).__name__ for o in (*session.new, *dirty, *session.deleted)})
        raise ReadOnlyTransaction(
            f"a read-only request tried to write ({', '.join(changed)}); "
            "writes belong to POST/PUT/PATCH/DELETE"
        )


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """Commit on success, roll back on any error: the boundary of one command or job."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
