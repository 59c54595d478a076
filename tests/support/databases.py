"""Test databases on both engines: a SQLite file and a PostgreSQL database per xdist worker.

PostgreSQL is found through ``COMPUTEPORT_TEST_DATABASE_URL`` (a URL to any database on the
server; per-worker databases are created beside it).  Where ``CI=true`` a missing PostgreSQL
fails the run instead of skipping.
"""

from __future__ import annotations

import os

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from computeport.db.engine import make_engine

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
