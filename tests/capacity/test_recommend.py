"""Recommendations: the smallest step that keeps the targets; capacity-aware approval."""

from __future__ import annotations

import datetime as dt

from computeport.capacity.demand import AwardDemand
from computeport.capacity.evaluate import evaluate_months, evaluate_plan
from computeport.capacity.recommend import approval_check, first_unfit, recommend_build
from computeport.capacity.supply import AddedStep, supply_plan
from tests.capacity.conftest import SMALL_MODEL, small_scenario

FAST_EVAL = {
    "seeds": 2,
    "model": "coarse",
    "sample_days": 2,
    "warmup_days": 0.5,
    "aggregate_below_gpu_hours": 1,
    "bundle_gpu_hours": 4,
}


class TestBuild:
    def test_step_is_the_smallest_that_keeps_the_targets(self) -> None:
        # 64 GPUs; demand passes them in the second month and keeps growing.
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
                "workload": {"trace": "x.csv", "format": "csv"},
            },
        )
        supply = supply_plan(s)
        base = evaluate_plan(s, supply, SMALL_MODEL)
        first = base.first_broken
        assert first is not None

        build = recommend_build(s, supply, SMALL_MODEL, base)

        assert build.unresolved is None
        assert len(build.steps) == 1
        step = build.steps[0]
        assert (step.site, step.accelerator, step.date) == (
            "B",
            "FAST",
            dt.date.fromisoformat(first.label + "-01"),
        )
        assert s.recommend is not None
        seeds = range(s.recommend.search_seeds)
        window = [m.index for m in base.months if m.broken]

        def broken_with(gpus: int) -> bool:
            plan = supply.with_added([AddedStep("B", "FAST", step.date, gpus)])
            ev = evaluate_months(s, plan, SMALL_MODEL, seeds=seeds, month_indices=window)
            return any(m.broken for m in ev.months)

        assert not broken_with(step.gpus)
        assert broken_with(step.gpus - 8)  # one node less breaks a target

    def test_nothing_to_build_when_targets_hold(self) -> None:
        s = small_scenario(
            months=2,
            evaluation=FAST_EVAL,
            sites=[
                {
                    "name": "A",
                    "steps": [{"date": "2024-12-01", "accelerator": "H800", "gpus": 256}],
                },
                {"name": "B", "steps": [{"date": "2030-01-01", "accelerator": "FAST", "gpus": 8}]},
            ],
        )
        supply = supply_plan(s)
        base = evaluate_plan(s, supply, SMALL_MODEL)
        assert base.first_broken is None
        build = recommend_build(s, supply, SMALL_MODEL, base)
        assert (build.steps, build.probes, build.unresolved) == ([], [], None)


class TestApproval:
    def test_batch_against_deliverable(self) -> None:
        s = small_scenario(months=3)  # 64 H800 = 47,616 GPU-hours in January
        supply = supply_plan(s)
        existing = [
            AwardDemand("old", 31 * 24 * 30.0, dt.date(2025, 1, 1), dt.date(2025, 2, 1), "H800")
        ]
        batch = [
            AwardDemand(
                "new",
                59 * 24 * 40.0,
                dt.date(2025, 1, 1),
                dt.date(2025, 3, 1),
                "H800",
                pending=True,
            ),
            AwardDemand(
                "fast",
                28 * 24 * 8.0,
                dt.date(2025, 2, 1),
                dt.date(2025, 3, 1),
                "FAST",
                pending=True,
            ),
        ]
        months = approval_check(s, supply, batch, existing)
        jan, feb, mar = months
        assert jan.deliverable == round(64 * 24 * 31 * 0.95, 1)
        assert (jan.committed, jan.batch) == (31 * 24 * 30.0, 31 * 24 * 40.0)
        assert not jan.fits  # 30 + 40 GPUs of work on 64 × 95 %
        # a FAST GPU-hour is two reference GPU-hours
        assert feb.batch == 28 * 24 * 40.0 + 28 * 24 * 16.0
        assert feb.fits
        assert (mar.batch, mar.committed) == (0.0, 0.0)
        assert first_unfit(months) is jan
        assert jan.other == 0.0

    def test_expected_unawarded_demand_is_the_median_over_seeds(self) -> None:
        s = small_scenario(months=2)  # 10 organisations × 3,500 GPU-h, no noise
        months = approval_check(s, supply_plan(s), [], [], demand_seeds=5)
        jan = months[0]
        assert jan.other == round(10 * 3500 * 31 / (365.25 / 12), 1)
        assert jan.headroom_with_demand == round(jan.headroom - jan.other, 1)
