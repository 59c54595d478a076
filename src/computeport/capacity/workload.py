"""The jobs of one simulated month: arrivals at the month's demand, a warm start, bundling.

Job sizes and run times come from a :class:`WorkloadModel` fitted to a real trace by the
simulator (:func:`fit_job_model`, Philly by default); arrivals are Poisson at the month's
demand rate (the simulator's generator, so the offered load is exact for the drawn sample).

A month is a steady-state snapshot, so it starts warm: at time 0 the cluster receives
*prefill* jobs, drawn length-biased (by GPU-seconds) with a uniform residual run time, the way
jobs found running at a random instant are distributed, until they add up to the demand rate
in GPUs. The prefill depends on demand only, never on capacity, so two capacities see the
same jobs (where demand exceeds capacity, the excess waits as a backlog). Prefill and warm-up
jobs are simulated but not measured.

The coarse job model bundles jobs smaller than ``aggregate_below_gpu_hours`` (by GPU-hours)
into serial chains of the same width, about ``bundle_gpu_hours`` each, submitted with their
first member: most jobs are small, yet they hold little of the work (in Philly, 91% of jobs
are under 4 GPU-hours and carry 4% of the GPU-hours). Each bundle counts as its members in
the wait percentiles.
"""

from __future__ import annotations

import functools
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from computeport.scheduling import Job
from computeport.simulator import WorkloadModel, draw_shapes, fit_workload_model, read_trace

Ints = npt.NDArray[np.int64]

__all__ = [
    "PREFILL_PREFIX",
    "MonthJobs",
    "bundle_arrays",
    "draw_shapes",
    "fit_job_model",
    "mean_job_gpu_s",
    "model_from_dict",
    "model_to_dict",
    "month_jobs",
]

PREFILL_PREFIX = "w"
"""Job ids of prefill jobs start with this; measured jobs are ``j…`` or bundles ``b…``."""


@functools.lru_cache(maxsize=8)
def fit_job_model(path: str, fmt: str, max_run_s: int) -> WorkloadModel:
    """The simulator's fit of ``path``, with run times capped at ``max_run_s``."""
    model = fit_workload_model(read_trace(Path(path), fmt).jobs)
    return WorkloadModel(
        sizes=model.sizes,
        log_run_mean=model.log_run_mean,
        log_run_sigma=model.log_run_sigma,
        max_run_s=min(model.max_run_s, max_run_s),
        min_run_s=model.min_run_s,
        overestimate_max=model.overestimate_max,
    )


def model_to_dict(model: WorkloadModel) -> dict[str, Any]:
    data = asdict(model)
    data["sizes"] = [list(p) for p in model.sizes]
    return data


def model_from_dict(data: dict[str, Any]) -> WorkloadModel:
    fields = dict(data)
    fields["sizes"] = tuple((int(g), float(p)) for g, p in data["sizes"])
    return WorkloadModel(**fields)


@functools.lru_cache(maxsize=32)
def mean_job_gpu_s(model: WorkloadModel, samples: int = 400_000) -> float:
    """E[GPUs × run seconds] of the model (a fixed-seed sample; cached)."""
    gpus, run, _ = draw_shapes(model, samples, np.random.default_rng(12345))
    return float(np.mean(gpus * run))


@dataclass(frozen=True, slots=True)
class MonthJobs:
    """The jobs of one simulated window, and what each measured job stands for."""

    jobs: list[Job]
    members: dict[str, int]
    """Measured job id → how many original jobs it stands for (1, or a bundle's size)."""
    measure_from_s: int
    end_s: int


def bundle_arrays(
    submit: Ints, gpus: Ints, run: Ints, limit: Ints, below_gpu_s: float, bundle_gpu_s: float
) -> tuple[Ints, Ints, Ints, Ints, Ints]:
    """Chain jobs under ``below_gpu_s`` (same width, in order) into bundles of ``bundle_gpu_s``.

    Returns (submit, gpus, run, limit, members) sorted by submit time (stable): big jobs are
    their own bundle of one; a bundle is submitted with its first member, its run and limit
    are the sums of its members'. Work (GPUs × run) is kept exactly.
    """
    if len(submit) == 0:
        return submit, gpus, run, limit, np.ones(0, dtype=np.int64)
    work = gpus * run
    small = work < below_gpu_s
    key = np.arange(len(submit), dtype=np.int64)  # a big job keys its own bundle
    for g in np.unique(gpus[small]).tolist():
        ix = np.flatnonzero(small & (gpus == g))
        cum = np.cumsum(work[ix]) - work[ix]  # work before each member
        bundle = (cum // bundle_gpu_s).astype(np.int64)
        firsts = ix[np.searchsorted(bundle, bundle, side="left")]
        key[ix] = firsts
    order = np.argsort(key, kind="stable")
    k = key[order]
    starts = np.flatnonzero(np.r_[True, k[1:] != k[:-1]])
    first = order[starts]
    out_run = np.add.reduceat(run[order], starts)
    out_limit = np.add.reduceat(limit[order], starts)
    members = np.diff(np.r_[starts, len(order)])
    resort = np.argsort(submit[first], kind="stable")
    first, out_run, out_limit, members = (
        first[resort],
        out_run[resort],
        out_limit[resort],
        members[resort],
    )
    return submit[first], gpus[first], out_run, out_limit, members


def month_jobs(
    model: WorkloadModel,
    demand_gpu_hours_per_day: float,
    measured_days: float,
    warmup_days: float,
    seed: int,
    *,
    bundle_below_gpu_hours: float = 0.0,
    bundle_gpu_hours: float = 16.0,
    groups: int = 20,
) -> MonthJobs:
    """The jobs of a window: prefill at 0, arrivals over warm-up + measured days.

    Same arguments, same jobs (whatever the capacity they will run on).
    """
    warm_s = round(warmup_days * 86400)
    end_s = warm_s + round(measured_days * 86400)
    rate_gpus = demand_gpu_hours_per_day / 24.0  # GPUs busy on average at this demand
    rng = np.random.default_rng([seed, 0xA1])
    prefill = _prefill(model, rate_gpus, rng, groups)
    mean = mean_job_gpu_s(model)
    if rate_gpus <= 0 or end_s <= 0 or mean <= 0:
        return MonthJobs(prefill, {}, warm_s, end_s)
    n = math.ceil(rate_gpus * end_s / mean * 1.2) + 16
    gpus, run, limit = draw_shapes(model, n, rng)
    # Poisson arrivals whose rate makes this sample's offered load exactly the demand rate.
    rate = rate_gpus / float(np.mean(gpus * run))
    submit = np.floor(np.cumsum(rng.exponential(1.0 / rate, n))).astype(np.int64)
    keep = submit < end_s
    submit, gpus, run, limit = submit[keep], gpus[keep], run[keep], limit[keep]
    if bundle_below_gpu_hours > 0:
        submit, gpus, run, limit, members = bundle_arrays(
            submit, gpus, run, limit, bundle_below_gpu_hours * 3600, bundle_gpu_hours * 3600
        )
    else:
        members = np.ones(len(submit), dtype=np.int64)
    group = rng.integers(0, max(1, groups), len(submit))
    jobs = list(prefill)
    counted: dict[str, int] = {}
    for i, (t, g, r, lim, m, gr) in enumerate(
        zip(
            submit.tolist(),
            gpus.tolist(),
            run.tolist(),
            limit.tolist(),
            members.tolist(),
            group.tolist(),
            strict=True,
        )
    ):
        name = f"j{i}"
        group_name = _GROUPS[gr]
        # positional (…, nodes, org, project, user, group): a third cheaper than keywords
        jobs.append(Job(name, t, g, r, lim, 0, "", group_name, "", group_name))
        if t >= warm_s:
            counted[name] = m
    return MonthJobs(jobs, counted, warm_s, end_s)


_GROUPS = [f"g{i:02d}" for i in range(1000)]


def _prefill(
    model: WorkloadModel, rate_gpus: float, rng: np.random.Generator, groups: int
) -> list[Job]:
    """Running work of a steady state at ``rate_gpus``: length-biased jobs, residual times."""
    if rate_gpus <= 0:
        return []
    picks = int(rate_gpus) + 64  # every pick holds ≥ 1 GPU: enough picks to reach the rate
    pool = min(picks * 4, 200_000)
    gpus, run, limit = draw_shapes(model, pool, rng)
    work = (gpus * run).astype(np.float64)
    chosen = rng.choice(pool, size=picks, p=work / work.sum())
    residual = rng.uniform(0.0, 1.0, picks)
    group = rng.integers(0, max(1, groups), picks)
    g_c = gpus[chosen]
    fits = np.cumsum(g_c) <= rate_gpus
    count = int(np.argmin(fits)) if not fits.all() else picks
    out: list[Job] = []
    for k in range(count):
        ix = int(chosen[k])
        r = max(1, int(run[ix] * residual[k]))
        lim = max(r, int(limit[ix]) - (int(run[ix]) - r))
        gr = _GROUPS[int(group[k])]
        out.append(Job(f"{PREFILL_PREFIX}{k}", 0, int(g_c[k]), r, lim, group=gr, project=gr))
    return out
