"""``computeport gateway``: a deployment, a key shown once, listed by prefix, revoked; bad input
named with exit code 2 and nothing written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from computeport.models.inference import GatewayBudget, GatewayKey, ModelDeployment
from tests.support.cli import count_rows, run, sqlite_cli


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    return sqlite_cli(tmp_path, monkeypatch)


def test_deploy_issue_list_revoke(cli: CliRunner) -> None:
    run(cli, "org", "create", "Digital Policy Office", "--category", "government")
    up = ["--upstream", "http://10.0.0.5:8000/v1", "--upstream", "http://10.0.0.6:8000/v1"]
    out = run(cli, "gateway", "deploy", "qwen2.5-72b-instruct", "--org", "Digital Policy Office",
              *up)  # fmt: skip
    assert "2 upstream(s)" in out
    out = run(cli, "gateway", "deploy", "whisper-1", "--org", "Digital Policy Office",
              "--upstream", "http://10.0.0.7:8000/v1", "--modality", "speech")  # fmt: skip
    assert "whisper-1 (speech)" in out
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
    out = run(cli, "gateway", "deploy", "w", "--org", "Dept", "--upstream", "http://z/v1",
              "--modality", "audio", code=2)  # fmt: skip
    assert "modality" in out
    assert count_rows(ModelDeployment) == 1
    out = run(cli, "gateway", "key", "issue", "--org", "Dept", "--application", " ", code=2)
    assert "application" in out
    assert count_rows(GatewayKey) == 0
    assert "no award" in run(cli, "gateway", "allowance", "AISS-0", "--monthly-tokens", "5",
                             code=2)  # fmt: skip
    assert "is not an id" in run(cli, "gateway", "key", "revoke", "xyz", code=2)


def test_budgets_set_shown_and_bad_amounts_refused(cli: CliRunner) -> None:
    run(cli, "org", "create", "Dept", "--category", "government")
    run(cli, "gateway", "key", "issue", "--org", "Dept", "--application", "assistant")
    out = run(cli, "gateway", "budget", "set", "--org", "Dept", "--scope", "application",
              "--application", "assistant", "--hkd", "1500.50")  # fmt: skip
    assert "HK$1,500.50 a month" in out
    shown = run(cli, "gateway", "budget", "show", "--org", "Dept")
    assert "HK$1,500.50" in shown
    assert "Asia/Hong_Kong" in shown
    assert "resets at" in shown
    out = run(cli, "gateway", "budget", "set", "--org", "Dept", "--scope", "department",
              "--hkd", "1.005", code=2)  # fmt: skip
    assert "--hkd" in out
    assert "fraction of a cent" in out
    out = run(cli, "gateway", "budget", "set", "--org", "Dept", "--scope", "key",
              "--hkd", "10", code=2)  # fmt: skip
    assert "key_id" in out
    assert count_rows(GatewayBudget) == 1
    run(cli, "gateway", "budget", "set", "--org", "Dept", "--scope", "application",
        "--application", "assistant", "--remove")  # fmt: skip
    assert count_rows(GatewayBudget) == 0


def test_launch_names_what_is_missing_before_anything_is_submitted(
    cli: CliRunner, tmp_path: Path
) -> None:
    conf = tmp_path / "slurm.conf"
    conf.write_text("ClusterName=nowhere\n")  # no daemon: nothing may reach it
    slurm = ["--conf", str(conf), "--model-path", "m"]
    out = run(cli, "gateway", "launch", "ghost", *slurm, code=2)
    assert "no deployment 'ghost'" in out
    run(cli, "org", "create", "Dept", "--category", "government")
    run(cli, "gateway", "deploy", "m", "--org", "Dept", "--upstream", "http://x/v1")
    out = run(cli, "gateway", "launch", "m", *slurm, code=2)
    assert "needs an active award" in out
