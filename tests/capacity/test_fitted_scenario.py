"""A scenario fitted from a history: measured rates where the history is thick enough."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from computeport.capacity.fitted_scenario import MIN_DECISIONS, fit_scenario
from computeport.capacity.scenario import load_scenario
from computeport.kit.errors import ValidationFailed
from tests.capacity.conftest import small_scenario
from tests.capacity.test_backtest import (
    TOLERANCE,
    TRUE_APPROVAL,
    TRUE_LEAD_MONTHS,
    TRUE_ORGS_PER_YEAR,
    TRUE_SIZE,
    synthetic_history,
)

SEED = load_scenario("scenarios/cyberport.toml")
TODAY = dt.date(2025, 12, 15)


def test_a_long_history_replaces_the_assumptions_with_what_it_measured() -> None:
    got = fit_scenario(SEED, synthetic_history(), TODAY)
    flows = got.scenario.demand.flows
    assert flows is not None
    assert got.assumed == []
    assert abs(flows.approval_rates["default"] - TRUE_APPROVAL) <= TOLERANCE["approval"]
    assert abs(flows.decision_lead_months - TRUE_LEAD_MONTHS) <= TOLERANCE["lead"]
    grow = got.scenario.demand.organisations.growth_per_year
    assert abs(grow - TRUE_ORGS_PER_YEAR) <= TOLERANCE["orgs"] * TRUE_ORGS_PER_YEAR
    assert abs(flows.entrant_gpu_hours_month - TRUE_SIZE) <= TOLERANCE["size"] * TRUE_SIZE
    assert got.scenario.start == dt.date(2025, 12, 1)
    # the horizon's awards are the history's: running ones active, open applications pending
    names = {a.name for a in got.scenario.demand.awards}
    assert names
    assert not names & {a.name for a in SEED.demand.awards}
    open_apps = {
        a.name
        for a in synthetic_history().applications
        if a.submitted < TODAY.replace(day=1)
        and (a.decided is None or a.decided >= TODAY.replace(day=1))
    }
    pending = {a.name for a in got.scenario.demand.awards if a.status == "pending"}
    assert pending == open_apps


def test_a_thin_history_keeps_the_scenarios_labelled_assumptions() -> None:
    history = synthetic_history()
    first = history.months[0].first
    thin = replace(
        history,
        months=history.months[:2],
        awards=[],
        applications=[a for a in history.applications if a.decided and a.decided < first][:2],
    )
    got = fit_scenario(SEED, thin, history.months[2].first)
    flows = got.scenario.demand.flows
    seed_flows = SEED.demand.flows
    assert flows is not None
    assert seed_flows is not None
    assert flows.approval_rates == seed_flows.approval_rates
    assert flows.decision_lead_months == seed_flows.decision_lead_months
    assert flows.renewal_share == seed_flows.renewal_share
    assert flows.entrant_gpu_hours_month == seed_flows.entrant_gpu_hours_month
    assert got.scenario.demand.organisations.growth_per_year == (
        SEED.demand.organisations.growth_per_year
    )
    assert set(got.assumed) >= {
        "approval rate (default)",
        "decision lead time",
        "renewal share",
        "new entrants a year",
        "per-organisation demand",
    }
    why = {s.name: s.why for s in got.sources}
    assert f"(< {MIN_DECISIONS})" in why["decision lead time"]


def test_a_scenario_without_flows_cannot_be_fitted() -> None:
    with pytest.raises(ValidationFailed, match=r"demand\.flows"):
        fit_scenario(small_scenario(), synthetic_history(), TODAY)


def test_no_first_application_in_the_window_keeps_the_assumed_entrants() -> None:
    # A history whose applications all predate the last six months (as a seeded demo's do)
    # shows no arrivals; that is no evidence of a rate of zero.
    got = fit_scenario(SEED, synthetic_history(), dt.date(2027, 6, 15))
    assert "new entrants a year" in got.assumed
    assert got.scenario.demand.organisations.growth_per_year == (
        SEED.demand.organisations.growth_per_year
    )
    assert "approval rate (default)" not in got.assumed  # the decisions still count
