"""Backtesting the flows: plan as of past months from what was known then, compare with what
happened.

For every "as of" month with enough history before it and ``horizon`` months after it, the
flows are fitted (:func:`computeport.capacity.history.fit_flows`) and drawn over ``seeds``;
month ``as_of + h - 1`` is horizon ``h``. Per horizon: the weighted absolute error of the p50
demand (Σ|p50 − actual| / Σ actual: months where usage fell to zero do not divide by zero), the
mean absolute error of utilisation in points, and the band's coverage (share of outcomes
inside p10–p90; a calibrated band covers ~80%), counted over the outcomes that test the band
(a month with nothing forecast and nothing used is left out: it is right by construction).

Utilisation here is demand over capacity, capped at 1 (a fluid reading, not the simulator: a
backtest draws thousands of plans and the question is whether the *demand* was right).

What is compared with what happened is the demand the centre could serve: usage never exceeds
what the cluster delivers, so each seed's month is the lesser of its demand (with the demand's
measured month-to-month noise) and what the centre serves when full (as known before the "as
of" month, with the spread of its full months: :func:`served_ceiling`; the capacity itself
for a centre never yet full). Without the cut, a full centre whose new awards add demand beyond
its capacity reads as a forecast error that no plan could close (the plan itself reports unmet
demand as queueing, not as usage); without the ceiling's own spread, every seed of a full month
would sit exactly at the ceiling and the band would have no width.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace

import numpy as np

from computeport.capacity.calendar import Month
from computeport.capacity.flows import FlowParams, flow_series
from computeport.capacity.history import SchemeHistory, fit_flows, months_from
from computeport.kit.errors import ValidationFailed

__all__ = [
    "Backtest",
    "Ceiling",
    "ForecastOutcome",
    "HorizonScore",
    "run_backtest",
    "served_ceiling",
]

MIN_KNOWN_MONTHS = 2
"""An "as of" month needs two complete months of usage before it (a burn rate to measure)."""


@dataclass(frozen=True, slots=True)
class ForecastOutcome:
    as_of: str
    horizon: int
    month: str
    actual: float
    p10: float
    p50: float
    p90: float
    utilisation_actual: float
    utilisation_p50: float

    @property
    def covered(self) -> bool:
        return self.p10 <= self.actual <= self.p90

    @property
    def informative(self) -> bool:
        """Whether the outcome tests the band: a month with nothing forecast and nothing used
        (every award spent) is right by construction and says nothing of the band's width."""
        return not (self.p90 == 0 and self.actual == 0)


@dataclass(frozen=True, slots=True)
class HorizonScore:
    horizon: int
    cases: int
    demand_error: float
    """Σ|p50 − actual| / Σ actual over the cases."""
    utilisation_error_points: float
    coverage: float
    tested: int = 0
    """Outcomes that test the band (the coverage's denominator)."""


@dataclass(frozen=True, slots=True)
class Backtest:
    as_of: list[str]
    seeds: int
    scores: list[HorizonScore]
    outcomes: list[ForecastOutcome]
    exhausted: dict[str, str | None]
    """Per "as of" month: when that plan had the envelope running out (p50), if it did."""

    def score(self, horizon: int) -> HorizonScore | None:
        return next((s for s in self.scores if s.horizon == horizon), None)

    @property
    def coverage(self) -> float:
        """Share of informative outcomes inside their p10–p90 band."""
        return _coverage(self.outcomes)

    def to_dict(self) -> dict[str, object]:
        return {
            "as_of": self.as_of,
            "seeds": self.seeds,
            "coverage": round(self.coverage, 4),
            "scores": [asdict(s) for s in self.scores],
            "outcomes": [
                asdict(o) | {"covered": o.covered, "informative": o.informative}
                for o in self.outcomes
            ],
            "exhausted": self.exhausted,
        }


def candidate_months(history: SchemeHistory) -> list[Month]:
    """The months a plan can be made as of: enough complete months of usage before them."""
    return history.months[MIN_KNOWN_MONTHS:]


def run_backtest(
    history: SchemeHistory,
    prior: FlowParams,
    *,
    horizon: int = 6,
    seeds: int = 200,
    as_of: Sequence[str] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Backtest:
    """Backtest every candidate month (or the ``as_of`` labels, each checked against history).

    Raises:
        ValidationFailed: an ``as_of`` month outside the history (field ``as_of``).
    """
    candidates = candidate_months(history)
    by_label = {m.label: m for m in candidates}
    if as_of:
        bad = [label for label in as_of if label not in by_label]
        if bad:
            first, last = candidates[0].label, candidates[-1].label
            raise ValidationFailed(
                f"{', '.join(bad)}: outside the history (a backtest month is from {first} "
                f"to {last})"
                if candidates
                else f"{', '.join(bad)}: the history is too short",
                field="as_of",
            )
        chosen = [by_label[label] for label in as_of]
    else:
        chosen = candidates
    known = {m.label for m in history.months}
    outcomes: list[ForecastOutcome] = []
    exhausted: dict[str, str | None] = {}
    for k, month in enumerate(chosen):
        fitted = fit_flows(history, month, prior)
        ahead = [m for m in months_from(month, horizon) if m.label in known]
        if not ahead:
            continue
        full = served_ceiling(history, month)
        noise = fitted.params.monthly_noise_sigma
        # A few full months, picked by their nearness to the busiest, understate their own
        # spread: it is never taken below the month-to-month noise of the whole history.
        full_noise = max(full.sigma or 0.0, noise)
        caps = [history.capacity_gpu_hours.get(m.label, 0.0) for m in ahead]
        limit = np.array([full.share * c if c > 0 else np.inf for c in caps])  # unknown: no cut
        quiet = replace(fitted.params, monthly_noise_sigma=0.0)
        rng = np.random.default_rng([k, 0xB7])
        totals = np.zeros((seeds, len(ahead)))
        gone: list[int] = []
        for s in range(seeds):
            series = flow_series(fitted.awards, fitted.pipeline, quiet, ahead, s)
            demand = np.array(series.total) + fitted.copay_per_month
            totals[s] = np.minimum(
                demand * _noise(rng, noise, len(ahead)), limit * _noise(rng, full_noise, len(ahead))
            )
            gone.append(series.exhausted if series.exhausted is not None else len(ahead))
        mid = int(np.median(gone))
        exhausted[month.label] = ahead[mid].label if mid < len(ahead) else None
        for h, m in enumerate(ahead):
            cap = history.capacity_gpu_hours.get(m.label, 0.0)
            util = np.minimum(totals[:, h] / cap, 1.0) if cap > 0 else np.zeros(seeds)
            p10, p50, p90 = (float(v) for v in np.percentile(totals[:, h], [10, 50, 90]))
            actual = history.used(m.label)
            outcomes.append(
                ForecastOutcome(
                    as_of=month.label,
                    horizon=h + 1,
                    month=m.label,
                    actual=round(actual, 3),
                    p10=round(p10, 3),
                    p50=round(p50, 3),
                    p90=round(p90, 3),
                    utilisation_actual=round(min(1.0, actual / cap) if cap > 0 else 0.0, 6),
                    utilisation_p50=round(float(np.median(util)), 6),
                )
            )
        if progress is not None:
            progress(k + 1, len(chosen))
    labels = [m.label for m in chosen]
    return Backtest(labels, seeds, _scores(outcomes, horizon), outcomes, exhausted)


FULL_SHARE = 0.85
"""A month that used 85% or more of the capacity was a full month: a Slurm centre's queue
rarely lets more through (nodes drain, big jobs wait for whole nodes). ASSUMPTION, stated."""
FULL_WITHIN = 0.95
"""...and so was any month within 5% of the busiest month known."""
MIN_FULL_MONTHS = 3
"""Full months before their spread is measured (else the demand's month-to-month noise)."""


@dataclass(frozen=True, slots=True)
class Ceiling:
    """What a full centre serves: ``share`` of its capacity, spread ``sigma`` (log) from month
    to month (``None``: too few full months to say)."""

    share: float
    sigma: float | None = None


def served_ceiling(history: SchemeHistory, as_of: Month) -> Ceiling:
    """What the centre serves when full, as known before ``as_of``.

    The mean share over the full months known (:data:`FULL_SHARE`, :data:`FULL_WITHIN`) and
    their spread: a mean, not the busiest month, because the spread is drawn around it. A
    centre that has never been full has not shown where its ceiling is: its demand is cut at
    the capacity (share 1).
    """
    shares = [
        history.used(m.label) / cap
        for m in history.months
        if m.first < as_of.first and (cap := history.capacity_gpu_hours.get(m.label, 0.0)) > 0
    ]
    if not shares or max(shares) < FULL_SHARE:
        return Ceiling(1.0)
    full = [x for x in shares if x >= max(FULL_SHARE, FULL_WITHIN * max(shares))]
    sigma = float(np.std(np.log(full), ddof=1)) if len(full) >= MIN_FULL_MONTHS else None
    return Ceiling(float(np.mean(full)), sigma)


def _noise(rng: np.random.Generator, sigma: float, n: int) -> np.ndarray:
    """Mean-one log-normal factors (ones when there is no spread)."""
    if sigma <= 0:
        return np.ones(n)
    return rng.lognormal(-sigma * sigma / 2, sigma, n)


def _coverage(outcomes: Sequence[ForecastOutcome]) -> float:
    tested = [o.covered for o in outcomes if o.informative]
    return float(np.mean(tested)) if tested else 0.0


def _scores(outcomes: Sequence[ForecastOutcome], horizon: int) -> list[HorizonScore]:
    out: list[HorizonScore] = []
    for h in range(1, horizon + 1):
        group = [o for o in outcomes if o.horizon == h]
        if not group:
            continue
        actual = sum(o.actual for o in group)
        miss = sum(abs(o.p50 - o.actual) for o in group)
        out.append(
            HorizonScore(
                horizon=h,
                cases=len(group),
                demand_error=round(miss / actual, 6) if actual > 0 else 0.0,
                utilisation_error_points=round(
                    float(np.mean([abs(o.utilisation_p50 - o.utilisation_actual) for o in group]))
                    * 100,
                    4,
                ),
                coverage=round(_coverage(group), 4),
                tested=sum(o.informative for o in group),
            )
        )
    return out
