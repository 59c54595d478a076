"""Seeded synthetic workloads and fitting their model from a trace."""

from __future__ import annotations

import math

import numpy as np
import pytest

from computeport.kit.errors import ValidationFailed
from computeport.simulator.synthetic import (
    LIMIT_LADDER_S,
    WorkloadModel,
    fit_workload_model,
    generate_workload,
)


def test_same_seed_same_jobs_other_seed_other_jobs() -> None:
    assert generate_workload(500, 64, seed=3) == generate_workload(500, 64, seed=3)
    assert generate_workload(500, 64, seed=3) != generate_workload(500, 64, seed=4)


def test_offered_load_sizes_and_limits() -> None:
    jobs = generate_workload(20_000, 4000, load=0.95, seed=1)
    span = jobs[-1].submit_s - jobs[0].submit_s
    work = sum(j.gpus * j.run_s for j in jobs)
    assert work / (4000 * span) == pytest.approx(0.95, rel=0.03)
    assert {j.gpus for j in jobs} <= {1, 2, 4, 8, 16, 32, 64}
    assert all(j.time_limit_s >= j.run_s for j in jobs)
    assert all(j.time_limit_s in LIMIT_LADDER_S or j.time_limit_s == j.run_s for j in jobs)
    assert [j.submit_s for j in jobs] == sorted(j.submit_s for j in jobs)


def test_fit_recovers_the_model() -> None:
    model = WorkloadModel(log_run_mean=math.log(600), log_run_sigma=1.0)
    jobs = generate_workload(20_000, 256, seed=2, model=model)
    fitted = fit_workload_model(jobs)
    assert fitted.log_run_mean == pytest.approx(math.log(600), abs=0.05)
    assert fitted.log_run_sigma == pytest.approx(1.0, abs=0.05)
    sizes = dict(fitted.sizes)
    assert sizes[1] == pytest.approx(0.45, abs=0.02)
    assert fitted.overestimate_max >= 1.0
    again = generate_workload(1000, 256, seed=5, model=fitted)
    assert np.median([j.run_s for j in again]) == pytest.approx(600, rel=0.2)


def test_bad_model() -> None:
    with pytest.raises(ValidationFailed):
        WorkloadModel(sizes=())
    with pytest.raises(ValidationFailed):
        fit_workload_model([])
