"""``computeport worker``: SQLite's one-worker rule at the command line, and ``worker status``."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from computeport.cli.main import app
from computeport.db.engine import make_engine, make_session_factory, unit_of_work
from computeport.db.schema import create_schema
from computeport.models.worker import DutyLease, WorkerProcess

SECRET = "worker-cli-test-secret-key-not-the-published-default"


@pytest.fixture
def url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'worker.sqlite3'}"
    engine = make_engine(url)
    create_schema(engine)
    now = datetime.now(UTC)
    with unit_of_work(make_session_factory(engine)) as session:
        session.add(
            WorkerProcess(
                id="elsewhere-1", host="other-host", pid=4242, started_at=now, heartbeat_at=now
            )
        )
        session.add(DutyLease(duty="post-usage", holder="elsewhere-1", token=3, last_error="boom"))
    engine.dispose()
    monkeypatch.setenv("COMPUTEPORT_DATABASE_URL", url)
    monkeypatch.setenv("COMPUTEPORT_SECRET_KEY", SECRET)
    return url


def test_a_second_worker_on_sqlite_is_refused_with_exit_code_2(url: str) -> None:
    result = CliRunner().invoke(app, ["worker", "run", "--no-cluster"])
    assert result.exit_code == 2, result.output
    assert "SQLite allows one worker; use PostgreSQL for more" in " ".join(result.output.split())


def test_status_lists_the_workers_and_the_duties(url: str) -> None:
    result = CliRunner().invoke(app, ["worker", "status"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "elsewhere-1" in result.output
    assert "other-host" in result.output
    assert "post-usage" in result.output
    assert "boom" in result.output


def test_an_unknown_duty_is_refused_naming_the_field(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    create_schema(make_engine(url))
    monkeypatch.setenv("COMPUTEPORT_DATABASE_URL", url)
    monkeypatch.setenv("COMPUTEPORT_SECRET_KEY", SECRET)
    result = CliRunner().invoke(app, ["worker", "run", "--no-cluster", "--duty", "nap"])
    assert result.exit_code == 2, result.output
    assert "duty: unknown duty nap" in " ".join(result.output.split())


def test_the_published_secret_key_is_refused_off_the_embedded_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker signs nothing itself, but it runs a deployment's duties: it refuses the published
    key as ``serve`` does, so a forgotten key is caught whichever process starts first."""
    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    create_schema(make_engine(url))
    monkeypatch.setenv("COMPUTEPORT_DATABASE_URL", url)
    monkeypatch.delenv("COMPUTEPORT_SECRET_KEY", raising=False)
    result = CliRunner().invoke(app, ["worker", "run", "--no-cluster"])
    assert result.exit_code == 2, result.output
    assert "COMPUTEPORT_SECRET_KEY" in result.output
