"""Supply steps → GPUs and GPU-hours; demand spread over months, seeded growth."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from computeport.capacity.calendar import horizon
from computeport.capacity.demand import (
    AwardDemand,
    OrgGrowth,
    committed_gpu_hours,
    unawarded_gpu_hours,
)
from computeport.capacity.scenario import Accelerator
from computeport.capacity.supply import AddedStep, gpus_for_pflops, supply_plan
from tests.capacity.conftest import small_scenario

H800 = Accelerator(name="H800", pflops_per_gpu=0.99, gpus_per_node=8)


class TestPflopsToGpus:
    def test_cyberport_figures(self) -> None:
        assert gpus_for_pflops(3000, H800) == 3032  # 379 nodes: DESIGN.md's "≈ 3,040"
        assert gpus_for_pflops(1300, H800) == 1320

    def test_whole_nodes_and_never_short(self) -> None:
        for pf in (0.5, 7.92, 100, 2999.9):
            gpus = gpus_for_pflops(pf, H800)
            assert gpus % 8 == 0
            assert gpus * 0.99 >= pf
            assert (gpus - 8) * 0.99 < pf


class TestSupplyPlan:
    def test_levels_added_steps_and_pooling(self) -> None:
        s = small_scenario(start="2025-01-01", months=3)
        plan = supply_plan(s)
        jan, feb, mar = horizon(s.start, 3)
        assert plan.month(jan).reference_gpus == 64
        grown = plan.with_added([AddedStep("B", "FAST", dt.date(2025, 2, 1), 16)])
        # 16 FAST GPUs at twice the PFLOPS of an H800 count as 32 reference GPUs.
        assert grown.month(feb).reference_gpus == 64 + 32
        assert grown.month(jan).reference_gpus == 64
        assert grown.month(mar).gpus == {("A", "H800"): 64, ("B", "FAST"): 16}

    def test_whole_nodes_survive_float_rounding(self) -> None:
        for gpus in (8, 24, 72, 3032, 13_136):
            s = small_scenario(
                sites=[
                    {
                        "name": "A",
                        "steps": [{"date": "2024-12-01", "accelerator": "H800", "gpus": gpus}],
                    }
                ]
            )
            assert supply_plan(s).month(horizon(s.start, 1)[0]).reference_gpus == gpus

    def test_mid_month_step_counts_from_the_next_month_but_prorates_hours(self) -> None:
        s = small_scenario(months=2)
        plan = supply_plan(s).with_added([AddedStep("A", "H800", dt.date(2025, 1, 17), 64)])
        jan, feb = horizon(s.start, 2)
        january = plan.month(jan)
        assert january.reference_gpus == 64
        assert january.gpu_hours == 64 * 24 * 16 + 128 * 24 * 15
        assert plan.month(feb).reference_gpus == 128


class TestCommitted:
    @settings(max_examples=40, deadline=None)
    @given(
        st.lists(
            st.tuples(
                st.integers(1, 10**7), st.integers(0, 700), st.integers(1, 700), st.booleans()
            ),
            max_size=6,
        )
    )
    def test_awards_inside_the_horizon_are_spread_completely(
        self, awards: list[tuple[int, int, int, bool]]
    ) -> None:
        start = dt.date(2025, 1, 1)
        months = horizon(start, 60)
        demand = [
            AwardDemand(
                f"a{i}",
                float(h),
                start + dt.timedelta(days=d0),
                start + dt.timedelta(days=d0 + n),
                "H800",
                pending,
            )
            for i, (h, d0, n, pending) in enumerate(awards)
        ]
        spread = committed_gpu_hours(demand, months, include_pending=True)
        assert abs(sum(spread) - sum(a.gpu_hours for a in demand)) < 1e-6 * (1 + sum(spread))
        active = committed_gpu_hours(demand, months, include_pending=False)
        want = sum(a.gpu_hours for a in demand if not a.pending)
        assert abs(sum(active) - want) < 1e-6 * (1 + want)

    def test_even_by_day(self) -> None:
        a = AwardDemand("x", 365.0 * 24, dt.date(2025, 1, 1), dt.date(2026, 1, 1), "H800")
        jan, feb = horizon(dt.date(2025, 1, 1), 2)
        assert committed_gpu_hours([a], [jan, feb]) == [31 * 24, 28 * 24]


class TestUnawarded:
    GROWTH = OrgGrowth(
        330,
        120,
        0.15,
        12000,
        growth_sd_per_year=30,
        demand_sigma=0.2,
        intensity_growth_per_year=0.25,
        monthly_noise_sigma=0.05,
    )

    def test_same_seed_same_demand_other_seed_other_demand(self) -> None:
        months = horizon(dt.date(2025, 1, 1), 24)
        a = unawarded_gpu_hours(self.GROWTH, months, months[0].first, seed=3)
        assert a == unawarded_gpu_hours(self.GROWTH, months, months[0].first, seed=3)
        assert a != unawarded_gpu_hours(self.GROWTH, months, months[0].first, seed=4)

    def test_without_noise_it_follows_the_formula(self) -> None:
        g = OrgGrowth(100, 120, 0.5, 1000.0)
        months = horizon(dt.date(2025, 1, 1), 13)
        got = unawarded_gpu_hours(g, months, months[0].first, seed=0)
        year = months[12]
        orgs = 100 + 120 * year.years_from(months[0].first)
        assert abs(got[12] - orgs * 0.5 * 1000 * year.days / (365.25 / 12)) < 1e-6
        assert got[12] > got[0]
