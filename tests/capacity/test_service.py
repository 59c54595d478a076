"""The service the CLI and the portal call: a plan dict, and plotly figures from it."""

from __future__ import annotations

import json
from pathlib import Path

from computeport.capacity import SequentialRunner, plan_capacity, plotly_figures
from computeport.capacity.plot import plot_plan
from tests.capacity.conftest import small_scenario

FAST_EVAL = {
    "seeds": 2,
    "model": "coarse",
    "sample_days": 1,
    "warmup_days": 0.5,
    "aggregate_below_gpu_hours": 1,
    "bundle_gpu_hours": 4,
}


def test_plan_dict_and_figures(small_trace: Path, tmp_path: Path) -> None:
    s = small_scenario(
        months=3,
        evaluation=FAST_EVAL,
        demand={
            "organisations": {
                "count": 12,
                "growth_per_year": 60,
                "active_share": 1.0,
                "gpu_hours_per_active_org_month": 3900,
            },
            "workload": {"trace": "jobs.csv", "format": "csv"},
        },
    )
    plan = plan_capacity(s, runner=SequentialRunner(), traces_dir=str(small_trace.parent))
    data = json.loads(json.dumps(plan.to_dict()))  # JSON-able as is

    assert len(data["months"]) == 3
    month = data["months"][0]
    assert set(month["utilisation"]) == {"p10", "p50", "p90"}
    assert data["first_broken"] is not None
    assert data["recommendation"]["steps"]
    assert data["recommendation"]["verified"]["first_broken"] is None
    assert data["answer"].startswith(f"Capacity runs out in {data['first_broken']['label']}")

    figures = plotly_figures(data)
    assert set(figures) == {"supply_demand", "utilisation", "wait"}
    for fig in figures.values():
        assert all(len(t["x"]) == 3 == len(t["y"]) for t in fig["data"])
        broken = [
            sh for sh in fig["layout"]["shapes"] if sh.get("x0") == data["first_broken"]["label"]
        ]
        assert broken
    names = [t["name"] for t in figures["utilisation"]["data"]]
    assert "with recommended steps p50" in names

    png = plot_plan(data, tmp_path / "plan.png")
    assert png.stat().st_size > 10_000
