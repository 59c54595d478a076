"""``computeport lab replay`` on a Slurm deployment's usage records: answer, exports, bad input."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from computeport.cli.main import app
from computeport.db.engine import make_engine, make_session_factory
from computeport.db.schema import create_schema
from computeport.models.identity import Organisation, OrganisationCategory
from computeport.models.lab import LabStudy
from computeport.models.metering import UsageRecord

T0 = datetime(2026, 9, 1, tzinfo=UTC)


def _usage(url: str) -> None:
    """Two organisations; 40 jobs of 1,024 GPUs each queue on the 3,040-GPU inventory."""
    engine = make_engine(url)
    create_schema(engine)
    with make_session_factory(engine)() as session:
        for name, category, account in (
            ("Lands Department", OrganisationCategory.GOVERNMENT, "org_lands"),
            ("Kowloon AI", OrganisationCategory.ENTERPRISE, "org_kowloon"),
        ):
            session.add(
                Organisation(name=name, category=category, slurm_account=account, created_at=T0)
            )
        start = T0
        for i in range(40):
            submit = T0 + timedelta(minutes=10 * i)
            start = max(start, submit)
            end = start + timedelta(hours=2)
            session.add(
                UsageRecord(
                    cluster="aisc",
                    job_id=str(i),
                    submit_time=submit,
                    digest="d",
                    account="org_lands" if i % 3 == 0 else "org_kowloon",
                    user_name="u",
                    partition="gpu",
                    qos="paid",
                    accelerator_type="h800",
                    gpus=1024,
                    start_time=start,
                    end_time=end,
                    state="COMPLETED",
                    gpu_seconds=1024 * 7200,
                    ingested_at=end,
                )
            )
            if i % 2:
                start = end
        session.commit()
    engine.dispose()


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[CliRunner, str]:
    url = f"sqlite:///{tmp_path / 'lab.sqlite3'}"
    _usage(url)
    monkeypatch.setenv("COMPUTEPORT_DATABASE_URL", url)
    monkeypatch.setenv("COMPUTEPORT_BACKEND", "slurm")
    return CliRunner(), url


def _saved(url: str) -> int:
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        count = session.scalar(select(func.count()).select_from(LabStudy)) or 0
    engine.dispose()
    return count


def test_a_replay_answers_exports_draws_and_saves(
    cli: tuple[CliRunner, str], tmp_path: Path
) -> None:
    runner, url = cli
    out = tmp_path / "study.json"
    result = runner.invoke(
        app,
        ["lab", "replay", "--from", "2026-09-01", "--to", "2026-09-02",
         "--change", "reserve=government:40", "--change", "nodes=+128",
         "--json", str(out), "--csv", str(tmp_path / "study.csv"),
         "--plot", str(tmp_path / "study.png"), "--save"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "baseline vs what happened" in result.output
    study = json.loads(out.read_text())
    names = [s["name"] for s in study["scenarios"]]
    assert names == ["baseline", "reserve=government:40", "nodes=+128"]
    base, _reserved, bigger = study["scenarios"]
    assert bigger["overall"]["wait_mean_s"] < base["overall"]["wait_mean_s"]
    gov = {
        s["name"]: g
        for s in study["scenarios"]
        for g in s["by_category"]
        if g["group"] == "government"
    }
    assert gov["reserve=government:40"]["wait_mean_s"] <= gov["baseline"]["wait_mean_s"]
    assert (tmp_path / "study.csv").read_text().startswith("scenario,grouping,group")
    assert (tmp_path / "study.png").read_bytes()[:4] == b"\x89PNG"
    assert _saved(url) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "2026-09-01", "--to", "2026-08-01"], "--to must be after --from"),
        (["--from", "01/09/2026", "--to", "2026-09-02"], "--from must be a date"),
        (["--from", "2025-01-01", "--to", "2025-02-01"], "no jobs"),
        (["--from", "2026-09-01", "--to", "2026-09-02", "--change", "gpu_cap=Nobody:8"],
         "unknown organisation 'Nobody'"),
        (["--from", "2026-09-01", "--to", "2026-09-02", "--change", "nodes=-300"],
         "fewer than the largest job"),
    ],
)  # fmt: skip
def test_bad_input_exits_2_and_saves_nothing(
    cli: tuple[CliRunner, str], args: list[str], message: str
) -> None:
    runner, url = cli
    result = runner.invoke(app, ["lab", "replay", *args, "--save"])
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())
    assert _saved(url) == 0


def test_a_policy_file_with_an_unknown_key_names_its_line(
    cli: tuple[CliRunner, str], tmp_path: Path
) -> None:
    runner, url = cli
    policy = tmp_path / "policy.toml"
    policy.write_text('backfill = "easy"\n\n[weights]\nage = 1000\nfairness = 3\n')
    result = runner.invoke(
        app, ["lab", "replay", "--from", "2026-09-01", "--to", "2026-09-02",
              "--policy", str(policy), "--save"],
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    said = " ".join(result.output.split())
    assert "line 5: unknown key 'fairness' in the weights table" in said
    assert _saved(url) == 0
