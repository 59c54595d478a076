"""``computeport slurm``: the desired-state file and the errors that need no cluster."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from computeport.backends import AwardState
from computeport.cli.slurm import app, load_desired_file
from computeport.kit.errors import ValidationFailed

runner = CliRunner()


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "desired.yaml"
    path.write_text(text)
    return path


def test_a_desired_file_is_read(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "awards:\n"
        "  - {account: aw1, organisation: org_a, members: [alice, bob], gpu_minutes: 600}\n"
        "  - {account: aw2, organisation: org_a, members: [], gpu_minutes: 0,"
        " gpu_cap: 8, state: paused}\n",
    )
    desired = load_desired_file(path)
    first, second = desired.allocations
    assert first.members == {"alice", "bob"}
    assert first.gpu_cap is None
    assert (second.gpu_cap, second.state) == (8, AwardState.PAUSED)
    assert desired.org_accounts == ("org_a",)


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("awards: [{account: aw1}]", "awards[0].organisation"),
        ("awards: [{account: 'Bad', organisation: o, gpu_minutes: 1}]", "awards[0].account_name"),
        ("awards: [{account: a1, organisation: o, gpu_minutes: lots}]", "awards[0]"),
        ("awards: [{account: a1, organisation: o, gpu_minutes: 1, state: gone}]", "awards[0]"),
        (
            "awards: [{account: a1, organisation: o, gpu_minutes: 1, members: bob}]",
            "awards[0].members",
        ),
        ("nothing: here", "awards"),
    ],
)
def test_a_bad_desired_file_names_the_entry_and_field(
    tmp_path: Path, text: str, field: str
) -> None:
    with pytest.raises(ValidationFailed) as err:
        load_desired_file(write(tmp_path, text))
    assert err.value.field == field


def test_the_cli_reports_bad_input_with_exit_code_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["status", "--conf", str(tmp_path / "missing.conf")])
    assert result.exit_code == 2
    assert "does not exist" in " ".join(result.output.split())
    bad = write(tmp_path, "awards: [{account: aw1}]")
    result = runner.invoke(app, ["reconcile", "--dry-run", "--desired", str(bad)])
    assert result.exit_code == 2
    assert "lacks 'organisation'" in " ".join(result.output.split())
    result = runner.invoke(app, ["ingest", "--since", "yesterday"])
    assert result.exit_code == 2
