"""The operator's CLI end to end: organisation, users, scheme, call, application, review."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from computeport.cli.main import app
from computeport.db.engine import make_engine
from computeport.db.schema import create_schema


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    engine = make_engine(url)
    create_schema(engine)
    engine.dispose()
    monkeypatch.setenv("COMPUTEPORT_DATABASE_URL", url)
    monkeypatch.setenv("COMPUTEPORT_ATTACHMENTS_DIR", str(tmp_path / "files"))
    return CliRunner()


def run(cli: CliRunner, *args: str, code: int = 0) -> str:
    result = cli.invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result.output


RUBRIC = [
    "--criterion", "alignment:0.25:Alignment with I&T",
    "--criterion", "reasonableness:0.20:Reasonableness of compute",
    "--criterion", "capability:0.20:Capability*",
    "--criterion", "team:0.15:Team*",
    "--criterion", "impact:0.20:Impact*",
]  # fmt: skip


def test_walk_an_application_through_the_cli(cli: CliRunner, tmp_path: Path) -> None:
    run(cli, "org", "create", "Harbour AI Ltd", "--category", "enterprise")
    run(cli, "user", "create", "ann@harbour.ai", "--name", "Ann", "--posix", "ann",
        "--role", "org_admin", "--org", "Harbour AI Ltd")  # fmt: skip
    run(cli, "user", "create", "olive@aisc.hk", "--name", "Olive", "--posix", "olive",
        "--role", "scheme_officer")  # fmt: skip
    run(cli, "user", "create", "rex@aisc.hk", "--name", "Rex", "--posix", "rex",
        "--role", "reviewer")  # fmt: skip
    token = run(cli, "token", "create", "ann@harbour.ai", "--name", "laptop").strip()
    assert token.startswith("cpt_")
    run(cli, "scheme", "create", "AISS", "--name", "AI Subsidy Scheme",
        "--envelope", "3,000,000,000", "--start", "2024-10-01", "--end", "2027-10-01",
        *RUBRIC)  # fmt: skip
    assert "25%" in run(cli, "scheme", "show", "AISS")
    run(cli, "scheme", "open-call", "AISS", "Rolling 2026", "--opens", "2026-01-01")
    reference = run(
        cli, "app", "create", "--as", "ann@harbour.ai", "--scheme", "AISS",
        "--org", "Harbour AI Ltd", "--title", "Cantonese LLM", "--sector", "public services",
        "--accelerator", "h800", "--gpus", "64", "--gpu-hours", "60000", "--months", "6",
        "--params", "7000000000", "--tokens", "2000000000000",
        "--abstract", "A model.", "--justification", "Pre-training.",
        "--now", "2026-03-01T00:00:00Z",
    ).strip()  # fmt: skip
    assert reference == "AISS-2026-0001"
    proposal = tmp_path / "proposal.pdf"
    proposal.write_bytes(b"%PDF-1.7\nhello")
    assert "sha256" in run(cli, "app", "attach", reference, str(proposal), "--as", "ann@harbour.ai")
    run(cli, "app", "move", reference, "submitted", "--as", "ann@harbour.ai",
        "--now", "2026-03-02T00:00:00Z")  # fmt: skip
    run(cli, "app", "move", reference, "under_review", "--as", "olive@aisc.hk")
    run(cli, "review", "assign", reference, "rex@aisc.hk", "--as", "olive@aisc.hk")
    run(cli, "review", "score", reference, "alignment=8", "--as", "rex@aisc.hk", code=2)
    run(cli, "review", "declare", reference, "--as", "rex@aisc.hk")
    run(cli, "review", "score", reference, "alignment=8", "reasonableness=6", "capability=7",
        "team=9", "impact=5", "--as", "rex@aisc.hk")  # fmt: skip
    run(cli, "review", "submit", reference, "--as", "rex@aisc.hk")
    assert "6.95" in run(cli, "review", "panel", reference, "--as", "olive@aisc.hk")
    shown = run(cli, "app", "show", reference)
    assert "under_review" in shown
    assert "58,953" in shown


def test_bad_input_exits_2_with_the_field(cli: CliRunner) -> None:
    out = run(
        cli, "scheme", "create", "AISS", "--name", "x", "--envelope", "100",
        "--start", "2024-10-01", "--end", "2027-10-01",
        "--criterion", "a:0.5:A", "--criterion", "b:0.4:B", code=2,
    )  # fmt: skip
    assert "sum to exactly 1" in out
    assert "not an ISO 8601" in run(cli, "scheme", "open-call", "X", "R", "--opens", "soon", code=2)
    assert "--as" in run(cli, "app", "move", "AISS-2026-0001", "submitted", code=2)


def test_estimate(cli: CliRunner) -> None:
    out = run(cli, "app", "estimate", "--params", "7000000000", "--tokens", "2000000000000")
    assert "58,953 GPU-hours" in out
    assert "40%" in out
    assert "unknown accelerator" in run(
        cli, "app", "estimate", "--params", "1", "--tokens", "1", "--accelerator", "z9", code=2
    )
