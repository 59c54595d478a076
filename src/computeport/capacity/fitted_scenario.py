"""A scenario whose flows are fitted from a centre's history (``capacity plan --database``).

A scenario's flow rates are labelled assumptions; a centre with a database has measured them:
how many of each category's applications the committee approved, how long a decision took,
how many ended awards came back as follow-ons, how fast new organisations applied, how large
their awards were. This module takes the history (``history_source.history_from_db``), fits
the flows as of today (:func:`computeport.capacity.history.fit_flows`, the same fit the
backtest tests) and writes what it measured back into a copy of the scenario — the horizon
starting today, today's awards (with what they have used and how fast they burn) and open
applications in place of the scenario's — so the plan runs unchanged on measured inputs.

A rate is taken from the history only where there is enough of it (``MIN_*`` below): a
committee that has decided two applications has not shown an approval rate. Every rate says
where it came from (:class:`RateSource`), and the plan prints the list.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from computeport.capacity.calendar import Month
from computeport.capacity.flow_inputs import flow_params
from computeport.capacity.flows import CommittedAward, PipelineEntry
from computeport.capacity.history import (
    ARRIVAL_WINDOW_MONTHS,
    MONTH_DAYS,
    SchemeHistory,
    fit_flows,
)
from computeport.capacity.scenario import AwardEntry, Scenario
from computeport.kit.errors import ValidationFailed

__all__ = ["FittedScenario", "RateSource", "fit_scenario"]

MIN_DECISIONS = 5
"""Decided applications (in a category) before its approval rate is measured."""
MIN_ENDED = 3
"""Ended awards before the renewal share is measured."""
MIN_AWARDS = 3
"""Awards before the per-organisation demand (size, spread, duration) is measured."""
MIN_MONTHS = 3
"""Complete months of history before the new-entrant rate is measured."""
MIN_ARRIVALS = 3
"""Organisations applying for the first time in the arrival window before their rate is
measured: a history whose applications all predate the window (a seeded demo) says nothing
of how fast organisations arrive, and would otherwise fit a rate of zero."""


@dataclass(frozen=True, slots=True)
class RateSource:
    """One rate of the plan and where it came from."""

    name: str
    value: str
    fitted: bool
    why: str


@dataclass(frozen=True, slots=True)
class FittedScenario:
    scenario: Scenario
    sources: list[RateSource]

    @property
    def assumed(self) -> list[str]:
        """Rates the history was too thin for (the scenario's assumption stands)."""
        return [s.name for s in self.sources if not s.fitted]


def fit_scenario(scenario: Scenario, history: SchemeHistory, today: dt.date) -> FittedScenario:
    """``scenario`` with its flows measured from ``history`` as of ``today``'s month."""
    flows = scenario.demand.flows
    if flows is None:
        raise ValidationFailed("demand.flows: fitting from a database needs the scenario's flows")
    as_of = Month(0, today.replace(day=1))
    t = as_of.first
    fit = fit_flows(history, as_of, flow_params(scenario, flows, 0.0))
    p = fit.params
    decided = [a for a in history.applications if a.decided is not None and a.decided < t]
    ended = [a for a in history.awards if a.end < t]
    started = [a for a in history.awards if a.start < t]
    known = [m for m in history.months if m.first < t]
    sources: list[RateSource] = []

    def source(name: str, value: str, fitted: bool, evidence: str, floor: int) -> bool:
        why = evidence if fitted else f"{evidence} (< {floor}): the scenario's assumption"
        sources.append(RateSource(name, value, fitted, why))
        return fitted

    rates = dict(flows.approval_rates)
    cats = sorted({a.category for a in decided} | set(rates) | {"default"})
    for cat in sorted(cats, key=lambda c: c != "default"):  # the default first: others fall to it
        n = sum(1 for a in decided if cat in (a.category, "default"))
        ok = n >= MIN_DECISIONS and cat in p.approval_rates
        if ok:
            rates[cat] = round(p.approval_rates[cat], 4)
        shown = rates.get(cat, rates.get("default", 0.0))
        evidence = f"{n} decisions"
        if not ok and cat not in flows.approval_rates:
            evidence += f" (< {MIN_DECISIONS}): the default rate"
            sources.append(RateSource(f"approval rate ({cat})", f"{shown:.0%}", False, evidence))
            continue
        source(f"approval rate ({cat})", f"{shown:.0%}", ok, evidence, MIN_DECISIONS)
    lead_ok = len(decided) >= MIN_DECISIONS
    source(
        "decision lead time",
        f"{p.decision_lead_months if lead_ok else flows.decision_lead_months:.1f} months",
        lead_ok,
        f"{len(decided)} decisions",
        MIN_DECISIONS,
    )
    renew_ok = len(ended) >= MIN_ENDED
    source(
        "renewal share",
        f"{p.renewal_share if renew_ok else flows.renewal_share:.0%}",
        renew_ok,
        f"{len(ended)} ended awards",
        MIN_ENDED,
    )
    orgs = scenario.demand.organisations
    arrivals = _arrivals(history, t)
    entrants_ok = len(known) >= MIN_MONTHS and arrivals >= MIN_ARRIVALS
    source(
        "new entrants a year",
        f"{p.entrants_per_year if entrants_ok else orgs.growth_per_year:.0f}",
        entrants_ok,
        f"{arrivals} first applications in the last {ARRIVAL_WINDOW_MONTHS} months "
        f"over {len(known)} months",
        MIN_ARRIVALS,
    )
    size_ok = len(started) >= MIN_AWARDS
    source(
        "per-organisation demand",
        f"{p.entrant_gpu_hours_month if size_ok else flows.entrant_gpu_hours_month:,.0f} "
        f"GPU-h a month (σ {p.entrant_sigma if size_ok else flows.entrant_sigma:.2f}, "
        f"{p.entrant_months if size_ok else flows.entrant_months} months)",
        size_ok,
        f"{len(started)} awards",
        MIN_AWARDS,
    )
    new_flows = flows.model_copy(
        update={
            "approval_rates": rates,
            "assumption": False,
            **({"decision_lead_months": p.decision_lead_months} if lead_ok else {}),
            **({"renewal_share": p.renewal_share} if renew_ok else {}),
            **(
                {
                    "entrant_gpu_hours_month": p.entrant_gpu_hours_month,
                    "entrant_sigma": p.entrant_sigma,
                    "entrant_months": max(1, p.entrant_months),
                }
                if size_ok
                else {}
            ),
            **(
                {"entrant_award_share": p.entrant_award_share}
                if rates.get("default") is not None and entrants_ok
                else {}
            ),
        }
    )
    new_orgs = orgs.model_copy(
        update={
            "growth_per_year": p.entrants_per_year,
            "growth_sd_per_year": p.entrants_sd_per_year,
        }
        if entrants_ok
        else {}
    )
    demand = scenario.demand.model_copy(
        update={
            "awards": _awards(scenario, fit.awards, fit.pipeline, t),
            "flows": new_flows,
            "organisations": new_orgs,
            "award_usage_share": 1.0,
            "include_pending": True,
        }
    )
    fitted = scenario.model_copy(update={"start": t, "demand": demand})
    return FittedScenario(fitted, sources)


def _arrivals(history: SchemeHistory, t: dt.date) -> int:
    """Organisations whose first application fell in the arrival window before ``t``."""
    firsts: dict[str, dt.date] = {}
    for a in history.applications:
        if a.submitted < t:
            firsts[a.org] = min(firsts.get(a.org, a.submitted), a.submitted)
    window = t - dt.timedelta(days=round(ARRIVAL_WINDOW_MONTHS * MONTH_DAYS))
    return sum(1 for day in firsts.values() if day >= window)


def _awards(
    scenario: Scenario,
    committed: Sequence[CommittedAward],
    pipeline: Sequence[PipelineEntry],
    today: dt.date,
) -> list[AwardEntry]:
    """Every award so far (ended ones draw nothing but count against the envelope) and the
    open applications, as scenario entries in reference GPU-hours (the history's unit)."""
    ref = scenario.reference_accelerator
    out: list[AwardEntry] = []
    for a in committed:
        if a.gpu_hours <= 0:
            continue
        out.append(
            AwardEntry(
                name=a.name,
                gpu_hours=a.gpu_hours,
                start=a.start,
                end=a.end,
                accelerator=ref,
                used_gpu_hours=min(a.used_gpu_hours, a.gpu_hours),
                burn_per_month=a.burn_per_month,
            )
        )
    for e in pipeline:
        if e.gpu_hours <= 0:
            continue
        start = max(today, e.submitted)
        end = start + dt.timedelta(days=round(max(1, e.duration_months) * 365.25 / 12))
        out.append(
            AwardEntry(
                name=e.name,
                gpu_hours=e.gpu_hours,
                start=start,
                end=end,
                accelerator=ref,
                status="pending",
                category=e.category,
                submitted=e.submitted,
            )
        )
    return out
