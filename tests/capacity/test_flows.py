"""The five flows on small hand-built schemes: each flow's property, the envelope's cap."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from computeport.capacity.calendar import horizon
from computeport.capacity.flows import (
    SUBSIDISED,
    CommittedAward,
    FlowParams,
    PipelineEntry,
    copay_share,
    flow_series,
)

START = dt.date(2025, 1, 1)
MONTHS = horizon(START, 24)


@settings(max_examples=25, deadline=None)
@given(
    hours=st.floats(1e4, 1e6),
    burn=st.floats(1e3, 1e5),
    used=st.floats(0, 0.9),
)
def test_committed_burns_down_at_its_rate_and_never_past_its_hours(
    hours: float, burn: float, used: float
) -> None:
    award = CommittedAward("a", hours, dt.date(2024, 1, 1), dt.date(2027, 1, 1), hours * used, burn)
    got = flow_series([award], [], FlowParams(), MONTHS, 0).components["committed"]
    left = hours * (1 - used)
    assert sum(got) <= left * (1 + 1e-9)
    assert all(v <= burn * 31 / (365.25 / 12) + 1e-6 for v in got)
    # at its rate until the hours run out (not spread flat over the award's dates)
    if left > burn * 31 / (365.25 / 12):
        assert abs(got[0] - burn * 31 / (365.25 / 12)) < 1e-6 * burn
    if left < burn * 23:  # runs dry before the award ends: every hour is used
        assert abs(sum(got) - left) < 1e-6 * left


def test_awards_burn_as_a_pool_and_expire_at_their_end() -> None:
    fast = CommittedAward("f", 100_000, START, dt.date(2026, 1, 1), 0, 50_000)
    slow = CommittedAward("s", 100_000, START, dt.date(2026, 1, 1), 0, 10_000)
    got = flow_series([fast, slow], [], FlowParams(), MONTHS, 0).components["committed"]
    assert sum(got) <= 200_000 + 1e-6
    assert got[0] > 55_000  # both running: 60k a month
    assert all(v == 0 for v in got[12:])  # nothing after the awards end


@settings(max_examples=15, deadline=None)
@given(rate=st.floats(0.05, 0.95))
def test_pipeline_of_known_approval_rate_gives_the_expected_mean(rate: float) -> None:
    apps = [PipelineEntry(f"p{i}", 120_000, 12, START, "enterprise") for i in range(20)]
    params = FlowParams(approval_rates={"enterprise": rate}, decision_lead_months=2.0)
    draws = [
        sum(flow_series([], apps, params, MONTHS, s).components["pipeline"]) for s in range(300)
    ]
    expected = rate * 20 * 120_000
    sd = np.sqrt(20 * rate * (1 - rate)) * 120_000 / np.sqrt(300)
    assert abs(np.mean(draws) - expected) < 4 * sd + 1.0
    one = flow_series([], apps, FlowParams(approval_rates={"enterprise": 1.0}), MONTHS, 0)
    assert one.components["pipeline"][0] == 0  # starts when the decision is expected
    assert one.components["pipeline"][3] > 0


def test_stale_applications_leave_the_pipeline() -> None:
    old = PipelineEntry("old", 120_000, 12, dt.date(2023, 1, 1))
    params = FlowParams(approval_rates={"default": 1.0}, stale_after_months=6)
    assert sum(flow_series([], [old], params, MONTHS, 0).components["pipeline"]) == 0


@settings(max_examples=10, deadline=None)
@given(share=st.floats(0.0, 1.0))
def test_renewals_follow_expiring_awards_at_their_share(share: float) -> None:
    awards = [
        CommittedAward(f"a{i}", 120_000, dt.date(2024, 1, 1), dt.date(2025, 7, 1))
        for i in range(10)
    ]
    params = FlowParams(renewal_share=share, renewal_gap_months=1)
    first = [
        flow_series(awards, [], params, MONTHS, s).components["renewals"][:6] for s in range(200)
    ]
    assert all(sum(x) == 0 for x in first)  # nothing before the awards end
    later = [
        sum(flow_series(awards, [], params, MONTHS, s).components["renewals"][7:19])
        for s in range(200)
    ]
    # one generation inside 12 months: 10 awards x share x (120k over 18 months)
    expected = 10 * share * 120_000 / 18 * 12
    assert abs(np.mean(later) - expected) <= 0.15 * 10 * 120_000 / 18 * 12 * max(share, 0.1)


def test_new_entrants_grow_at_the_rate_and_the_fitted_size() -> None:
    params = FlowParams(
        entrants_per_year=120,
        entrant_award_share=0.25,
        entrant_gpu_hours_month=10_000,
        entrant_sigma=0.5,
        entrant_months=60,
        decision_lead_months=0,
    )
    runs = [flow_series([], [], params, MONTHS, s).components["new_entrants"] for s in range(100)]
    month12 = np.mean([r[12] for r in runs])
    # ~30 winners a year, each 10k a month: ~12.5 months of joining by the 13th month
    assert abs(month12 - 30 * 10_000 * 12.5 / 12) < 0.15 * 30 * 10_000


def test_an_envelope_running_out_in_month_7_caps_subsidised_demand_from_month_7() -> None:
    # One approved application a month, each 10k GPU-hours a month for 24 months (HK$2.4M of
    # subsidy at HK$10 an hour); HK$15M pays six in full and a quarter of the seventh.
    apps = [
        PipelineEntry(f"p{i}", 240_000, 24, MONTHS[i].first - dt.timedelta(days=61))
        for i in range(12)
    ]
    params = FlowParams(
        approval_rates={"default": 1.0},
        decision_lead_months=2,
        envelope_remaining_hkd=15_000_000,
        cost_per_gpu_hour_hkd=10,
        copay_share=copay_share(0.7, 0.5),
    )
    got = flow_series([], apps, params, MONTHS, 0)
    subsidised = [sum(got.components[f][i] for f in SUBSIDISED) for i in range(24)]
    assert got.exhausted == 6  # the seventh month
    assert subsidised[5] > 59_000
    per_day = 10_000 / (365.25 / 12)
    assert all(
        v <= 6.3 * per_day * m.days + 1e-6 for v, m in zip(subsidised[6:], MONTHS[6:], strict=True)
    )
    assert sum(got.components["copay"][:6]) == 0
    assert got.components["copay"][11] > 0.9 * copay_share(0.7, 0.5) * 55_000
    paid = sum(subsidised[i] for i in range(24)) * 10
    assert paid <= 15_000_000 + 1e-3
    assert got.envelope_left_hkd[6] == 0


@settings(max_examples=20, deadline=None)
@given(envelope=st.floats(0, 5e7), seed=st.integers(0, 10_000))
def test_new_subsidy_never_exceeds_the_envelope(envelope: float, seed: int) -> None:
    params = FlowParams(
        approval_rates={"default": 0.7},
        renewal_share=0.5,
        entrants_per_year=60,
        entrant_award_share=0.5,
        entrant_gpu_hours_month=5_000,
        entrant_sigma=0.5,
        entrant_months=6,
        envelope_remaining_hkd=envelope,
        cost_per_gpu_hour_hkd=20,
        copay_share=0.5,
    )
    apps = [PipelineEntry(f"p{i}", 60_000, 6, START) for i in range(5)]
    got = flow_series([], apps, params, MONTHS, seed)
    # awards starting inside the horizon commit all of their months; the horizon shows a part
    shown = sum(sum(got.components[f]) for f in SUBSIDISED) * 20
    assert shown <= envelope * (1 + 1e-9) + 1e-6
    assert all(v >= 0 for v in got.envelope_left_hkd)


def test_hours_left_at_an_award_end_return_to_the_envelope() -> None:
    award = CommittedAward("a", 100_000, START, dt.date(2025, 4, 1), 0, 10_000)
    got = flow_series(
        [award], [], FlowParams(envelope_remaining_hkd=0, cost_per_gpu_hour_hkd=10), MONTHS, 0
    )
    assert got.envelope_left_hkd[3] == pytest.approx(
        (100_000 - sum(got.components["committed"])) * 10
    )


def test_copay_share_follows_the_elasticity() -> None:
    assert copay_share(0.7, 0.0) == 1.0
    assert abs(copay_share(0.7, 0.5) - 0.3**0.5) < 1e-12
    assert copay_share(0.7, 1.0) < copay_share(0.7, 0.5)
