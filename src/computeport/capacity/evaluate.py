"""Plan evaluation: every month of the horizon simulated with the real scheduling core.

Each month is a steady-state snapshot (``capacity.workload``): the month's demand arrives as
jobs on a cluster of the month's capacity (all sites pooled in reference GPUs, 8-GPU nodes),
under the scenario's policy, driven by the simulator's :class:`Engine` — no queueing formula.
Per month and seed: utilisation, wait percentiles (jobs never started by the window's end
count with the wait they have had so far: a lower bound), offered and unmet GPU-hours (work
submitted in the window and not done by its end, scaled to the month). Over seeds: p10/p50/p90
bands; a month is *broken* when its band (p50 by default) passes a target.

Work is cut into JSON-able *seed tasks* (one seed, some months) so any :class:`Runner` can fan
them out: a local process pool, or one Slurm array element per seed.
"""

from __future__ import annotations

import gc
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from computeport.capacity.calendar import Month, horizon
from computeport.capacity.demand import AwardDemand, MonthDemand, demand_series
from computeport.capacity.fanout import Runner, SequentialRunner, balanced_chunks
from computeport.capacity.scenario import Scenario, Targets
from computeport.capacity.supply import MonthSupply, SupplyPlan
from computeport.capacity.workload import (
    fit_job_model,
    model_from_dict,
    model_to_dict,
    month_jobs,
)
from computeport.scheduling import Backfill, ClusterSpec, Estimates, Placement, PolicyConfig
from computeport.simulator import Engine, WorkloadModel

__all__ = [
    "Band",
    "MonthOutcome",
    "MonthPlan",
    "PlanEvaluation",
    "SimSettings",
    "check_targets",
    "evaluate_months",
    "evaluate_plan",
    "forget_simulated_months",
    "job_model_for",
    "month_seed",
    "run_seed_task",
    "sim_size",
    "simulate_month",
    "summarise",
]


@dataclass(frozen=True, slots=True)
class SimSettings:
    """How one month is simulated (the scenario's ``evaluation`` and ``policy``)."""

    model: str = "coarse"
    sample_days: int = 7
    warmup_days: float = 1.0
    aggregate_below_gpu_hours: float = 4.0
    bundle_gpu_hours: float = 16.0
    max_sim_gpus: int = 0
    order: str = "fifo"
    backfill: str = "easy"
    placement: str = "node"
    estimates: str = "limit"
    gpus_per_node: int = 8

    @staticmethod
    def of(scenario: Scenario) -> SimSettings:
        ev, pol = scenario.evaluation, scenario.policy
        return SimSettings(
            model=ev.model,
            sample_days=ev.sample_days,
            warmup_days=ev.warmup_days,
            aggregate_below_gpu_hours=ev.aggregate_below_gpu_hours,
            bundle_gpu_hours=ev.bundle_gpu_hours,
            max_sim_gpus=ev.max_sim_gpus,
            order=pol.order,
            backfill=pol.backfill,
            placement=pol.placement,
            estimates=pol.estimates,
            gpus_per_node=scenario.accelerator(scenario.reference_accelerator).gpus_per_node,
        )

    def policy(self) -> PolicyConfig:
        return PolicyConfig(
            order=self.order,
            backfill=Backfill(self.backfill),
            placement=Placement(self.placement),
            estimates=Estimates(self.estimates),
        )


@dataclass(frozen=True, slots=True)
class MonthOutcome:
    """One month under one seed."""

    seed: int
    month: int
    gpus: int
    offered_gpu_hours: float
    delivered_gpu_hours: float
    unmet_gpu_hours: float
    utilisation: float
    wait_p50_h: float
    wait_p90_h: float
    wait_mean_h: float
    jobs: int
    simulated_jobs: int


def month_seed(seed: int, month: int) -> int:
    """The arrival seed of (seed, month): independent of capacity, so plans compare fairly."""
    return int(np.random.SeedSequence([seed, month, 0xCA9]).generate_state(1)[0])


def sim_size(settings: SimSettings, gpus: int) -> int:
    """The GPUs a month is simulated on: all of them, or a scaled-down pool (whole nodes)."""
    per = settings.gpus_per_node
    if settings.model == "full" or settings.max_sim_gpus <= 0 or gpus <= settings.max_sim_gpus:
        return gpus
    return max(per, settings.max_sim_gpus // per * per)


def simulate_month(
    settings: SimSettings,
    model: WorkloadModel,
    *,
    seed: int,
    month: int,
    month_days: int,
    gpus: int,
    demand_gpu_hours: float,
) -> MonthOutcome:
    """Simulate one month on ``gpus`` reference GPUs at ``demand_gpu_hours`` of demand.

    The coarse model may simulate a scaled-down pool (``max_sim_gpus``) at the same load;
    GPU-hour figures are scaled back up.
    """
    coarse = settings.model == "coarse"
    measured_days = min(settings.sample_days, month_days) if coarse else month_days
    sim_gpus = sim_size(settings, gpus)
    k = gpus / sim_gpus if sim_gpus else 1.0
    mj = month_jobs(
        model,
        demand_gpu_hours / k / month_days,
        measured_days,
        settings.warmup_days,
        month_seed(seed, month),
        bundle_below_gpu_hours=settings.aggregate_below_gpu_hours if coarse else 0.0,
        bundle_gpu_hours=settings.bundle_gpu_hours,
    )
    scale = month_days / measured_days * k
    m0, m1 = mj.measure_from_s, mj.end_s
    n_measured = round(sum(mj.members.values()) * scale)
    if sim_gpus < settings.gpus_per_node:
        offered = sum(j.gpus * j.run_s for j in mj.jobs if j.job_id in mj.members) / 3600 * scale
        wait = (m1 - m0) / 2 / 3600
        return MonthOutcome(
            seed, month, gpus, offered, 0.0, offered, 0.0, wait, wait, wait, n_measured, 0
        )
    cluster = ClusterSpec.homogeneous(sim_gpus, settings.gpus_per_node)
    collecting = gc.isenabled()
    gc.disable()  # jobs and engine records hold no cycles: ~10 % of a month was GC rescans
    try:
        engine = Engine(cluster, settings.policy(), keep_accounting=False)
        engine.submit_many(mj.jobs)
        engine.run_until(m1)
        starts = engine.starts()
    finally:
        if collecting:
            gc.enable()
    busy = 0.0
    waits: list[int] = []
    weights: list[int] = []
    offered = unmet = 0
    members = mj.members
    for job, start in zip(mj.jobs, starts, strict=True):
        width, run_s = job.gpus, job.run_s
        if start >= 0:
            busy += width * max(0, min(start + run_s, m1) - max(start, m0))
        n = members.get(job.job_id)
        if n is None:
            continue
        offered += width * run_s
        if start < 0:
            unmet += width * run_s
            start = m1
        waits.append(start - job.submit_s)
        weights.append(n)
    if waits:
        w = np.repeat(np.array(waits, dtype=np.float64), np.array(weights, dtype=np.int64))
        p50, p90 = (float(x) / 3600 for x in np.percentile(w, [50, 90]))
        mean = float(np.mean(w)) / 3600
    else:
        p50 = p90 = mean = 0.0
    utilisation = busy / (cluster.gpus * max(1, m1 - m0))
    return MonthOutcome(
        seed=seed,
        month=month,
        gpus=gpus,
        offered_gpu_hours=offered / 3600 * scale,
        delivered_gpu_hours=utilisation * gpus * month_days * 24,
        unmet_gpu_hours=unmet / 3600 * scale,
        utilisation=utilisation,
        wait_p50_h=p50,
        wait_p90_h=p90,
        wait_mean_h=mean,
        jobs=n_measured,
        simulated_jobs=len(mj.jobs),
    )


def run_seed_task(payload: dict[str, Any]) -> dict[str, Any]:
    """One fan-out unit: the months of one seed (JSON in, JSON out; module-level for pickling)."""
    settings = SimSettings(**payload["settings"])
    model = model_from_dict(payload["model"])
    seed = int(payload["seed"])
    out = []
    for month, days, gpus, demand in payload["months"]:
        outcome = simulate_month(
            settings,
            model,
            seed=seed,
            month=int(month),
            month_days=int(days),
            gpus=int(gpus),
            demand_gpu_hours=float(demand),
        )
        out.append(asdict(outcome))
    return {"seed": seed, "months": out}


def job_model_for(scenario: Scenario, traces_dir: str | None) -> WorkloadModel:
    """The scenario's fitted job model (trace path: absolute, or under ``traces_dir``)."""
    from pathlib import Path

    src = scenario.demand.workload
    path = Path(src.trace)
    if not path.is_absolute() and traces_dir is not None:
        path = Path(traces_dir) / path
    return fit_job_model(str(path), src.format, int(src.max_run_hours * 3600))


# -- bands ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Band:
    """p10 / p50 / p90 over seeds."""

    p10: float
    p50: float
    p90: float

    @staticmethod
    def of(values: Sequence[float]) -> Band:
        if not values:
            return Band(0.0, 0.0, 0.0)
        a, b, c = np.percentile(np.array(values, dtype=np.float64), [10, 50, 90])
        return Band(round(float(a), 6), round(float(b), 6), round(float(c), 6))

    def at(self, band: str) -> float:
        return float(getattr(self, band))


@dataclass(frozen=True, slots=True)
class MonthPlan:
    """One month of a plan: supply, demand and the simulated service, with bands."""

    index: int
    label: str
    gpus: int
    pflops: float
    supply_gpu_hours: float
    demand_gpu_hours: Band
    committed_gpu_hours: float
    utilisation: Band
    wait_p50_h: Band
    wait_p90_h: Band
    unmet_gpu_hours: Band
    broken: bool
    reasons: tuple[str, ...] = ()
    flows: dict[str, Band] = field(default_factory=dict)
    """Demand by flow (scenarios with ``[demand.flows]``), each with its band over seeds."""
    exhausted_share: float = 0.0
    """Share of seeds in which the envelope has run out by this month."""
    simulated_seeds: int = 0
    """Seeds simulated for the service bands (utilisation, waits, unmet); demand has them all."""
    saturated: bool = False
    """Settled on its first seeds: every seed offers ``saturated_ratio`` × supply or more and
    every simulated one broke the utilisation target (see ``Evaluation.saturated_ratio``)."""
    idle: bool = False
    """Settled on its first seeds: every seed offers at most ``idle_ratio`` × supply and every
    simulated one kept every target (see ``Evaluation.idle_ratio``)."""


@dataclass(frozen=True, slots=True)
class PlanEvaluation:
    months: list[MonthPlan]
    seeds: int
    outcomes: list[MonthOutcome] = field(repr=False)

    @property
    def first_broken(self) -> MonthPlan | None:
        return next((m for m in self.months if m.broken), None)

    @property
    def exhausted(self) -> MonthPlan | None:
        """The month the envelope runs out in at least half of the seeds (p50)."""
        return next((m for m in self.months if m.exhausted_share >= 0.5), None)


def check_targets(targets: Targets, utilisation: Band, wait: Band) -> tuple[str, ...]:
    """Why a month breaks the targets (empty: it keeps them)."""
    reasons = []
    b = targets.band
    if wait.at(b) > targets.max_median_wait_hours:
        reasons.append(
            f"median wait {wait.at(b):.1f} h > {targets.max_median_wait_hours:g} h ({b})"
        )
    if utilisation.at(b) > targets.max_utilisation:
        reasons.append(f"utilisation {utilisation.at(b):.1%} > {targets.max_utilisation:.0%} ({b})")
    return tuple(reasons)


def evaluate_months(
    scenario: Scenario,
    supply: SupplyPlan,
    model: WorkloadModel,
    *,
    seeds: Sequence[int],
    month_indices: Sequence[int] | None = None,
    runner: Runner | None = None,
    awards: Sequence[AwardDemand] | None = None,
    chunks_per_seed: int = 1,
    progress: Callable[[int, int], None] | None = None,
    verdict_only: bool = False,
) -> PlanEvaluation:
    """Simulate the chosen months (default: all) for every seed and summarise them in bands.

    ``verdict_only``: the caller needs each month's broken flag, not its bands (the build
    search): with a ``p50`` band and an odd number of seeds, a month whose first majority of
    seeds decides the flag is not simulated on the others (its bands come from those seeds).
    The first wave is the majority rounded up to whole rounds of the runner's workers (4 of 5
    seeds on 2 workers): the extra seed costs no wall time, and it decides the months where
    the first three split, which otherwise wait a third round for the last two.
    """
    months = horizon(scenario.start, scenario.months)
    chosen = [
        months[i] for i in (month_indices if month_indices is not None else range(len(months)))
    ]
    supplies = {m.index: supply.month(m) for m in chosen}
    demands: dict[int, list[MonthDemand]] = {
        s: demand_series(scenario, months, s, awards) for s in seeds
    }
    settings = SimSettings.of(scenario)
    runner = runner or SequentialRunner()
    order = list(seeds)
    ev, targets = scenario.evaluation, scenario.targets
    # Months simulated first on fewer seeds, and settled on them when those decide the month
    # (``_decided``): saturated months always, every month when only the verdict is asked.
    early: dict[int, list[int]] = {}
    saturated: set[int] = set()
    idle: set[int] = set()
    majority = len(order) // 2 + 1
    workers = max(1, runner.workers)
    first_wave = min(len(order), -(-majority // workers) * workers)
    for m in chosen:
        loads = [d[m.index].total for d in demands.values()]
        supply_h = supplies[m.index].gpu_hours
        if (
            ev.saturated_ratio > 0
            and ev.saturated_seeds < len(order)
            and min(loads) >= ev.saturated_ratio * supply_h
        ):
            saturated.add(m.index)
            early[m.index] = order[: ev.saturated_seeds]
        elif (
            ev.idle_ratio > 0
            and ev.idle_seeds < len(order)
            and max(loads) <= ev.idle_ratio * supply_h
        ):
            idle.add(m.index)
            early[m.index] = order[: ev.idle_seeds]
        elif (
            verdict_only
            and len(order) % 2 == 1
            and first_wave < len(order)
            and targets.band == "p50"
        ):
            early[m.index] = order[:first_wave]
    first = {s: [m for m in chosen if s in early.get(m.index, order)] for s in order}
    outcomes = _simulate(
        settings, model, first, supplies, demands, runner, chunks_per_seed, progress
    )
    by_month: dict[int, list[MonthOutcome]] = {}
    for o in outcomes:
        by_month.setdefault(o.month, []).append(o)
    unsettled = {
        i
        for i in early
        if not _decided(
            by_month.get(i, []), len(order), targets, saturated=i in saturated, idle=i in idle
        )
    }
    if unsettled:
        rest = {
            s: [m for m in chosen if m.index in unsettled and s not in early[m.index]]
            for s in order
        }
        outcomes += _simulate(settings, model, rest, supplies, demands, runner, chunks_per_seed)
    return summarise(
        scenario,
        chosen,
        supplies,
        demands,
        outcomes,
        settled=saturated - unsettled,
        idle=idle - unsettled,
    )


def _decided(
    got: Sequence[MonthOutcome], n: int, targets: Targets, *, saturated: bool, idle: bool = False
) -> bool:
    """Whether a month's first seeds settle it.

    A saturated month: when every one of them breaks the utilisation target (load being higher
    in every other seed, so would they); its bands then come from those seeds. An idle month,
    the mirror image: when every one of them keeps both targets (load being at most
    ``idle_ratio`` × supply in every other seed too). Otherwise (a
    verdict is all that is asked, ``p50`` over an odd ``n``): the median of ``n`` values passes
    a target exactly when a majority does, so a majority of seeds that all break a target, or
    that break none by more than the seeds still to come could outvote, decide the verdict
    exactly as all ``n`` would.
    """
    util = sum(o.utilisation > targets.max_utilisation for o in got)
    if saturated:
        return bool(got) and util == len(got)
    wait = sum(o.wait_p50_h > targets.max_median_wait_hours for o in got)
    if idle:
        return bool(got) and util == 0 and wait == 0
    need, left = n // 2 + 1, n - len(got)
    return util >= need or wait >= need or (util + left < need and wait + left < need)


def _simulate(
    settings: SimSettings,
    model: WorkloadModel,
    todo_by_seed: dict[int, list[Month]],
    supplies: dict[int, MonthSupply],
    demands: dict[int, list[MonthDemand]],
    runner: Runner,
    chunks_per_seed: int,
    progress: Callable[[int, int], None] | None = None,
) -> list[MonthOutcome]:
    """Each seed's months, from the memo or fanned out to the runner."""
    model_dict = model_to_dict(model)
    tasks: list[dict[str, Any]] = []
    context = json.dumps([asdict(settings), model_dict], sort_keys=True, default=str)
    known: list[MonthOutcome] = []
    todos: dict[int, list[list[Any]]] = {}
    for s, chosen in todo_by_seed.items():
        todo = todos[s] = []
        for m in chosen:
            row = [m.index, m.days, supplies[m.index].reference_gpus, demands[s][m.index].total]
            hit = _MEMO.get((context, s, *row))
            if hit is None:
                todo.append(row)
            else:
                known.append(hit)
    chunks = balanced_chunks(
        [len(t) for t in todos.values() if t], max(1, chunks_per_seed), runner.workers
    )
    for s, todo in todos.items():
        per = max(1, math.ceil(len(todo) / chunks))
        for k in range(0, len(todo), per):
            tasks.append(
                {
                    "seed": s,
                    "settings": asdict(settings),
                    "model": model_dict,
                    "months": todo[k : k + per],
                }
            )
    if progress is not None:
        progress(0, len(tasks))
    results = runner.map(run_seed_task, tasks, progress=progress) if tasks else []
    if len(_MEMO) > _MEMO_LIMIT:
        _MEMO.clear()
    outcomes = list(known)
    for r, task in zip(results, tasks, strict=True):
        for o, row in zip(r["months"], task["months"], strict=True):
            outcome = MonthOutcome(**o)
            _MEMO[(context, int(r["seed"]), *row)] = outcome
            outcomes.append(outcome)
    return outcomes


# Months already simulated in this process, keyed by everything simulate_month reads. A month's
# outcome depends only on (settings, job model, seed, month, days, GPUs, demand), so the plan,
# every search probe and the check share the months they have in common (the check re-runs
# every month before the first added step with the plan's own capacity) instead of simulating
# them again. Bounded so a long-lived web worker does not grow without limit.
_MEMO: dict[tuple[Any, ...], MonthOutcome] = {}
_MEMO_LIMIT = 100_000


def forget_simulated_months() -> None:
    """Drop the memo of simulated months (tests that must exercise the runner call this)."""
    _MEMO.clear()


def summarise(
    scenario: Scenario,
    chosen: Sequence[Month],
    supplies: dict[int, MonthSupply],
    demands: dict[int, list[MonthDemand]],
    outcomes: Sequence[MonthOutcome],
    settled: set[int] | frozenset[int] = frozenset(),
    idle: set[int] | frozenset[int] = frozenset(),
) -> PlanEvaluation:
    by_month: dict[int, list[MonthOutcome]] = {}
    for o in outcomes:
        by_month.setdefault(o.month, []).append(o)
    plans: list[MonthPlan] = []
    for m in chosen:
        got = sorted(by_month.get(m.index, []), key=lambda o: o.seed)
        util = Band.of([o.utilisation for o in got])
        wait = Band.of([o.wait_p50_h for o in got])
        reasons = check_targets(scenario.targets, util, wait)
        sup = supplies[m.index]
        plans.append(
            MonthPlan(
                index=m.index,
                label=m.label,
                gpus=sup.reference_gpus,
                pflops=round(sup.pflops, 3),
                supply_gpu_hours=round(sup.gpu_hours, 3),
                demand_gpu_hours=Band.of([d[m.index].total for d in demands.values()]),
                committed_gpu_hours=round(next(iter(demands.values()))[m.index].committed, 3),
                utilisation=util,
                wait_p50_h=wait,
                wait_p90_h=Band.of([o.wait_p90_h for o in got]),
                unmet_gpu_hours=Band.of([o.unmet_gpu_hours for o in got]),
                broken=bool(reasons),
                reasons=reasons,
                flows=_flow_bands([d[m.index] for d in demands.values()]),
                exhausted_share=float(np.mean([d[m.index].exhausted for d in demands.values()])),
                simulated_seeds=len(got),
                saturated=m.index in settled,
                idle=m.index in idle,
            )
        )
    return PlanEvaluation(plans, len(demands), list(outcomes))


def _flow_bands(draws: Sequence[MonthDemand]) -> dict[str, Band]:
    names = draws[0].flows.keys() if draws else ()
    return {name: Band.of([d.flows[name] for d in draws]) for name in names}


def evaluate_plan(
    scenario: Scenario,
    supply: SupplyPlan,
    model: WorkloadModel,
    *,
    seeds: int | None = None,
    runner: Runner | None = None,
    awards: Sequence[AwardDemand] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> PlanEvaluation:
    """Every month of the horizon, seeds ``0 … seeds − 1`` (the scenario's count by default)."""
    n = seeds if seeds is not None else scenario.evaluation.seeds
    workers = getattr(runner, "workers", 1)
    return evaluate_months(
        scenario,
        supply,
        model,
        seeds=range(n),
        runner=runner,
        awards=awards,
        chunks_per_seed=max(1, (4 * workers + n - 1) // n),
        progress=progress,
    )
