"""Demand from the scheme's own money: five flows, one seeded draw at a time.

Why flows and not one growth curve: a subsidised centre's demand is what the scheme pays for.
Today's awards burn down and end; the envelope that remains is awarded to applications in the
pipeline, to follow-on applications of expiring awards and to organisations that join; and when
the envelope is spent, only the demand that pays full price remains. A plan that grows one
curve from today's usage misses all of this (issue #15), so each flow is drawn separately:

1. ``committed``: each award's remaining GPU-hours drawn at its measured burn rate (not spread
   flat), until the hours or the award's dates run out;
2. ``pipeline``: each application awaiting a decision is approved with its category's approval
   rate, starting when the decision is expected (the measured lead time); applications left
   undecided far longer than usual (``stale_after_months``) are taken as going nowhere;
3. ``renewals``: an award that ends comes back as a follow-on with ``renewal_share``;
4. ``new_entrants``: organisations join at ``entrants_per_year``; ``entrant_award_share`` of them
   win an award whose monthly GPU-hours are drawn from the fitted per-organisation log-normal;
5. the envelope: flows 2–4 are new awards; each commits its subsidy (its GPU-hours at
   ``cost_per_gpu_hour_hkd``) against what the envelope has not committed when it starts, and
   hours today's awards leave unused return at their end (the scheme's rule, DESIGN.md). The
   first award the envelope cannot pay in full marks the exhaustion month; its unpaid part,
   and every award after it, stays only as ``copay`` demand (full price) at ``copay_share`` of
   itself (the labelled elasticity, :func:`copay_share`).

Every figure is in reference GPU-hours a month. Pure Python and numpy: no simulator, so a
backtest can draw thousands of these in seconds.
"""

from __future__ import annotations

import datetime as dt
import heapq
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from computeport.capacity.calendar import Month

__all__ = [
    "FLOWS",
    "SUBSIDISED",
    "CommittedAward",
    "FlowParams",
    "FlowSeries",
    "PipelineEntry",
    "copay_share",
    "flow_series",
]

FLOWS = ("committed", "pipeline", "renewals", "new_entrants", "copay")
"""The components of demand, in the order the report shows them."""
SUBSIDISED = ("pipeline", "renewals", "new_entrants")
"""The flows the remaining envelope pays for (committed awards are already paid for)."""

MONTH_DAYS = 365.25 / 12


@dataclass(frozen=True, slots=True)
class CommittedAward:
    """An award already decided: its GPU-hours, what it has used, and how fast it burns."""

    name: str
    gpu_hours: float
    start: dt.date
    end: dt.date
    used_gpu_hours: float = 0.0
    burn_per_month: float | None = None
    """Measured GPU-hours a month; ``None``: the remaining hours spread over the months left."""


@dataclass(frozen=True, slots=True)
class PipelineEntry:
    """An application awaiting a decision."""

    name: str
    gpu_hours: float
    duration_months: int
    submitted: dt.date
    category: str = "default"


@dataclass(frozen=True, slots=True)
class FlowParams:
    """The measured (or assumed, where labelled in the scenario) rates the flows are drawn from."""

    approval_rates: dict[str, float] = field(default_factory=lambda: {"default": 0.5})
    decision_lead_months: float = 2.0
    stale_after_months: float = 12.0
    renewal_share: float = 0.0
    renewal_gap_months: int = 1
    renewal_size: float = 1.0
    entrants_per_year: float = 0.0
    entrants_sd_per_year: float = 0.0
    entrant_award_share: float = 0.0
    entrant_gpu_hours_month: float = 0.0
    """Mean monthly GPU-hours of an entrant's award (the fitted log-normal's mean)."""
    entrant_sigma: float = 0.0
    entrant_months: int = 24
    intensity_growth_per_year: float = 0.0
    burn_sigma: float = 0.0
    """Log-normal spread of an award's burn rate, per seed."""
    monthly_noise_sigma: float = 0.0
    envelope_remaining_hkd: float = math.inf
    cost_per_gpu_hour_hkd: float = 0.0
    copay_share: float = 0.0

    def approval_rate(self, category: str) -> float:
        return self.approval_rates.get(category, self.approval_rates.get("default", 0.0))


def copay_share(subsidy_rate: float, elasticity: float) -> float:
    """Share of the demand the subsidy paid for that stays when users pay the full price.

    Constant price elasticity: quantity ∝ price^(−elasticity); the user's price rises from
    ``1 − subsidy_rate`` of the list price to all of it, so demand keeps
    ``(1 − subsidy_rate)^elasticity`` of itself (70% subsidy, elasticity 0.5: 55%).
    """
    return float((1.0 - subsidy_rate) ** elasticity)


@dataclass(frozen=True, slots=True)
class FlowSeries:
    """One seed's flows: ``components[flow][month]`` and the envelope's exhaustion month."""

    components: dict[str, list[float]]
    exhausted: int | None
    envelope_left_hkd: list[float]

    @property
    def total(self) -> list[float]:
        return [sum(v) for v in zip(*self.components.values(), strict=True)]


def _months_between(a: dt.date, b: dt.date) -> float:
    return (b - a).days / MONTH_DAYS


def _add_months(day: dt.date, months: float) -> dt.date:
    return day + dt.timedelta(days=round(months * MONTH_DAYS))


class _Grid:
    """Adds ``rate`` GPU-hours a month over ``[a, b)`` into a month array, prorated by day."""

    def __init__(self, months: Sequence[Month]) -> None:
        self.months = months
        self.first = months[0].first
        self.end = months[-1].next_first

    def index(self, day: dt.date) -> int:
        """The month ``day`` falls in (the first month for days before the horizon)."""
        for m in self.months:
            if day < m.next_first:
                return m.index
        return len(self.months)

    def add(self, out: list[float], a: dt.date, b: dt.date, per_month: float) -> None:
        if b <= self.first or a >= self.end or per_month <= 0:
            return
        for m in self.months:
            lo, hi = max(a, m.first), min(b, m.next_first)
            if hi > lo:
                out[m.index] += per_month * (hi - lo).days / MONTH_DAYS


@dataclass(order=True)
class _NewAward:
    """A new subsidised award (or follow-on), in the order the envelope meets them."""

    start: dt.date
    flow: str = field(compare=False)
    end: dt.date = field(compare=False)
    per_month: float = field(compare=False)
    span: float = field(compare=False)


def flow_series(
    awards: Sequence[CommittedAward],
    pipeline: Sequence[PipelineEntry],
    params: FlowParams,
    months: Sequence[Month],
    seed: int,
) -> FlowSeries:
    """Draw the five flows over ``months`` for one seed (the first month is "now")."""
    rng = np.random.default_rng([seed, 0xF10])
    grid = _Grid(months)
    now = months[0].first
    n = len(months)
    comp: dict[str, list[float]] = {f: [0.0] * n for f in FLOWS}
    draw = 1.0
    if params.burn_sigma > 0:
        sb = params.burn_sigma
        draw = float(rng.lognormal(-sb * sb / 2, sb))
    comp["committed"], expired = _burn_down(awards, months, draw)
    queue: list[_NewAward] = []
    for award in awards:
        _renew(queue, rng, params, now, award.end, award.gpu_hours, award.start)
    for app in pipeline:
        if _months_between(app.submitted, now) > params.stale_after_months:
            continue
        if rng.random() >= params.approval_rate(app.category):
            continue
        start = max(now, _add_months(app.submitted, params.decision_lead_months))
        span = float(app.duration_months)
        end = _add_months(start, span)
        heapq.heappush(queue, _NewAward(start, "pipeline", end, app.gpu_hours / span, span))
    per_year = max(0.0, float(rng.normal(params.entrants_per_year, params.entrants_sd_per_year)))
    winners_per_month = per_year * params.entrant_award_share / 12
    if winners_per_month > 0 and params.entrant_gpu_hours_month > 0:
        s = params.entrant_sigma
        for m in months:
            for _ in range(int(rng.poisson(winners_per_month))):
                joined = m.first + dt.timedelta(days=int(rng.integers(0, m.days)))
                start = _add_months(joined, params.decision_lead_months)
                years = _months_between(now, start) / 12
                size = params.entrant_gpu_hours_month * float(rng.lognormal(-s * s / 2, s))
                size *= (1.0 + params.intensity_growth_per_year) ** max(0.0, years)
                span = float(params.entrant_months)
                end = _add_months(start, span)
                heapq.heappush(queue, _NewAward(start, "new_entrants", end, size, span))
    exhausted, trail = _envelope(queue, comp, expired, grid, rng, params, now)
    if params.monthly_noise_sigma > 0:
        s = params.monthly_noise_sigma
        for f in FLOWS:
            noise = rng.lognormal(-s * s / 2, s, n)
            comp[f] = [v * float(k) for v, k in zip(comp[f], noise, strict=True)]
    return FlowSeries(comp, exhausted, trail)


def _renew(
    queue: list[_NewAward],
    rng: np.random.Generator,
    params: FlowParams,
    now: dt.date,
    end: dt.date,
    gpu_hours: float,
    start: dt.date,
) -> None:
    """With ``renewal_share``, a follow-on of an award ending at ``end`` joins the queue."""
    span = _months_between(start, end)
    if span <= 0 or rng.random() >= params.renewal_share:
        return
    begin = max(now, _add_months(end, params.renewal_gap_months))
    hours = gpu_hours * params.renewal_size
    heapq.heappush(
        queue, _NewAward(begin, "renewals", _add_months(begin, span), hours / span, span)
    )


def _envelope(
    queue: list[_NewAward],
    comp: dict[str, list[float]],
    expired: list[float],
    grid: _Grid,
    rng: np.random.Generator,
    params: FlowParams,
    now: dt.date,
) -> tuple[int | None, list[float]]:
    """Commit each new award's subsidy against the envelope, in the order they start.

    As the scheme does (DESIGN.md): an award commits its whole subsidy when it is made; hours a
    committed award leaves unused at its end return to the envelope. An award the envelope can
    pay only in part is made for what is left; the unpaid part stays as co-paying demand at
    ``copay_share``. Only paid awards are renewed: a follow-on needs the scheme's money.
    """
    left = params.envelope_remaining_hkd
    cost = params.cost_per_gpu_hour_hkd
    returns = [h * cost for h in expired]
    exhausted: int | None = None
    credited = 0
    trail: list[float] = []
    horizon_end = grid.end
    while queue and queue[0].start < horizon_end:
        item = heapq.heappop(queue)
        index = grid.index(item.start)
        while credited < index:  # returns of months before this award's start
            left += returns[credited]
            trail.append(left)
            credited += 1
        hours = item.per_month * (item.end - item.start).days / MONTH_DAYS
        bill = hours * cost
        paid = 1.0 if bill <= left else (left / bill if bill > 0 else 0.0)
        left = max(0.0, left - bill * paid)
        grid.add(comp[item.flow], item.start, item.end, item.per_month * paid)
        if paid < 1.0:
            grid.add(
                comp["copay"],
                item.start,
                item.end,
                item.per_month * (1 - paid) * params.copay_share,
            )
            if exhausted is None:
                exhausted = index
        if paid > 0 and item.end < horizon_end:
            _renew(queue, rng, params, now, item.end, hours * paid, item.start)
    while credited < len(returns):
        left += returns[credited]
        trail.append(left)
        credited += 1
    return exhausted, trail


def _burn_down(
    awards: Sequence[CommittedAward], months: Sequence[Month], draw: float
) -> tuple[list[float], list[float]]:
    """Committed GPU-hours a month, and the hours that expire unused each month: the awards
    burn down as one pool.

    Each award burns at its measured rate (``draw`` scales them all, per seed) while it runs;
    the hours are taken from the pool of what the running awards have left, in proportion to
    what each has left. Why a pool: at a full centre the capacity an exhausted award frees goes
    to the others' queued work, so the awards run dry together, not one by one; hours left at
    an award's end expire with it.
    """
    now = months[0].first
    # An award with less than a thousandth of its hours left is spent (what remains is
    # rounding, or less than any job needs): it no longer draws on the pool.
    left = [
        rest if (rest := a.gpu_hours - a.used_gpu_hours) > max(1.0, a.gpu_hours / 1000) else 0.0
        for a in awards
    ]
    rates: list[float] = []
    for a, rest in zip(awards, left, strict=True):
        span = _months_between(max(a.start, now), a.end)
        fallback = rest / span if span > 0 else 0.0
        rates.append((a.burn_per_month if a.burn_per_month is not None else fallback) * draw)
    out: list[float] = []
    expired: list[float] = []
    for m in months:
        want = 0.0
        running: list[int] = []
        for k, a in enumerate(awards):
            days = (min(a.end, m.next_first) - max(a.start, m.first)).days
            if days > 0 and left[k] > 0:
                want += rates[k] * days / MONTH_DAYS
                running.append(k)
        pool = sum(left[k] for k in running)
        use = min(want, pool)
        if pool > 0:
            for k in running:
                left[k] -= left[k] * use / pool
        out.append(use)
        gone = 0.0
        for k in running:
            if awards[k].end <= m.next_first:
                gone += left[k]
                left[k] = 0.0
        expired.append(gone)
    return out, expired
