"""Databases one migration behind: "the head before the newest revision", found generically.

The upgrade tests (readiness, zero-downtime) must keep testing the newest migration whatever it
is, so they never name a revision: they read the scripts' head and step back to its parents.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from computeport.db.engine import make_engine
from computeport.db.migrate import alembic_config, current_revision, upgrade
from tests.support.databases import drop_postgres_database, fresh_postgres_database, worker_suffix


def previous_heads(engine: Engine) -> tuple[str, set[str]]:
    """(the newest revision, the revisions it revises): the head before the newest."""
    script = ScriptDirectory.from_config(alembic_config(engine))
    (head,) = script.get_heads()  # one head on main; parallel branches are joined by a merge
    parents = script.get_revision(head).down_revision
    assert parents is not None, "the newest revision is the first: nothing to step back to"
    return head, {parents} if isinstance(parents, str) else set(parents)


def upgrade_to_previous_head(engine: Engine) -> tuple[str, set[str]]:
    """Migrate ``engine``'s empty database to just before the newest revision."""
    head, parents = previous_heads(engine)
    for parent in sorted(parents):
        upgrade(engine, parent)
    assert set((current_revision(engine) or "").split(",")) == parents
    return head, parents


@contextmanager
def database_url(kind: str, prefix: str, tmp_path: Path) -> Iterator[str]:
    """An empty database of the test's own: a SQLite file, or one made on the PostgreSQL server
    (dropped afterwards)."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / f'{prefix}.sqlite3'}"
        return
    url = fresh_postgres_database(f"{prefix}_{worker_suffix()}")
    try:
        yield url
    finally:
        drop_postgres_database(url)


@contextmanager
def engine_for(url: str) -> Iterator[Engine]:
    engine = make_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()
