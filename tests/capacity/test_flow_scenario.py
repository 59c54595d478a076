"""Flows in a scenario: contradicting flows refused by key; the seed plan does not collapse."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from computeport.capacity.calendar import horizon
from computeport.capacity.demand import demand_series
from computeport.capacity.errors import ScenarioError
from computeport.capacity.scenario import load_scenario, parse_scenario
from computeport.cli.main import app

SEED = Path(__file__).resolve().parents[2] / "scenarios" / "cyberport.toml"


def _with(old: str, new: str) -> str:
    text = SEED.read_text()
    assert old in text
    return text.replace(old, new, 1)


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ("renewal_share = 0.5 ", "renewal_share = 1.5 ", "demand.flows.renewal_share"),
        ("{ default = 0.75 }", "{ default = -0.2 }", "demand.flows.approval_rates.default"),
        ("envelope_hkd = 3_000_000_000", "envelope_hkd = 1_000_000", "demand.flows.envelope_hkd"),
    ],
)
def test_contradicting_flows_are_refused_naming_the_key(old: str, new: str, key: str) -> None:
    with pytest.raises(ScenarioError) as err:
        parse_scenario(_with(old, new), "toml", source="s.toml")
    assert key in [path for path, _ in err.value.problems]


def test_the_cli_refuses_them_with_exit_2_and_writes_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(_with("renewal_share = 0.5 ", "renewal_share = 1.5 "))
    out = tmp_path / "b.json"
    result = CliRunner().invoke(
        app, ["capacity", "backtest", str(bad), "--history-days", "30", "--out", str(out)]
    )
    assert result.exit_code == 2
    assert "renewal_share" in result.output
    assert not out.exists()


def test_seed_demand_does_not_collapse_when_todays_awards_end_while_envelope_remains() -> None:
    scenario = load_scenario(SEED)
    months = horizon(scenario.start, scenario.months)
    runs: list[Any] = [demand_series(scenario, months, s) for s in range(20)]
    labels = [m.label for m in months]
    end = labels.index("2027-01")  # every award of the seed has ended
    committed = np.median([r[end].flows["committed"] for r in runs])
    assert committed == 0
    before = np.median([r[labels.index("2026-01")].total for r in runs])
    still = [np.mean([not r[i].exhausted for r in runs]) for i in range(len(months))]
    last = max(i for i in range(len(months)) if still[i] >= 0.5)  # envelope left (p50)
    assert last >= end + 6  # the envelope outlasts today's awards by half a year at least
    after = [np.median([r[i].total for r in runs]) for i in range(end, last + 1)]
    assert min(after) >= before  # demand holds up: the envelope is awarded, not forgotten
    for r in runs:
        for m in r:
            assert abs(sum(m.flows.values()) - m.total) < 1e-6 * max(1.0, m.total)


FLOWS = """
[[demand.awards]]
name = "A-1"
gpu_hours = 20_000
start = 2024-07-01
end = 2025-02-01
accelerator = "H800"
used_gpu_hours = 10_000

[[demand.awards]]
name = "P-1"
gpu_hours = 30_000
start = 2025-02-01
end = 2025-05-01
accelerator = "H800"
status = "pending"

[demand.flows]
envelope_hkd = 800_000
list_price_hkd_per_gpu_hour = 30
subsidy_rate = 0.7
approval_rates = { default = 1.0 }
decision_lead_months = 1
renewal_share = 1.0

[targets]
city_pflops = 100
city_by = 2030-01-01
"""


def test_a_plan_with_flows_shows_each_flow_the_exhaustion_and_the_city_line(
    tmp_path: Path, small_trace: Path
) -> None:
    from tests.capacity.test_cli import write

    path = write(tmp_path)
    text = path.read_text().replace("[demand.workload]", FLOWS + "\n[demand.workload]")
    text = text.replace("months = 2", "months = 4")
    path.write_text(text)
    out, png = tmp_path / "plan.json", tmp_path / "plan.png"
    result = CliRunner().invoke(
        app,
        [
            *("capacity", "plan", str(path), "--out", str(out), "--plot", str(png)),
            *("--seeds", "2", "--workers", "1", "--no-recommend"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "demand by flow" in result.output
    data = json.loads(out.read_text())
    first = data["months"][0]["flows"]
    assert set(first) == {"committed", "pipeline", "renewals", "new_entrants", "copay"}
    assert first["committed"]["p50"] > 0
    # HK$800k less the award's HK$420k pays 18k of the pipeline's 30k hours: out in February
    assert data["envelope_exhausted"] == "2025-02"
    assert data["city_target"]["pflops"] == 100
    assert "envelope runs out in 2025-02" in data["answer"]
    assert "price elasticity of 0.5, assumed" in data["answer"]
    assert data["flows"]["copay_share"] == round(0.3**0.5, 4)
    assert png.stat().st_size > 10_000
