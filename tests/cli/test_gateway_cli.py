"""``computeport gateway``: a deployment, a key shown once, listed by prefix, revoked; bad input
named with exit code 2 and nothing written."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from computeport.cli.main import app
from computeport.db.engine import make_engine
from computeport.db.schema import create_schema
from computeport.models.inference import GatewayKey, ModelDeployment


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    engine = make_engine(url)
    create_schema(engine)
    engine.dispose()
    monkeypatch.setenv("COMPUTEPORT_DATABASE_URL", url)
    monkeypatch.setenv("COLUMNS", "220")
    return CliRunner()


def run(cli: CliRunner, *args: str, code: int = 0) -> str:
    result = cli.invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result.output


def count(model: type[object]) -> int:
    engine = make_engine(os.environ["COMPUTEPORT_DATABASE_URL"])
    try:
        with Session(engine) as session:
            return int(session.scalar(select(func.count()).select_from(model)) or 0)
    finally:
        engine.dispose()


def test_deploy_issue_list_revoke(cli: CliRunner) -> None:
    run(cli, "org", "create", "Digital Policy Office", "--category", "government")
    up = ["--upstream", "http://10.0.0.5:8000/v1", "--upstream", "http://10.0.0.6:8000/v1"]
    out = run(cli, "gateway", "deploy", "qwen2.5-72b-instruct", "--org", "Digital Policy Office",
              *up)  # fmt: skip
    assert "2 upstream(s)" in out
    out = run(cli, "gateway", "key", "issue", "--org", "Digital Policy Office",
              "--application", "assistant")  # fmt: skip
    key = re.search(r"cpk_[0-9a-f]{8}_\S{43}", out)
    assert key is not None
    key_id = re.search(r"key id=(\S+)", out)
    assert key_id is not None
    listed = run(cli, "gateway", "key", "list", "--org", "Digital Policy Office")
    assert key.group(0) not in listed  # shown once
    assert key.group(0)[4:12] in listed
    assert "revoked" in run(cli, "gateway", "key", "revoke", key_id.group(1))


def test_bad_input_is_named_and_nothing_is_written(cli: CliRunner) -> None:
    run(cli, "org", "create", "Dept", "--category", "government")
    out = run(cli, "gateway", "deploy", "m", "--org", "Nobody", "--upstream", "http://x/v1",
              code=2)  # fmt: skip
    assert "no organisation 'Nobody'" in out
    out = run(cli, "gateway", "deploy", "m", "--org", "Dept", "--upstream", "not a url", code=2)
    assert "upstreams" in out
    run(cli, "gateway", "deploy", "m", "--org", "Dept", "--upstream", "http://x/v1")
    out = run(cli, "gateway", "deploy", "m", "--org", "Dept", "--upstream", "http://y/v1", code=2)
    assert "exists" in out
    assert count(ModelDeployment) == 1
    out = run(cli, "gateway", "key", "issue", "--org", "Dept", "--application", " ", code=2)
    assert "application" in out
    assert count(GatewayKey) == 0
    assert "no award" in run(cli, "gateway", "allowance", "AISS-0", "--monthly-tokens", "5",
                             code=2)  # fmt: skip
    assert "is not an id" in run(cli, "gateway", "key", "revoke", "xyz", code=2)
