"""0016_cluster_marks: two new tables, up and down on both engines, nothing else touched.

Expand-only: going down drops ``cluster_health`` and ``award_cluster_limit`` (the marks are
re-learnt by the worker's next round: health at its next run, limits at the next confirmed
reconcile, and until then a cluster's raise waits, which is the safe side), and going up again
gives empty tables; the ingest marks (``ingest_cursor``) are older and stay.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect, text
from tests.support.databases import drop_postgres_database, fresh_postgres_database, worker_suffix

from computeport.db.engine import make_engine
from computeport.db.migrate import current_revision, downgrade, upgrade

NEW = {"cluster_health", "award_cluster_limit"}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    url = (
        f"sqlite:///{tmp_path / 'marks.sqlite3'}"
        if request.param == "sqlite"
        else fresh_postgres_database(f"cp_marks_{worker_suffix()}")
    )
    made = make_engine(url)
    yield made
    made.dispose()
    if request.param != "sqlite":
        drop_postgres_database(url)


def test_down_to_0011_and_up_again(engine: Engine) -> None:
    upgrade(engine, "0016_cluster_marks")
    assert set(inspect(engine).get_table_names()) >= NEW
    at = datetime(2026, 12, 1, tzinfo=UTC)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO cluster_health (cluster, state, checked_at, failing_duties)"
                " VALUES ('a', 'up', :at, '')"
            ),
            {"at": at},
        )
        connection.execute(
            text("INSERT INTO ingest_cursor (cluster, high_water, recent) VALUES ('a', :at, '{}')"),
            {"at": at},
        )
    downgrade(engine, "0011_award_shares")
    assert current_revision(engine) == "0011_award_shares"
    tables = set(inspect(engine).get_table_names())
    assert not NEW & tables
    assert "ingest_cursor" in tables
    upgrade(engine, "0016_cluster_marks")
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM cluster_health")).scalar() == 0
        assert connection.execute(text("SELECT count(*) FROM ingest_cursor")).scalar() == 1
