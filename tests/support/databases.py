"""Test databases on both engines: a SQLite file and a PostgreSQL database per xdist worker.

PostgreSQL is found through ``COMPUTEPORT_TEST_DATABASE_URL`` (a URL to any database on the
server; per-worker databases are created beside it).  Where ``CI=true`` a missing PostgreSQL
fails the run instead of skipping.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from computeport.db.engine import make_engine
from computeport.db.schema import create_schema

PG_ENV = "COMPUTEPORT_TEST_DATABASE_URL"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require(condition: bool, what: str) -> None:
    """Skip locally, fail in CI: a missing service must never pass silently there."""
    if condition:
        return
    if in_ci():
        pytest.fail(f"{what} is required in CI but is not available", pytrace=False)
    pytest.skip(f"{what} not available")


def postgres_base_url() -> str | None:
    return os.environ.get(PG_ENV) or None


def fresh_postgres_database(name: str) -> str:
    """(Re)create database ``name`` on the test server; return its SQLAlchemy URL."""
    base = postgres_base_url()
    require(base is not None, f"PostgreSQL ({PG_ENV})")
    assert base is not None
    url = make_url(base)
    admin = make_engine(url.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :n AND pid <> pg_backend_pid()"
                ),
                {"n": name},
            )
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # server down or unreachable
        require(False, f"PostgreSQL at {url.host}:{url.port} ({exc.__class__.__name__})")
    finally:
        admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def worker_suffix() -> str:
    """Unique per pytest process, so parallel runs (xdist workers, checkouts) never share."""
    return f"{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{os.getpid()}"


def drop_postgres_database(url: str) -> None:
    """Drop the database a test run created (best effort: the server may be gone)."""
    parsed = make_url(url)
    name = parsed.database
    admin = make_engine(
        parsed.set(database="postgres").render_as_string(hide_password=False),
        isolation_level="AUTOCOMMIT",
    )
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    except Exception:
        pass
    finally:
        admin.dispose()


def dispose(engine: Engine) -> None:
    engine.dispose()


@contextmanager
def own_database(
    kind: str, prefix: str, *, tmp_path: Path | None = None, connections: int = 5
) -> Iterator[Engine]:
    """A database of the test's own with the schema, for tests whose commits are real (races,
    crash recovery, production's session factories): ``kind`` ``"sqlite"`` is a file under
    ``tmp_path``; ``"postgresql"`` a database made on the test server (room in the pool for
    ``connections`` racers) and dropped afterwards."""
    pg_url = None
    if kind == "sqlite":
        assert tmp_path is not None, "a SQLite database lives in the test's tmp_path"
        engine = make_engine(f"sqlite:///{tmp_path / f'{prefix}.sqlite3'}")
    else:
        pg_url = fresh_postgres_database(f"{prefix}_{worker_suffix()}")
        engine = make_engine(pg_url, pool_size=connections + 5, max_overflow=5)
    create_schema(engine)
    try:
        yield engine
    finally:
        engine.dispose()
        if pg_url is not None:
            drop_postgres_database(pg_url)
