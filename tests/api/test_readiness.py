"""``/healthz`` and ``/readyz`` on both engines: each check named and timed, 503 when not ready."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from computeport.api.app import create_app
from computeport.backends import ClusterBackend
from computeport.backends.types.inventory import PartitionInfo
from computeport.db.engine import make_session_factory
from computeport.db.migrate import upgrade
from computeport.http.state import AppState
from computeport.kit.clock import ManualClock
from computeport.settings import Settings
from tests.support.migrations import database_url, engine_for, upgrade_to_previous_head

KINDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


class Partitions:
    """The one call readiness makes of a back end: answers, or fails like a dead slurmctld."""

    cluster = "test"

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error

    def partitions(self) -> list[PartitionInfo]:
        if self.error is not None:
            raise self.error
        return []


@pytest.fixture(params=KINDS)
def empty(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    with database_url(request.param, "cp_ready", tmp_path) as url, engine_for(url) as engine:
        yield engine


def client_for(engine: Engine, backend: Any = None) -> TestClient:
    settings = Settings(database_url=engine.url.render_as_string(hide_password=False))
    state = AppState(
        settings,
        engine,
        make_session_factory(engine),
        ManualClock(datetime(2026, 10, 1, tzinfo=UTC)),
        backend if backend is None else _as_backend(backend),
    )
    return TestClient(create_app(settings, state))


def _as_backend(fake: Partitions) -> ClusterBackend:
    # readiness calls only ``cluster`` and ``partitions``; the rest of the protocol is unused
    return fake  # type: ignore[return-value]


def test_ready_at_head_with_every_check_named_and_timed(empty: Engine) -> None:
    upgrade(empty)
    answer = client_for(empty, Partitions()).get("/readyz")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"] == "ready"
    assert body["failing"] == []
    assert [c["name"] for c in body["checks"]] == ["database", "migrations", "backend"]
    for check in body["checks"]:
        assert check["ok"] is True
        assert check["error"] is None
        assert 0 <= check["seconds"] < 30


def test_a_database_behind_the_newest_migration_is_not_ready(empty: Engine) -> None:
    head, _parents = upgrade_to_previous_head(empty)
    client = client_for(empty)
    answer = client.get("/readyz")
    assert answer.status_code == 503, answer.text
    body = answer.json()
    assert body["failing"] == ["migrations"]
    (migrations,) = [c for c in body["checks"] if c["name"] == "migrations"]
    assert head in migrations["error"]
    assert "computeport db upgrade" in migrations["error"]
    assert client.get("/healthz").status_code == 200  # alive all the same: do not restart it
    upgrade(empty)
    assert client.get("/readyz").status_code == 200


def test_a_database_migrated_by_a_newer_version_is_ready(empty: Engine) -> None:
    """Expand-then-contract: after ``db upgrade`` the previous version still serves."""
    upgrade(empty)
    with empty.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999_from_the_future'"))
    answer = client_for(empty).get("/readyz")
    assert answer.status_code == 200, answer.text


def test_a_back_end_that_does_not_answer_is_named(empty: Engine) -> None:
    upgrade(empty)
    answer = client_for(empty, Partitions(OSError("slurmctld: connection refused"))).get("/readyz")
    assert answer.status_code == 503
    body = answer.json()
    assert body["failing"] == ["backend"]
    assert body["checks"][2]["error"] == "OSError: slurmctld: connection refused"


def test_an_unreachable_database_is_named() -> None:
    # nothing listens on port 1; the driver fails at connect
    with engine_for("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2") as engine:
        answer = client_for(engine).get("/readyz")
    assert answer.status_code == 503
    assert answer.json()["failing"] == ["database", "migrations"]
    assert answer.json()["checks"][1]["error"] == "database unreachable"
