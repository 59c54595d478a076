"""Saturated months: settled on their first seeds only when those seeds all break the target."""

from __future__ import annotations

from computeport.capacity.calendar import horizon
from computeport.capacity.demand import demand_series
from computeport.capacity.evaluate import evaluate_months, forget_simulated_months
from computeport.capacity.scenario import Scenario
from computeport.capacity.supply import supply_plan
from tests.capacity.conftest import SMALL_MODEL, small_scenario

COARSE = {"seeds": 6, "model": "coarse", "sample_days": 2, "warmup_days": 0.5}


def _scenario(ratio: float, per_org: float) -> Scenario:
    return small_scenario(
        months=3,
        evaluation=COARSE | {"saturated_ratio": ratio, "saturated_seeds": 2},
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


def test_a_verdict_only_evaluation_flags_every_month_as_all_seeds_would() -> None:
    # Demand from below to far above the 64 GPUs over six months; five seeds, p50 band.
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
    quick = evaluate_months(s, supply, SMALL_MODEL, seeds=range(5), verdict_only=True)
    forget_simulated_months()
    full = evaluate_months(s, supply, SMALL_MODEL, seeds=range(5))
    assert [m.broken for m in quick.months] == [m.broken for m in full.months]
    assert {m.broken for m in full.months} == {True, False}  # both verdicts are exercised
    assert all(m.simulated_seeds == 5 for m in full.months)
    assert any(m.simulated_seeds == 3 for m in quick.months)  # decided on a majority
