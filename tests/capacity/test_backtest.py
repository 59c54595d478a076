"""Backtest: a synthetic history drawn from known parameters, fitted back; bad months refused."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from computeport.capacity.backtest import run_backtest
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
