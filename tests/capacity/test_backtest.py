"""Backtest: a synthetic history drawn from known parameters, fitted back; bad months refused."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import numpy as np
import pytest

from computeport.capacity.backtest import FULL_SHARE, run_backtest, served_ceiling
from computeport.capacity.calendar import Month, horizon
from computeport.capacity.flows import FlowParams
from computeport.capacity.history import HistApplication, HistAward, SchemeHistory, fit_flows
from computeport.kit.errors import ValidationFailed

TRUE_APPROVAL = 0.6
TRUE_LEAD_MONTHS = 2.0
TRUE_ORGS_PER_YEAR = 24
TRUE_SIZE = 40_000.0
TRUE_BURN_NOISE = 0.05
TOLERANCE = {"approval": 0.15, "lead": 0.25, "orgs": 0.35, "size": 0.25}
"""Stated tolerances: two years of ~48 applications leave this much sampling error."""


def synthetic_history(seed: int = 7) -> SchemeHistory:
    """Two years of a scheme drawn from the TRUE_* parameters: applications arrive, are decided
    after the lead time, approved ones run 12 months at their size with noisy monthly use."""
    rng = np.random.default_rng(seed)
    months = horizon(dt.date(2024, 1, 1), 24)
    apps: list[HistApplication] = []
    awards: list[HistAward] = []
    for m in months:
        for k in range(int(rng.poisson(TRUE_ORGS_PER_YEAR / 12))):
            org = f"{m.label}-{k}"
            submitted = m.first + dt.timedelta(days=int(rng.integers(0, 28)))
            decided = submitted + dt.timedelta(days=round(TRUE_LEAD_MONTHS * 365.25 / 12))
            approved = bool(rng.random() < TRUE_APPROVAL)
            size = TRUE_SIZE * float(rng.lognormal(-0.08, 0.4))
            apps.append(
                HistApplication(org, org, size * 12, 12, submitted, "default", decided, approved)
            )
            if approved:
                start = Month(0, decided.replace(day=1)).next_first
                usage = {}
                first = start
                for _ in range(12):
                    mm = Month(0, first)
                    usage[mm.label] = size * float(rng.lognormal(0, TRUE_BURN_NOISE))
                    first = mm.next_first
                end = first
                awards.append(HistAward(org, org, size * 12 * 1.05, start, end, usage))
    capacity = {m.label: 2_000_000.0 for m in months}
    return SchemeHistory(months[1:], capacity, awards, apps)


def test_the_fit_recovers_the_parameters_the_history_was_drawn_from() -> None:
    history = synthetic_history()
    as_of = history.months[-1]
    fitted = fit_flows(history, as_of, FlowParams())
    p = fitted.params
    assert abs(p.approval_rate("default") - TRUE_APPROVAL) <= TOLERANCE["approval"]
    assert abs(p.decision_lead_months - TRUE_LEAD_MONTHS) <= TOLERANCE["lead"]
    assert abs(p.entrants_per_year - TRUE_ORGS_PER_YEAR) <= TOLERANCE["orgs"] * TRUE_ORGS_PER_YEAR
    assert abs(p.entrant_gpu_hours_month - TRUE_SIZE) <= TOLERANCE["size"] * TRUE_SIZE


def test_a_backtest_on_the_synthetic_history_is_accurate_and_its_band_covers() -> None:
    history = synthetic_history()
    prior = FlowParams(renewal_share=0.0)
    late = [m.label for m in history.months[12:18]]
    result = run_backtest(history, prior, horizon=3, seeds=100, as_of=late)
    three = result.score(3)
    assert three is not None
    assert three.cases == len(late)
    assert three.demand_error < 0.25
    assert 0.5 <= result.coverage <= 1.0


def test_a_month_outside_the_history_is_refused_by_its_option() -> None:
    history = synthetic_history()
    with pytest.raises(ValidationFailed) as err:
        run_backtest(history, FlowParams(), as_of=["2031-01"])
    assert err.value.field == "as_of"
    assert "2031-01" in str(err.value)


def _with_capacity(history: SchemeHistory, gpu_hours: float) -> SchemeHistory:
    """``history`` on a centre of ``gpu_hours`` a month that serves at most 95% of it (±2%
    from month to month): each month's usage cut to what such a centre delivers."""
    rng = np.random.default_rng(11)
    served = {
        m.label: min(history.used(m.label), 0.95 * gpu_hours * float(rng.lognormal(0, 0.02)))
        for m in history.months
    }
    awards = [
        replace(
            a,
            usage={k: v * served[k] / history.used(k) for k, v in a.usage.items() if k in served},
        )
        for a in history.awards
    ]
    capacity = dict.fromkeys(history.capacity_gpu_hours, gpu_hours)
    return SchemeHistory(history.months, capacity, awards, history.applications)


def test_a_centre_never_full_is_cut_only_at_its_capacity() -> None:
    history = synthetic_history()
    assert max(history.used(m.label) for m in history.months) < FULL_SHARE * 2_000_000
    assert served_ceiling(history, history.months[-1]).share == 1.0


def test_a_full_centre_is_forecast_at_what_it_served_when_full() -> None:
    """A centre that fills in its first year: the flows ask for more than it serves (the
    pipeline keeps coming); the forecast of usage is cut at the mean of its full months and
    misses what it served by little."""
    history = _with_capacity(synthetic_history(), 400_000.0)
    as_of = history.months[18]
    known = [
        history.used(m.label) / history.capacity_gpu_hours[m.label]
        for m in history.months
        if m.first < as_of.first
    ]
    full = [x for x in known if x >= max(FULL_SHARE, 0.95 * max(known))]
    assert served_ceiling(history, as_of).share == pytest.approx(float(np.mean(full)))
    late = [m.label for m in history.months[12:20]]
    result = run_backtest(history, FlowParams(), horizon=3, seeds=200, as_of=late)
    for o in result.outcomes:
        cap = history.capacity_gpu_hours[o.month]
        assert o.p50 <= cap  # usage is never forecast beyond the capacity
    three = result.score(3)
    assert three is not None
    assert three.demand_error < 0.1
    # 24 outcomes: a calibrated p10-p90 band covers ~80%, give or take 8 points a sd
    assert 0.6 <= result.coverage <= 0.95
