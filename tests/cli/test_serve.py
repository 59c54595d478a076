"""``computeport serve --workers N``: N processes from the app factory, never on SQLite."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from computeport.cli import serve
from computeport.cli.main import app

PG = "postgresql+psycopg://computeport@db.example/computeport"
SECRET = "serve-test-secret-key-not-the-published-default-0123456789"


def test_more_than_one_process_on_sqlite_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPUTEPORT_DATABASE_URL", "sqlite:///var/computeport.sqlite3")
    started: list[int] = []
    monkeypatch.setattr(serve, "run_workers", lambda *a, **k: started.append(1))
    result = CliRunner().invoke(app, ["serve", "--workers", "2"])
    assert result.exit_code == 2, result.output
    assert "--workers 2 needs PostgreSQL" in result.output
    assert "COMPUTEPORT_DATABASE_URL" in result.output
    assert started == []


@pytest.mark.parametrize("workers", [0, -3])
def test_no_processes_is_bad_usage(monkeypatch: pytest.MonkeyPatch, workers: int) -> None:
    monkeypatch.setenv("COMPUTEPORT_DATABASE_URL", PG)
    monkeypatch.setenv("COMPUTEPORT_SECRET_KEY", SECRET)
    result = CliRunner().invoke(app, ["serve", "--workers", str(workers)])
    assert result.exit_code == 2
    assert "at least 1" in result.output


def test_several_processes_on_postgresql_use_the_factory(monkeypatch: pytest.MonkeyPatch) -> None:
    """The processes build their apps from the environment: the factory's import path."""
    monkeypatch.setenv("COMPUTEPORT_DATABASE_URL", PG)
    monkeypatch.setenv("COMPUTEPORT_SECRET_KEY", SECRET)
    calls: list[dict[str, object]] = []

    def fake_uvicorn_run(target: object, **kwargs: object) -> None:
        calls.append({"target": target, **kwargs})

    import uvicorn

    monkeypatch.setattr(uvicorn, "run", fake_uvicorn_run)
    result = CliRunner().invoke(app, ["serve", "--workers", "3", "--port", "8123"])
    assert result.exit_code == 0, result.output
    (call,) = calls
    assert call["target"] == "computeport.cli.serve:app_factory"
    assert call["factory"] is True
    assert call["workers"] == 3
    assert call["port"] == 8123
    assert call["timeout_worker_healthcheck"] == serve.PROCESS_HEALTHCHECK_S
    module, name = str(call["target"]).split(":")
    assert getattr(__import__(module, fromlist=[name]), name) is serve.app_factory


def test_a_serving_process_freezes_the_heap_its_app_was_built_on(tmp_path: Path) -> None:
    """The factory (each ``--workers`` process) builds its app, then takes what is alive out
    of the cyclic collector's scans: a full collection no longer walks the whole app."""
    url = f"sqlite:///{tmp_path}/serve.sqlite3"
    code = (
        "import gc\n"
        "from computeport.cli.serve import app_factory\n"
        "from computeport.db.engine import make_engine\n"
        "from computeport.db.schema import create_schema\n"
        f"create_schema(make_engine({url!r}))\n"
        "app = app_factory()\n"
        "print(gc.get_freeze_count(), len(gc.get_objects()))\n"
    )
    env = {
        **os.environ,
        "COMPUTEPORT_DATABASE_URL": url,
        "COMPUTEPORT_INSECURE_DEV": "1",
    }
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    frozen, scanned = (int(n) for n in done.stdout.split()[-2:])
    assert frozen > 50_000  # modules, the app, its routes and mappers
    assert scanned < frozen / 10  # what a collection still walks
