"""Recommendations: the smallest capacity step that keeps the targets, and capacity-aware approval.

**Build plan.** Greedy by phase, each phase found by search over simulated plans:

1. evaluate the plan; take the first month that breaks a target;
2. a step there — GPUs of the scenario's chosen type at its chosen site, *by* that month's
   first day (the latest date that still prevents the break) — is sized by search over
   simulated plans: starting from the size that would bring demand to the utilisation
   target, bracket (halving down or growing by half up), then bisect to whole multiples of
   ``granularity_nodes`` nodes; each probe simulates the window's month with the most demand
   per GPU under ``search_seeds`` seeds; the size found is then checked on every broken month
   of the next ``cover_months`` (a failure raises the floor and searches again);
3. add the step, re-simulate the months still broken, and repeat, up to ``max_steps``.

Adding capacity is assumed never to hurt, so months that keep the targets are not
re-simulated: that holds exactly for strict FIFO with pool placement (tested) and on the
average over seeds under backfill (tested).

**Capacity-aware approval.** Before the committee approves a batch of awards: the GPU-hours
the batch commits per month next to what the supply can deliver at the utilisation target,
less what existing awards already commit; the first month the batch does not fit.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from computeport.capacity.calendar import horizon
from computeport.capacity.demand import (
    AwardDemand,
    committed_gpu_hours,
    org_growth_from_scenario,
    reference_factor,
    unawarded_gpu_hours,
)
from computeport.capacity.evaluate import MonthPlan, PlanEvaluation, evaluate_months
from computeport.capacity.fanout import Runner
from computeport.capacity.scenario import Scenario
from computeport.capacity.supply import AddedStep, SupplyPlan
from computeport.simulator import WorkloadModel

__all__ = [
    "ApprovalMonth",
    "BuildPlan",
    "SearchProbe",
    "approval_check",
    "first_unfit",
    "recommend_build",
]


@dataclass(frozen=True, slots=True)
class SearchProbe:
    """One size the search tried, and whether it kept the targets."""

    step: int
    gpus: int
    ok: bool
    broken_month: str | None


@dataclass(frozen=True, slots=True)
class BuildPlan:
    """The recommended steps (in order) and the search's trail."""

    steps: list[AddedStep]
    probes: list[SearchProbe]
    unresolved: str | None
    """What the steps leave broken, and why (``None``: the horizon is clean)."""


def recommend_build(
    scenario: Scenario,
    supply: SupplyPlan,
    model: WorkloadModel,
    base: PlanEvaluation,
    *,
    runner: Runner | None = None,
    awards: Sequence[AwardDemand] | None = None,
    on_probe: Callable[[SearchProbe], None] | None = None,
) -> BuildPlan:
    """Greedy phased steps that keep the targets (see the module docstring)."""
    rec = scenario.recommend
    if rec is None or not rec.enabled:
        return BuildPlan([], [], "no [recommend] section in the scenario")
    acc = scenario.accelerator(rec.accelerator)
    ref = scenario.accelerator(scenario.reference_accelerator)
    unit = rec.granularity_nodes * acc.gpus_per_node
    per_gpu = acc.pflops_per_gpu / ref.pflops_per_gpu  # reference GPUs per added GPU
    seeds = range(rec.search_seeds)
    workers = runner.workers if runner is not None else 1
    months = horizon(scenario.start, scenario.months)
    status: dict[int, MonthPlan] = {m.index: m for m in base.months}
    steps: list[AddedStep] = []
    probes: list[SearchProbe] = []
    plan = supply

    def evaluate(candidate: SupplyPlan, indices: list[int]) -> list[MonthPlan]:
        chunks = max(1, (2 * workers + len(seeds) - 1) // len(seeds))
        return evaluate_months(
            scenario,
            candidate,
            model,
            seeds=seeds,
            month_indices=indices,
            runner=runner,
            awards=awards,
            chunks_per_seed=min(chunks, len(indices)),
            verdict_only=True,  # the search reads broken flags and demand, never service bands
        ).months

    def trial(gpus: int, *, at: dt.date, month: int) -> bool:
        step = AddedStep(rec.site, rec.accelerator, at, gpus)
        got = evaluate(plan.with_added([step]), [month])[0]
        probe = SearchProbe(len(steps), gpus, not got.broken, got.label if got.broken else None)
        probes.append(probe)
        if on_probe is not None:
            on_probe(probe)
        return not got.broken

    first_ok = next(
        (m.index for m in months if rec.earliest is None or m.first >= rec.earliest), len(months)
    )
    before = [m.label for m in base.months if m.broken and m.index < first_ok]
    note = (
        f"{len(before)} broken month(s) before {rec.earliest} cannot be helped at {rec.site}"
        if before
        else None
    )
    fixable = months[first_ok:]
    while len(steps) < rec.max_steps:
        broken = next((status[m.index] for m in fixable if status[m.index].broken), None)
        if broken is None:
            return BuildPlan(steps, probes, note)
        start = broken.index
        when = months[start].first
        # Months that keep the targets keep them with more capacity: only broken ones are checked.
        window = [
            i for i in range(start, min(len(months), start + rec.cover_months)) if status[i].broken
        ]
        size = 0
        worst = max(window, key=lambda i: _pressure(status[i]))
        guess = _first_guess(
            [status[i] for i in window], scenario.targets.max_utilisation, per_gpu, unit
        )
        for _ in range(4):  # a month of the window may still break: raise the floor, retry
            found = _smallest(
                functools.partial(trial, at=when, month=worst),
                max(guess, size + unit),
                unit,
                rec.max_gpus,
                floor=size,
            )
            if found is None:
                return BuildPlan(steps, probes, f"more than {rec.max_gpus:,} GPUs needed by {when}")
            size = found
            checked = evaluate(
                plan.with_added([AddedStep(rec.site, rec.accelerator, when, size)]), window
            )
            still = [m for m in checked if m.broken]
            if not still:
                break
            worst = still[0].index
        steps.append(AddedStep(rec.site, rec.accelerator, when, size))
        plan = plan.with_added([steps[-1]])
        for m in checked:
            status[m.index] = m
        later = [i for i, m in status.items() if m.broken and i >= start]
        for m in evaluate(plan, later) if later else []:
            status[m.index] = m
    broken = next((status[m.index] for m in fixable if status[m.index].broken), None)
    unresolved = (
        note if broken is None else f"still broken from {broken.label} after {len(steps)} steps"
    )
    return BuildPlan(steps, probes, unresolved)


def _pressure(m: MonthPlan) -> float:
    return m.demand_gpu_hours.p50 / max(1.0, m.supply_gpu_hours)


def _first_guess(window: Sequence[MonthPlan], max_util: float, per_gpu: float, unit: int) -> int:
    """Added GPUs that would bring demand to the utilisation target (a start for the search)."""
    need = 0.0
    for m in window:
        hours = m.supply_gpu_hours / max(1, m.gpus)
        need = max(need, m.demand_gpu_hours.p50 / (hours * max_util) - m.gpus)
    return max(unit, math.ceil(need / per_gpu / unit) * unit)


def _smallest(
    ok: Callable[[int], bool], guess: int, unit: int, limit: int, floor: int = 0
) -> int | None:
    """The smallest multiple of ``unit`` above ``floor`` with ``ok``, searched from ``guess``.

    Brackets around the guess (halving down, growing by half up), then bisects to ``unit``.
    """
    guess = max(floor + unit, guess // unit * unit)
    if ok(guess):
        hi, lo = guess, floor
        probe = max(floor, (floor + guess) // 2 // unit * unit)
        while probe > floor and ok(probe):
            hi = probe
            probe = max(floor, (floor + probe) // 2 // unit * unit)
        lo = probe
    else:
        lo, hi = guess, guess
        while True:
            hi = max(hi + unit, (hi * 3 // 2) // unit * unit)
            if hi > limit:
                return None
            if ok(hi):
                break
            lo = hi
    while hi - lo > unit:
        mid = (lo + hi) // 2 // unit * unit
        if ok(mid):
            hi = mid
        else:
            lo = mid
    return hi


@dataclass(frozen=True, slots=True)
class ApprovalMonth:
    """One month of a capacity-aware approval check (reference GPU-hours)."""

    label: str
    deliverable: float
    """Supply × the utilisation target."""
    committed: float
    """Existing (active) awards."""
    batch: float
    """The batch under decision."""
    headroom: float
    """deliverable − committed − batch (negative: the batch does not fit)."""
    other: float = 0.0
    """Expected unawarded demand (median over seeds of the demand model; 0 if not asked)."""

    @property
    def fits(self) -> bool:
        return self.headroom >= 0

    @property
    def headroom_with_demand(self) -> float:
        """What is left once the expected unawarded demand is served too."""
        return round(self.headroom - self.other, 1)


def approval_check(
    scenario: Scenario,
    supply: SupplyPlan,
    batch: Sequence[AwardDemand],
    existing: Sequence[AwardDemand],
    *,
    demand_seeds: int = 0,
) -> list[ApprovalMonth]:
    """GPU-hours a batch of pending awards commits per month vs what can be delivered.

    With ``demand_seeds`` > 0, each month also carries the median unawarded demand of the
    scenario's demand model over that many seeds (no simulation: a quick, committee-time view).
    """
    months = horizon(scenario.start, scenario.months)
    factor = reference_factor(
        {a.name: a.pflops_per_gpu for a in scenario.accelerators}, scenario.reference_accelerator
    )
    usage = scenario.demand.award_usage_share
    have = committed_gpu_hours(
        [a for a in existing if not a.pending], months, usage_share=usage, to_reference=factor
    )
    new = committed_gpu_hours(
        [AwardDemand(a.name, a.gpu_hours, a.start, a.end, a.accelerator, False) for a in batch],
        months,
        usage_share=usage,
        to_reference=factor,
    )
    growth = org_growth_from_scenario(scenario)
    draws = [unawarded_gpu_hours(growth, months, scenario.start, s) for s in range(demand_seeds)]
    other = [float(np.median(col)) for col in zip(*draws, strict=True)] if draws else []
    out = []
    target = scenario.targets.max_utilisation
    for i, (m, c, b) in enumerate(zip(months, have, new, strict=True)):
        deliver = supply.month(m).gpu_hours * target
        out.append(
            ApprovalMonth(
                m.label,
                round(deliver, 1),
                round(c, 1),
                round(b, 1),
                round(deliver - c - b, 1),
                round(other[i], 1) if other else 0.0,
            )
        )
    return out


def first_unfit(months: Sequence[ApprovalMonth]) -> ApprovalMonth | None:
    """The first month the batch does not fit (``None``: it fits throughout)."""
    return next((m for m in months if not m.fits), None)
