"""What happened: a centre's awards, applications and monthly usage, and the flows fitted to it.

A backtest makes the plan "as of" a past month from only what was known then, so every fit here
takes ``as_of`` and reads nothing dated on or after it: usage of earlier months, awards that
had started, applications submitted before it (and decided before it, for the rates).

The fits are deliberately plain (means and shares over the data, a trailing window for
arrivals) so that a backtest tests the flows, not a clever estimator; where the history has no
evidence (no award has ended yet: no renewal share), the scenario's labelled assumption is used.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from computeport.capacity.calendar import Month
from computeport.capacity.flows import CommittedAward, FlowParams, PipelineEntry

__all__ = ["Fitted", "HistApplication", "HistAward", "SchemeHistory", "fit_flows", "months_from"]

MONTH_DAYS = 365.25 / 12
ARRIVAL_WINDOW_MONTHS = 6
"""Arrivals of new organisations are counted over the last six months (recent, not ancient)."""
BURN_MONTHS = 3
"""An award's burn rate is its mean usage over its last three full months."""
MIN_STEPS = 3
"""Month-to-month steps of usage needed before the noise is measured rather than assumed."""


@dataclass(frozen=True, slots=True)
class HistAward:
    """An award and its usage by month (``{"2026-03": GPU-hours}``, reference GPU-hours)."""

    name: str
    org: str
    gpu_hours: float
    start: dt.date
    end: dt.date
    usage: dict[str, float] = field(default_factory=dict)
    released: tuple[tuple[dt.date, float], ...] = ()
    """Tranches released so far (date, GPU-hours); empty: every hour released at the start."""

    def usable(self, before: dt.date) -> float:
        """GPU-hours the cluster may provision as of ``before`` (released tranches only)."""
        if not self.released:
            return self.gpu_hours
        return sum(hours for day, hours in self.released if day < before)


@dataclass(frozen=True, slots=True)
class HistApplication:
    name: str
    org: str
    gpu_hours: float
    duration_months: int
    submitted: dt.date
    category: str = "default"
    decided: dt.date | None = None
    approved: bool = False


@dataclass(frozen=True, slots=True)
class SchemeHistory:
    """Complete months of usage (``months``), capacity per month, awards and applications."""

    months: list[Month]
    capacity_gpu_hours: dict[str, float]
    awards: list[HistAward]
    applications: list[HistApplication]
    other_usage: dict[str, float] = field(default_factory=dict)
    """Usage not charged to any award (co-paying), by month."""

    def used(self, label: str) -> float:
        return sum(a.usage.get(label, 0.0) for a in self.awards) + self.other_usage.get(label, 0.0)


@dataclass(frozen=True, slots=True)
class Fitted:
    """The flows' inputs as of a month, and the parameters a test checks against the truth."""

    awards: list[CommittedAward]
    pipeline: list[PipelineEntry]
    params: FlowParams
    copay_per_month: float


def _months(a: dt.date, b: dt.date) -> float:
    return (b - a).days / MONTH_DAYS


def fit_flows(history: SchemeHistory, as_of: Month, prior: FlowParams) -> Fitted:
    """Fit the flows from what ``history`` knew at the first day of ``as_of``.

    ``prior`` gives what the history cannot (envelope, prices, elasticity, the renewal share
    until an award has ended) and is overridden by every rate the history measures.
    """
    t = as_of.first
    known = [m for m in history.months if m.first < t]
    labels = [m.label for m in known]
    awards = [a for a in history.awards if a.start < t]
    committed: list[CommittedAward] = []
    for a in awards:
        used = sum(v for label, v in a.usage.items() if label < as_of.label)
        full = [m for m in known if m.first >= a.start][-BURN_MONTHS:]
        # per day, then a mean month: February's 28 days are not a slower burn
        per_day = [a.usage.get(m.label, 0.0) / m.days for m in full]
        burn = float(np.mean(per_day)) * MONTH_DAYS if full else None
        usable = max(used, a.usable(t))  # a held tranche is not there to burn
        committed.append(CommittedAward(a.name, usable, a.start, a.end, used, burn))
    totals = [history.used(m.label) / m.days for m in known]
    log_ratios = [math.log(y / x) for x, y in itertools.pairwise(totals) if x > 0 and y > 0]
    decided = [p for p in history.applications if p.decided is not None and p.decided < t]
    rates: dict[str, float] = {}
    if decided:
        for cat in {p.category for p in decided} | {"default"}:
            group = [p for p in decided if cat in (p.category, "default")]
            # Laplace's rule: a handful of decisions must not give a rate of exactly 0 or 1.
            rates[cat] = (sum(p.approved for p in group) + 1) / (len(group) + 2)
    leads = [_months(p.submitted, p.decided) for p in decided if p.decided]
    lead = float(np.mean(leads)) if leads else prior.decision_lead_months
    # An application left undecided for twice the longest decision on record is not in the
    # committee's usual flow (the prior's threshold until there is a record).
    stale = 2 * max(leads) if leads else prior.stale_after_months
    pipeline = [
        PipelineEntry(p.name, p.gpu_hours, p.duration_months, p.submitted, p.category)
        for p in history.applications
        if p.submitted < t and (p.decided is None or p.decided >= t)
    ]
    ended = [a for a in awards if a.end < t]
    renewal = prior.renewal_share
    if ended:
        followed = {
            a.name
            for a in ended
            if any(p.org == a.org and a.end <= p.submitted < t for p in history.applications)
        }
        renewal = len(followed) / len(ended)
    window = t - dt.timedelta(days=round(ARRIVAL_WINDOW_MONTHS * MONTH_DAYS))
    firsts: dict[str, dt.date] = {}
    for p in history.applications:
        if p.submitted < t:
            firsts[p.org] = min(firsts.get(p.org, p.submitted), p.submitted)
    span = min(ARRIVAL_WINDOW_MONTHS, _months(known[0].first, t)) if known else 0.0
    recent = sum(1 for day in firsts.values() if day >= window)
    per_year = recent / span * 12 if span > 0 else prior.entrants_per_year
    sizes = [a.gpu_hours / max(1.0, _months(a.start, a.end)) for a in awards]
    mean_size = float(np.mean(sizes)) if sizes else prior.entrant_gpu_hours_month
    sigma = float(np.std(np.log(sizes))) if len(sizes) > 1 else prior.entrant_sigma
    durations = [round(_months(a.start, a.end)) for a in awards]
    # Month-to-month spread, robustly (median absolute deviation): an award running dry is
    # one large step, not noise. A ratio of two noisy months has √2 times the noise.
    noise = 0.0
    measured = len(log_ratios) >= MIN_STEPS
    if measured:
        r = np.array(log_ratios)
        noise = float(1.4826 * np.median(np.abs(r - np.median(r)))) / math.sqrt(2)
    params = replace(
        prior,
        approval_rates=rates or dict(prior.approval_rates),
        decision_lead_months=lead,
        stale_after_months=stale,
        renewal_share=renewal,
        entrants_per_year=per_year,
        entrants_sd_per_year=math.sqrt(recent) / span * 12 if span > 0 else 0.0,
        entrant_award_share=rates.get("default", prior.entrant_award_share),
        entrant_gpu_hours_month=mean_size,
        entrant_sigma=sigma,
        entrant_months=int(np.median(durations)) if durations else prior.entrant_months,
        # Measured where the history allows (three month-to-month steps or more): a burn rate
        # that is a mean of BURN_MONTHS months is uncertain by the noise over √BURN_MONTHS.
        burn_sigma=noise / math.sqrt(BURN_MONTHS) if measured else prior.burn_sigma,
        monthly_noise_sigma=noise if measured else prior.monthly_noise_sigma,
    )
    other = [history.other_usage.get(label, 0.0) for label in labels[-BURN_MONTHS:]]
    return Fitted(committed, pipeline, params, float(np.mean(other)) if other else 0.0)


def months_from(as_of: Month, count: int) -> Sequence[Month]:
    """``count`` months from ``as_of``, indexed from 0 (the flows' horizon)."""
    out: list[Month] = []
    first = as_of.first
    for i in range(count):
        out.append(Month(i, first))
        first = out[-1].next_first
    return out
