"""Plan evaluation: the same as the simulator directly, monotone in capacity, fan-out exact."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from computeport.capacity.calendar import horizon
from computeport.capacity.demand import demand_series
from computeport.capacity.evaluate import (
    MonthOutcome,
    SimSettings,
    evaluate_months,
    forget_simulated_months,
    month_seed,
    simulate_month,
)
from computeport.capacity.fanout import LocalRunner, Payload, Progress, SequentialRunner, TaskFn
from computeport.capacity.supply import supply_plan
from computeport.capacity.workload import month_jobs
from computeport.scheduling import Backfill, ClusterSpec, Estimates, Placement, PolicyConfig
from computeport.simulator import simulate
from tests.capacity.conftest import SMALL_MODEL, small_scenario

STRICT_POOL = SimSettings(
    model="coarse",
    sample_days=3,
    warmup_days=0.5,
    aggregate_below_gpu_hours=0,
    order="fifo",
    backfill="none",
    placement="pool",
)
EASY_NODE = SimSettings(
    model="coarse",
    sample_days=3,
    warmup_days=0.5,
    aggregate_below_gpu_hours=0,
    order="fifo",
    backfill="easy",
    placement="node",
)


class TestMatchesTheSimulator:
    def test_a_month_of_a_simple_plan_is_what_simulate_gives(self) -> None:
        s = small_scenario(
            months=1,
            sites=[
                {"name": "A", "steps": [{"date": "2024-12-01", "accelerator": "H800", "gpus": 24}]}
            ],
            demand={
                "organisations": {
                    "count": 4,
                    "growth_per_year": 0,
                    "active_share": 1.0,
                    "gpu_hours_per_active_org_month": 3200,
                },
                "workload": {"trace": "x.csv", "format": "csv"},
            },
            policy={"order": "fifo", "backfill": "easy", "placement": "node"},
            evaluation={"seeds": 1, "model": "full", "warmup_days": 1},
        )
        plan = evaluate_months(s, supply_plan(s), SMALL_MODEL, seeds=[0]).months[0]

        # The same month, built by hand and run through the simulator's own entry point.
        month = horizon(s.start, 1)[0]
        demand = demand_series(s, [month], 0)[0].total
        mj = month_jobs(SMALL_MODEL, demand / month.days, month.days, 1, month_seed(0, 0))
        policy = PolicyConfig(
            order="fifo",
            backfill=Backfill.EASY,
            placement=Placement.NODE,
            estimates=Estimates.LIMIT,
        )
        result = simulate(mj.jobs, ClusterSpec.homogeneous(24, 8), policy)
        m0, m1 = mj.measure_from_s, mj.end_s
        busy = sum(
            r.gpus * max(0, min(r.start_s + r.run_s, m1) - max(r.start_s, m0))
            for r in result.jobs
            if r.start_s is not None
        )
        waits = [
            min(r.start_s if r.start_s is not None else m1, m1) - r.submit_s
            for r in result.jobs
            if r.job_id in mj.members
        ]
        assert plan.gpus == 24
        assert plan.utilisation.p50 == pytest.approx(busy / (24 * (m1 - m0)), abs=1e-6)
        assert plan.wait_p50_h.p50 == pytest.approx(
            float(np.percentile(waits, 50)) / 3600, abs=1e-6
        )
        assert plan.wait_p90_h.p50 == pytest.approx(
            float(np.percentile(waits, 90)) / 3600, abs=1e-6
        )
        assert 0.5 < plan.utilisation.p50 < 1.0


def _month(settings_: SimSettings, gpus: int, demand: float, seed: int) -> MonthOutcome:
    return simulate_month(
        settings_,
        SMALL_MODEL,
        seed=seed,
        month=0,
        month_days=30,
        gpus=gpus,
        demand_gpu_hours=demand,
    )


class TestMoreCapacityNeverHurts:
    @settings(max_examples=6, deadline=None)
    @given(st.integers(0, 10_000), st.floats(0.7, 1.3))
    def test_strict_fifo_pool_same_seed(self, seed: int, load: float) -> None:
        demand = load * 64 * 24 * 30
        runs = [_month(STRICT_POOL, gpus, demand, seed) for gpus in (64, 72, 96, 128)]
        for small, big in itertools.pairwise(runs):
            assert big.wait_p50_h <= small.wait_p50_h
            assert big.wait_p90_h <= small.wait_p90_h
            assert big.wait_mean_h <= small.wait_mean_h + 1e-9
            assert big.unmet_gpu_hours <= small.unmet_gpu_hours + 1e-9

    def test_easy_backfill_on_the_average_over_seeds(self) -> None:
        demand = 1.05 * 64 * 24 * 30
        means = []
        for gpus in (64, 80, 112):
            runs = [_month(EASY_NODE, gpus, demand, seed) for seed in range(5)]
            means.append(
                (np.mean([r.wait_mean_h for r in runs]), np.mean([r.unmet_gpu_hours for r in runs]))
            )
        for (w0, u0), (w1, u1) in itertools.pairwise(means):
            assert w1 <= w0
            assert u1 <= u0


class TestScaledPool:
    def test_scaled_simulation_reports_the_full_pool(self) -> None:
        scaled = SimSettings(
            sample_days=2, warmup_days=0.5, max_sim_gpus=64, aggregate_below_gpu_hours=0
        )
        got = _month(scaled, 256, 0.8 * 256 * 24 * 30, 1)
        assert got.gpus == 256
        assert got.offered_gpu_hours == pytest.approx(0.8 * 256 * 24 * 30, rel=0.15)


class TestFanout:
    def test_process_pool_gives_what_sequential_gives(self) -> None:
        s = small_scenario(
            months=3,
            evaluation={
                "seeds": 3,
                "model": "coarse",
                "sample_days": 2,
                "warmup_days": 0.5,
                "aggregate_below_gpu_hours": 1,
            },
        )
        supply = supply_plan(s)
        forget_simulated_months()
        one = evaluate_months(s, supply, SMALL_MODEL, seeds=range(3), runner=SequentialRunner())
        forget_simulated_months()
        with LocalRunner(2) as pool:
            two = evaluate_months(
                s, supply, SMALL_MODEL, seeds=range(3), runner=pool, chunks_per_seed=3
            )
        assert sorted(one.outcomes, key=lambda o: (o.seed, o.month)) == sorted(
            two.outcomes, key=lambda o: (o.seed, o.month)
        )
        assert one.months == two.months


class CountingRunner(SequentialRunner):
    """A sequential runner that records how many months it was asked to simulate."""

    def __init__(self) -> None:
        self.months = 0

    def map(
        self, fn: TaskFn, payloads: Sequence[Payload], progress: Progress | None = None
    ) -> list[Payload]:
        self.months += sum(len(p["months"]) for p in payloads)
        return super().map(fn, payloads, progress)


class TestMemo:
    """Months already simulated are reused, and reuse changes no answer."""

    def _scenario(self) -> Any:
        return small_scenario(
            months=4,
            evaluation={
                "seeds": 2,
                "model": "coarse",
                "sample_days": 2,
                "warmup_days": 0.5,
                "aggregate_below_gpu_hours": 1,
            },
        )

    def test_a_repeated_evaluation_simulates_nothing_and_answers_the_same(self) -> None:
        s = self._scenario()
        supply = supply_plan(s)
        forget_simulated_months()
        first = CountingRunner()
        one = evaluate_months(s, supply, SMALL_MODEL, seeds=range(2), runner=first)
        again = CountingRunner()
        two = evaluate_months(s, supply, SMALL_MODEL, seeds=range(2), runner=again)
        assert first.months == 8
        assert again.months == 0
        assert one.months == two.months

    def test_months_from_the_memo_equal_months_simulated_afresh(self) -> None:
        s = self._scenario()
        supply = supply_plan(s)
        forget_simulated_months()
        evaluate_months(s, supply, SMALL_MODEL, seeds=range(2), runner=CountingRunner())
        fresh_then_memo = evaluate_months(
            s, supply, SMALL_MODEL, seeds=range(2), month_indices=[1, 3], runner=CountingRunner()
        )
        forget_simulated_months()
        reference = evaluate_months(
            s, supply, SMALL_MODEL, seeds=range(2), month_indices=[1, 3], runner=CountingRunner()
        )
        assert fresh_then_memo.months == reference.months
        assert sorted(fresh_then_memo.outcomes, key=lambda o: (o.seed, o.month)) == sorted(
            reference.outcomes, key=lambda o: (o.seed, o.month)
        )


class TwoWorkers(SequentialRunner):
    """A sequential runner that claims two workers and records each map's task count."""

    workers = 2

    def __init__(self) -> None:
        self.tasks: list[int] = []

    def map(
        self, fn: TaskFn, payloads: Sequence[Payload], progress: Progress | None = None
    ) -> list[Payload]:
        self.tasks.append(len(payloads))
        return super().map(fn, payloads, progress)


def test_tasks_fill_every_worker_and_the_grouping_changes_no_month() -> None:
    # Three seeds of five months on two workers: six tasks, not three (one worker idle last).
    s = small_scenario(
        months=5, evaluation={"seeds": 3, "model": "coarse", "sample_days": 2, "warmup_days": 0.5}
    )
    supply = supply_plan(s)
    forget_simulated_months()
    two = TwoWorkers()
    balanced = evaluate_months(s, supply, SMALL_MODEL, seeds=range(3), runner=two)
    assert two.tasks == [6]
    forget_simulated_months()
    one = evaluate_months(s, supply, SMALL_MODEL, seeds=range(3), runner=SequentialRunner())
    assert balanced.months == one.months
