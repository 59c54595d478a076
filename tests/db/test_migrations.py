"""The Alembic migrations build exactly the schema the models describe, on both engines.

This is the project's ``alembic check``: a model change without a migration fails here.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect
from tests.support.databases import drop_postgres_database, fresh_postgres_database, worker_suffix

from computeport.db.base import Base
from computeport.db.engine import make_engine
from computeport.db.migrate import current_revision, downgrade, upgrade


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    url = (
        f"sqlite:///{tmp_path / 'migrate.sqlite3'}"
        if request.param == "sqlite"
        else fresh_postgres_database(f"cp_migrate_{worker_suffix()}")
    )
    engine = make_engine(url)
    yield engine
    engine.dispose()
    if request.param != "sqlite":
        drop_postgres_database(url)


def test_upgrade_to_head_matches_the_models(empty_engine: Engine) -> None:
    upgrade(empty_engine)
    assert current_revision(empty_engine) is not None
    with empty_engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == [], f"models and migrations differ: {diff}"


def test_downgrade_to_base_removes_every_table(empty_engine: Engine) -> None:
    upgrade(empty_engine)
    downgrade(empty_engine, "base")
    assert set(inspect(empty_engine).get_table_names()) <= {"alembic_version"}
