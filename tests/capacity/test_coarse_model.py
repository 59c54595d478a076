"""The coarse job model stays close to full simulation (the benchmark measures it at scale)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from computeport.capacity.evaluate import SimSettings, simulate_month
from tests.capacity.conftest import SMALL_MODEL

COARSE = SimSettings(
    model="coarse", sample_days=3, warmup_days=0.5, aggregate_below_gpu_hours=1, bundle_gpu_hours=2
)
FULL = dataclasses.replace(COARSE, model="full")


@pytest.mark.parametrize("load", [0.6, 0.85])
def test_coarse_month_close_to_full_month(load: float) -> None:
    def mean_util(settings: SimSettings) -> float:
        runs = [
            simulate_month(
                settings,
                SMALL_MODEL,
                seed=s,
                month=0,
                month_days=30,
                gpus=32,
                demand_gpu_hours=load * 32 * 24 * 30,
            )
            for s in range(2)
        ]
        assert all(r.wait_p50_h < 24 for r in runs)
        return float(np.mean([r.utilisation for r in runs]))

    full, coarse = mean_util(FULL), mean_util(COARSE)
    assert full == pytest.approx(load, abs=0.08)
    assert coarse == pytest.approx(full, abs=0.05)
