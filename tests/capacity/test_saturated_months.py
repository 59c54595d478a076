"""Saturated and idle months: settled on their first seeds only when those seeds all break the
utilisation target (saturated) or all keep every target (idle)."""

from __future__ import annotations

import pytest

from computeport.capacity.calendar import horizon
from computeport.capacity.demand import demand_series
from computeport.capacity.evaluate import evaluate_months, forget_simulated_months
from computeport.capacity.fanout import SequentialRunner
from computeport.capacity.scenario import Scenario
from computeport.capacity.supply import supply_plan
from tests.capacity.conftest import SMALL_MODEL, small_scenario

COARSE = {"seeds": 6, "model": "coarse", "sample_days": 2, "warmup_days": 0.5}


def _scenario(ratio: float, per_org: float, **evaluation: float) -> Scenario:
    return small_scenario(
        months=3,
        evaluation=COARSE | {"saturated_ratio": ratio, "saturated_seeds": 2} | evaluation,
        demand={
            "organisations": {
                "count": 10,
                "growth_per_year": 0,
                "active_share": 1.0,
                "gpu_hours_per_active_org_month": per_org,
                "monthly_noise_sigma": 0.02,
            },
            "workload": {"trace": "jobs.csv", "format": "csv", "max_run_hours": 24},
        },
    )


def test_an_overloaded_month_is_settled_on_its_first_seeds_and_stays_broken() -> None:
    forget_simulated_months()
    s = _scenario(1.25, 9000)  # 90,000 GPU-hours a month on 64 GPUs: about twice the supply
    supply = supply_plan(s)
    months = horizon(s.start, s.months)
    loads = [
        d.total / supply.month(m).gpu_hours
        for seed in range(6)
        for m, d in zip(months, demand_series(s, months, seed), strict=True)
    ]
    assert min(loads) >= 1.25
    settled = evaluate_months(s, supply, SMALL_MODEL, seeds=range(6))
    forget_simulated_months()
    full = evaluate_months(
        s.model_copy(update={"evaluation": s.evaluation.model_copy(update={"saturated_ratio": 0})}),
        supply,
        SMALL_MODEL,
        seeds=range(6),
    )
    for a, b in zip(settled.months, full.months, strict=True):
        assert a.saturated
        assert a.simulated_seeds == 2
        assert not b.saturated
        assert b.simulated_seeds == 6
        assert a.broken
        assert b.broken
        assert a.demand_gpu_hours == b.demand_gpu_hours  # demand keeps every seed
        assert a.utilisation.p50 > s.targets.max_utilisation


def test_a_month_whose_first_seeds_keep_the_target_gets_every_seed() -> None:
    forget_simulated_months()
    # A ratio threshold so low that a light month counts as "saturated": its first seeds keep
    # the utilisation target, so it is not settled and every seed is simulated.
    s = _scenario(0.05, 1000)
    got = evaluate_months(s, supply_plan(s), SMALL_MODEL, seeds=range(6))
    for m in got.months:
        assert not m.broken
        assert not m.saturated
        assert m.simulated_seeds == 6


class _TwoWorkers(SequentialRunner):
    workers = 2


@pytest.mark.parametrize(("runner", "first_wave"), [(SequentialRunner(), 3), (_TwoWorkers(), 4)])
def test_a_verdict_only_evaluation_flags_every_month_as_all_seeds_would(
    runner: SequentialRunner, first_wave: int
) -> None:
    # Demand from below to far above the 64 GPUs over six months; five seeds, p50 band. The
    # first wave is a majority (3), or with two workers two whole rounds (4).
    s = small_scenario(
        months=6,
        evaluation=COARSE | {"seeds": 5},
        demand={
            "organisations": {
                "count": 10,
                "growth_per_year": 60,
                "active_share": 1.0,
                "gpu_hours_per_active_org_month": 3_000,
                "demand_sigma": 0.3,
                "monthly_noise_sigma": 0.2,
            },
            "workload": {"trace": "jobs.csv", "format": "csv", "max_run_hours": 24},
        },
    )
    supply = supply_plan(s)
    forget_simulated_months()
    quick = evaluate_months(
        s, supply, SMALL_MODEL, seeds=range(5), verdict_only=True, runner=runner
    )
    forget_simulated_months()
    full = evaluate_months(s, supply, SMALL_MODEL, seeds=range(5))
    assert [m.broken for m in quick.months] == [m.broken for m in full.months]
    assert {m.broken for m in full.months} == {True, False}  # both verdicts are exercised
    assert all(m.simulated_seeds == 5 for m in full.months)
    assert any(m.simulated_seeds == first_wave for m in quick.months)  # decided early


def _loads(s: Scenario, seeds: int) -> list[float]:
    supply = supply_plan(s)
    months = horizon(s.start, s.months)
    return [
        d.total / supply.month(m).gpu_hours
        for seed in range(seeds)
        for m, d in zip(months, demand_series(s, months, seed), strict=True)
    ]


def test_a_light_month_is_settled_on_its_first_seeds_and_keeps_the_targets() -> None:
    # 15,000 GPU-hours a month on 64 GPUs: about a third of the supply in every seed.
    s = _scenario(0, 1500, idle_ratio=0.6, idle_seeds=2)
    assert max(_loads(s, 6)) <= 0.6
    forget_simulated_months()
    settled = evaluate_months(s, supply_plan(s), SMALL_MODEL, seeds=range(6))
    forget_simulated_months()
    full = evaluate_months(
        s.model_copy(update={"evaluation": s.evaluation.model_copy(update={"idle_ratio": 0})}),
        supply_plan(s),
        SMALL_MODEL,
        seeds=range(6),
    )
    for a, b in zip(settled.months, full.months, strict=True):
        assert a.idle
        assert not a.saturated
        assert a.simulated_seeds == 2
        assert not b.idle
        assert b.simulated_seeds == 6
        assert not a.broken
        assert not b.broken
        assert a.demand_gpu_hours == b.demand_gpu_hours  # demand keeps every seed
        assert a.utilisation.p90 <= s.targets.max_utilisation


def test_a_light_month_whose_first_seeds_break_a_target_gets_every_seed() -> None:
    # The same light load against a utilisation target it passes: not settled on 2 seeds.
    s = _scenario(0, 1500, idle_ratio=0.6, idle_seeds=2)
    s = s.model_copy(update={"targets": s.targets.model_copy(update={"max_utilisation": 0.05})})
    forget_simulated_months()
    got = evaluate_months(s, supply_plan(s), SMALL_MODEL, seeds=range(6))
    for m in got.months:
        assert m.broken
        assert not m.idle
        assert m.simulated_seeds == 6


def test_a_month_above_the_idle_ratio_in_one_seed_gets_every_seed() -> None:
    s = _scenario(0, 1500, idle_ratio=0.6, idle_seeds=2)
    loads = _loads(s, 6)
    s = _scenario(0, 1500, idle_ratio=min(loads) * 0.99, idle_seeds=2)
    forget_simulated_months()
    got = evaluate_months(s, supply_plan(s), SMALL_MODEL, seeds=range(6))
    assert all(not m.idle and m.simulated_seeds == 6 for m in got.months)
