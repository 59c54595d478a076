"""``computeport capacity plan``: a plan file and a plot; bad scenarios exit 2 naming the field."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from computeport.cli.main import app
from computeport.db.engine import make_engine
from computeport.kit.clock import ManualClock
from computeport.models.application import ApplicationStatus
from computeport.models.rollup import UsageRollup
from tests.factories import award as fw
from tests.support.cli import database_cli, run, sqlite_cli
from tests.support.databases import drop_postgres_database, fresh_postgres_database, worker_suffix

SCENARIO = """\
name = "tiny"
start = 2025-01-01
months = 2
reference_accelerator = "H800"

[[accelerators]]
name = "H800"
pflops_per_gpu = 0.99

[[sites]]
name = "A"

  [[sites.steps]]
  date = 2024-12-01
  accelerator = "H800"
  gpus = 32

[demand.organisations]
count = 4
growth_per_year = 0
active_share = 1.0
gpu_hours_per_active_org_month = {per_org}

[demand.workload]
trace = "jobs.csv"
format = "csv"
max_run_hours = 12

[evaluation]
seeds = 2
model = "coarse"
sample_days = 2
warmup_days = 0.5
aggregate_below_gpu_hours = 1
bundle_gpu_hours = 4

[recommend]
site = "A"
accelerator = "H800"
granularity_nodes = 1
cover_months = 2
search_seeds = 1
"""


def write(tmp_path: Path, per_org: str = "4000") -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(SCENARIO.replace("{per_org}", per_org))
    return path


def test_plan_writes_json_and_png(tmp_path: Path, small_trace: Path) -> None:
    out, png = tmp_path / "plan.json", tmp_path / "plan.png"
    result = CliRunner().invoke(
        app,
        [
            "capacity",
            "plan",
            str(write(tmp_path)),
            "--out",
            str(out),
            "--plot",
            str(png),
            "--seeds",
            "2",
            "--workers",
            "1",
        ],
    )
    assert result.exit_code == 0, result.output
    plan = json.loads(out.read_text())
    assert [m["label"] for m in plan["months"]] == ["2025-01", "2025-02"]
    assert plan["seeds"] == 2
    # 4 × 4,000 GPU-h on 32 GPUs (23,808 GPU-h in January): about two thirds busy, targets kept
    assert 0.5 < plan["months"][0]["utilisation"]["p50"] < 0.8
    assert plan["first_broken"] is None
    assert plan["recommendation"]["steps"] == []
    assert "targets hold" in result.output
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_overloaded_plan_recommends_a_step(tmp_path: Path, small_trace: Path) -> None:
    out = tmp_path / "plan.json"
    result = CliRunner().invoke(
        app,
        ["capacity", "plan", str(write(tmp_path, "10000")), "--out", str(out), "--workers", "1"],
    )
    assert result.exit_code == 0, result.output
    plan = json.loads(out.read_text())
    assert plan["first_broken"]["label"] == "2025-01"
    (step,) = plan["recommendation"]["steps"]
    assert (step["site"], step["date"]) == ("A", "2025-01-01")
    assert step["gpus"] % 8 == 0
    assert "Capacity runs out in 2025-01" in plan["answer"]


def test_bad_scenario_exits_2_naming_the_field(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(SCENARIO.replace("{per_org}", "4000").replace("gpus = 32", "gpus = -32"))
    result = CliRunner().invoke(app, ["capacity", "plan", str(path)])
    assert result.exit_code == 2
    assert "sites[0].steps[0].gpus" in result.output
    assert "(line 16)" in result.output


def test_missing_file_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["capacity", "plan", str(tmp_path / "nope.toml")])
    assert result.exit_code == 2
    assert "no such file" in " ".join(result.output.split())


def test_approve_sets_the_pending_batch_against_capacity(tmp_path: Path) -> None:
    text = (
        SCENARIO.replace("{per_org}", "100")
        + """
[[demand.awards]]
name = "big"
gpu_hours = 40000
start = 2025-02-01
end = 2025-03-01
accelerator = "H800"
status = "pending"
"""
    )
    path = tmp_path / "s.toml"
    path.write_text(text)
    result = CliRunner().invoke(app, ["capacity", "approve", str(path)])
    assert result.exit_code == 0, result.output
    flat = " ".join(result.output.split())
    assert "1 pending award(s)" in flat
    # 40,000 GPU-h in February against 32 GPUs × 672 h × 95 % = 20,428.8
    assert "does not fit from 2025-02" in flat


FLOWS = """
[demand.flows]
envelope_hkd = 1_000_000_000
list_price_hkd_per_gpu_hour = 30
subsidy_rate = 0.7
copay_elasticity = 0.5
approval_rates = { default = 0.33 }
decision_lead_months = 4.0
renewal_share = 0.5
entrant_award_share = 0.2
entrant_gpu_hours_month = 5_000
entrant_sigma = 0.5
entrant_months = 12
"""


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_db_cli(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[CliRunner]:
    """The CLI on a fresh database of each engine (the command opens its own connection, so a
    rolled-back test transaction would not do)."""
    if request.param == "sqlite":
        yield sqlite_cli(tmp_path, monkeypatch)
        return
    url = fresh_postgres_database(f"cp_cli_{worker_suffix()}")
    try:
        yield database_cli(url, monkeypatch)
    finally:
        drop_postgres_database(url)


def test_plan_from_the_database_fits_what_it_can_and_says_what_it_assumed(
    tmp_path: Path, small_trace: Path, any_db_cli: CliRunner
) -> None:
    cli = any_db_cli
    engine = make_engine(os.environ["COMPUTEPORT_DATABASE_URL"])
    with Session(engine) as session:
        scheme = fw.scheme(session)
        clock = ManualClock(datetime(2025, 11, 20, tzinfo=UTC))
        award = fw.approved_award(
            session, clock, scheme, gpu_hours=120_000, months=12,
            starts_at=datetime(2025, 12, 1, tzinfo=UTC),
        )  # fmt: skip
        for period, hours in (("2026-01", 5_000), ("2026-02", 9_000), ("2026-03", 10_000)):
            session.add(
                UsageRollup(
                    period=period,
                    organisation_id=award.organisation_id,
                    award_id=award.id,
                    qos="normal",
                    accelerator_type="h800",
                    gpu_seconds=hours * 3600,
                )
            )
        waiting = fw.application(session, scheme, status=ApplicationStatus.UNDER_REVIEW)
        waiting.submitted_at = datetime(2026, 2, 2, tzinfo=UTC)
        session.commit()
        open_app = waiting.reference
    engine.dispose()
    scenario = write(tmp_path, "400")
    scenario.write_text(scenario.read_text() + FLOWS)
    out = tmp_path / "plan.json"
    args = ["capacity", "plan", str(scenario), "--db", "--today", "2026-05-10"]
    text = run(cli, *args, "--seeds", "10", "--no-recommend", "--out", str(out))
    plan = json.loads(out.read_text())
    assert plan["start"] == "2026-05-01"  # the horizon starts at the database's today
    flows = plan["flows"]
    # no decided application on record (the factory decides without a submission) and no
    # ended award: too thin to measure a rate
    assert flows["approval_rates"] == {"default": 0.33}
    assert flows["decision_lead_months"] == 4.0
    assert "renewal share" in text
    why = {r["name"]: (r["fitted"], r["why"]) for r in plan["rate_sources"]}
    assert why["renewal share"] == (False, "0 ended awards (< 3): the scenario's assumption")
    assert why["decision lead time"] == (False, "0 decisions (< 5): the scenario's assumption")
    # the open application, expected from its decision (submitted + 4 months): June
    pipeline = [m["flows"]["pipeline"]["p90"] for m in plan["months"]]
    assert pipeline[0] == 0
    assert pipeline[1] > 0
    assert open_app


def test_plan_from_the_database_refuses_a_bad_today_and_a_scenario_without_flows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli = sqlite_cli(tmp_path, monkeypatch)
    scenario = write(tmp_path)
    text = run(cli, "capacity", "plan", str(scenario), "--db", "--today", "2026-13-01", code=2)
    assert "--today" in text
    text = run(cli, "capacity", "plan", str(scenario), "--db", code=2)
    assert "demand.flows" in text
