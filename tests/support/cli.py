"""The CLI under test on a throw-away SQLite file: the runner, its console's width, row counts.

The CLI's Rich consoles are made once, at import, and read ``COLUMNS`` then: an environment
variable set by a later test comes too late (and one set before import by the shell fixes the
width for good), so tables wrap differently by test order.  :func:`sqlite_cli` sizes the
consoles themselves for the test's duration.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from computeport.cli import common
from computeport.cli.main import app
from computeport.db.engine import make_engine
from computeport.db.schema import create_schema


def sqlite_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, width: int = 220) -> CliRunner:
    """A runner whose commands use a fresh schema in ``tmp_path``; one table row per line."""
    return database_cli(f"sqlite:///{tmp_path / 'cli.sqlite3'}", monkeypatch, width=width)


def database_cli(url: str, monkeypatch: pytest.MonkeyPatch, *, width: int = 220) -> CliRunner:
    """A runner whose commands use the empty database at ``url`` (either engine), schema made."""
    engine = make_engine(url)
    create_schema(engine)
    engine.dispose()
    monkeypatch.setenv("COMPUTEPORT_DATABASE_URL", url)
    monkeypatch.setattr(common.console, "width", width)
    monkeypatch.setattr(common.err_console, "width", width)
    return CliRunner()


def run(cli: CliRunner, *args: str, code: int = 0) -> str:
    """Run one command and require its exit code; its output."""
    result = cli.invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result.output


def count_rows(model: type[object]) -> int:
    """Rows of ``model`` in the database the CLI under test uses."""
    engine = make_engine(os.environ["COMPUTEPORT_DATABASE_URL"])
    try:
        with Session(engine) as session:
            return int(session.scalar(select(func.count()).select_from(model)) or 0)
    finally:
        engine.dispose()
