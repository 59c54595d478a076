"""Demand: committed GPU-hours from awards, plus unawarded demand grown from organisations.

Committed demand is deterministic: each award's GPU-hours spread evenly by day over its dates
(pending awards optionally included: "what if the committee approves the batch"). Unawarded
demand is seeded: per seed the organisations' growth and their demand per head are drawn
around the scenario's values, and each month adds noise; many seeds give percentile bands.

Inputs are plain dataclasses (:class:`AwardDemand`, :class:`OrgGrowth`), so awards can come
from a scenario file or from the database (``capacity.awards_source``) alike. Every figure is
in *reference GPU-hours* (GPU-hours of the reference accelerator with the same PFLOPS).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from computeport.capacity.calendar import Month, overlap_days
from computeport.capacity.flow_inputs import flow_inputs
from computeport.capacity.flows import flow_series
from computeport.capacity.scenario import Scenario

__all__ = [
    "AwardDemand",
    "MonthDemand",
    "OrgGrowth",
    "awards_from_scenario",
    "committed_gpu_hours",
    "demand_series",
    "org_growth_from_scenario",
    "reference_factor",
    "unawarded_gpu_hours",
]


@dataclass(frozen=True, slots=True)
class AwardDemand:
    """An award's (or a pending application's) GPU-hours over ``[start, end)``."""

    name: str
    gpu_hours: float
    start: dt.date
    end: dt.date
    accelerator: str
    pending: bool = False


@dataclass(frozen=True, slots=True)
class OrgGrowth:
    """How unawarded demand grows (see :class:`computeport.capacity.scenario.Organisations`)."""

    count: int
    growth_per_year: float
    active_share: float
    gpu_hours_per_active_org_month: float
    growth_sd_per_year: float = 0.0
    intensity_growth_per_year: float = 0.0
    demand_sigma: float = 0.0
    monthly_noise_sigma: float = 0.0


@dataclass(frozen=True, slots=True)
class MonthDemand:
    """One month's demand in reference GPU-hours."""

    committed: float
    unawarded: float
    flows: dict[str, float] = field(default_factory=dict)
    """With a scenario's ``[demand.flows]``: demand by flow (they add up to the total)."""
    exhausted: bool = False
    """The scheme's envelope could not pay all the new subsidy this month or before."""

    @property
    def total(self) -> float:
        return self.committed + self.unawarded


def reference_factor(pflops_per_gpu: dict[str, float], reference: str) -> Callable[[str], float]:
    """GPU-hours of a type → reference GPU-hours (by PFLOPS; names match case-insensitively)."""
    table = {k.lower(): v for k, v in pflops_per_gpu.items()}
    ref = table[reference.lower()]

    def factor(accelerator: str) -> float:
        return table.get(accelerator.lower(), ref) / ref

    return factor


def committed_gpu_hours(
    awards: Sequence[AwardDemand],
    months: Sequence[Month],
    *,
    include_pending: bool = True,
    usage_share: float = 1.0,
    to_reference: Callable[[str], float] = lambda _: 1.0,
) -> list[float]:
    """Reference GPU-hours the awards commit in each month (even spread by day)."""
    out = [0.0] * len(months)
    for award in awards:
        if award.pending and not include_pending:
            continue
        total_days = (award.end - award.start).days
        if total_days <= 0:
            continue
        per_day = award.gpu_hours * usage_share * to_reference(award.accelerator) / total_days
        for i, m in enumerate(months):
            out[i] += per_day * overlap_days(award.start, award.end, m.first, m.next_first)
    return out


def unawarded_gpu_hours(
    growth: OrgGrowth, months: Sequence[Month], start: dt.date, seed: int
) -> list[float]:
    """Seeded unawarded demand per month (reference GPU-hours).

    Seed-level draws: the yearly growth of organisations ~ Normal(growth, sd) (≥ 0) and a
    demand multiplier ~ LogNormal with mean 1 (σ = ``demand_sigma``); month-level: LogNormal
    noise with mean 1 (σ = ``monthly_noise_sigma``).
    """
    rng = np.random.default_rng([seed, 0xDE])
    per_year = max(0.0, float(rng.normal(growth.growth_per_year, growth.growth_sd_per_year)))
    s = growth.demand_sigma
    level = float(rng.lognormal(-s * s / 2, s)) if s > 0 else 1.0
    n = growth.monthly_noise_sigma
    noise = rng.lognormal(-n * n / 2, n, len(months)) if n > 0 else np.ones(len(months))
    out: list[float] = []
    for i, m in enumerate(months):
        years = m.years_from(start)
        orgs = growth.count + per_year * years
        intensity = math.pow(1.0 + growth.intensity_growth_per_year, years)
        days_share = m.days / (365.25 / 12)
        out.append(
            orgs
            * growth.active_share
            * growth.gpu_hours_per_active_org_month
            * intensity
            * days_share
            * level
            * float(noise[i])
        )
    return out


def awards_from_scenario(scenario: Scenario) -> list[AwardDemand]:
    return [
        AwardDemand(a.name, a.gpu_hours, a.start, a.end, a.accelerator, a.status == "pending")
        for a in scenario.demand.awards
    ]


def org_growth_from_scenario(scenario: Scenario) -> OrgGrowth:
    o = scenario.demand.organisations
    return OrgGrowth(
        count=o.count,
        growth_per_year=o.growth_per_year,
        active_share=o.active_share,
        gpu_hours_per_active_org_month=o.gpu_hours_per_active_org_month,
        growth_sd_per_year=o.growth_sd_per_year,
        intensity_growth_per_year=o.intensity_growth_per_year,
        demand_sigma=o.demand_sigma,
        monthly_noise_sigma=o.monthly_noise_sigma,
    )


def demand_series(
    scenario: Scenario,
    months: Sequence[Month],
    seed: int,
    awards: Sequence[AwardDemand] | None = None,
) -> list[MonthDemand]:
    """The scenario's demand for one seed (``awards``, e.g. from the DB, replaces its own)."""
    factor = reference_factor(
        {a.name: a.pflops_per_gpu for a in scenario.accelerators}, scenario.reference_accelerator
    )
    if scenario.demand.flows is not None:
        return _flow_demand(scenario, months, seed, awards, factor)
    committed = committed_gpu_hours(
        awards if awards is not None else awards_from_scenario(scenario),
        months,
        include_pending=scenario.demand.include_pending,
        usage_share=scenario.demand.award_usage_share,
        to_reference=factor,
    )
    unawarded = unawarded_gpu_hours(
        org_growth_from_scenario(scenario), months, scenario.start, seed
    )
    return [MonthDemand(c, u) for c, u in zip(committed, unawarded, strict=True)]


def _flow_demand(
    scenario: Scenario,
    months: Sequence[Month],
    seed: int,
    awards: Sequence[AwardDemand] | None,
    factor: Callable[[str], float],
) -> list[MonthDemand]:
    """The five flows; today's organisations' own demand (no growth: the growth is the new
    entrants) co-pays beside what stays after the envelope runs out."""
    flows = scenario.demand.flows
    assert flows is not None
    committed, pipeline, params = flow_inputs(scenario, flows, awards, factor)
    series = flow_series(committed, pipeline, params, months, seed)
    today = replace(org_growth_from_scenario(scenario), growth_per_year=0.0, growth_sd_per_year=0.0)
    own = unawarded_gpu_hours(today, months, scenario.start, seed)
    out: list[MonthDemand] = []
    for i in range(len(months)):
        parts = {name: values[i] for name, values in series.components.items()}
        parts["copay"] += own[i]
        c = parts["committed"]
        exhausted = series.exhausted is not None and i >= series.exhausted
        out.append(MonthDemand(c, sum(parts.values()) - c, parts, exhausted))
    return out
