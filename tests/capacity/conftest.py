"""Small scenarios and job models for the capacity tests (fast: tens of GPUs, days)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from computeport.capacity.scenario import Scenario
from computeport.simulator.synthetic import WorkloadModel

SMALL_MODEL = WorkloadModel(
    sizes=((1, 0.55), (2, 0.2), (4, 0.15), (8, 0.1)),
    log_run_mean=math.log(1800.0),
    log_run_sigma=1.0,
    max_run_s=86400,
    min_run_s=60,
    overestimate_max=1.5,
)


def scenario_data(**over: Any) -> dict[str, Any]:
    """A small scenario: one site of 64 GPUs, demand that grows past it within a year."""
    data: dict[str, Any] = {
        "name": "small",
        "start": "2025-01-01",
        "months": 6,
        "reference_accelerator": "H800",
        "accelerators": [
            {"name": "H800", "pflops_per_gpu": 0.99, "gpus_per_node": 8},
            {"name": "FAST", "pflops_per_gpu": 1.98, "gpus_per_node": 8},
        ],
        "sites": [
            {"name": "A", "steps": [{"date": "2024-12-01", "accelerator": "H800", "gpus": 64}]},
            {"name": "B", "steps": [{"date": "2030-01-01", "accelerator": "FAST", "gpus": 8}]},
        ],
        "demand": {
            "organisations": {
                "count": 10,
                "growth_per_year": 10,
                "active_share": 1.0,
                "gpu_hours_per_active_org_month": 3500,
            },
            "workload": {"trace": "jobs.csv", "format": "csv", "max_run_hours": 24},
        },
        "policy": {"order": "fifo", "backfill": "none", "placement": "pool"},
        "evaluation": {"seeds": 2, "model": "full", "warmup_days": 1},
        "recommend": {"site": "B", "accelerator": "FAST", "granularity_nodes": 1,
                      "cover_months": 3, "search_seeds": 2},
    }  # fmt: skip
    for key, value in over.items():
        data[key] = value
    return data


def small_scenario(**over: Any) -> Scenario:
    return Scenario.model_validate(scenario_data(**over))


@pytest.fixture
def small_trace(tmp_path: Path) -> Path:
    """A canonical CSV trace the small scenarios fit their job model to."""
    path = tmp_path / "jobs.csv"
    rows = ["job_id,submit_s,duration_s,gpus,user,group"]
    for i in range(200):
        gpus = (1, 1, 1, 2, 4, 8)[i % 6]
        run = 300 + (i * 977) % 20000
        rows.append(f"{i},{i * 60},{run},{gpus},u{i % 5},g{i % 3}")
    path.write_text("\n".join(rows) + "\n")
    return path
