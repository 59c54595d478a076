"""Seeded synthetic workloads, and fitting their distributions from a real trace.

A :class:`WorkloadModel` draws job sizes from a discrete distribution over GPU counts (powers
of two by default), run times from a log-normal (capped), time limits as the smallest "round"
limit users pick (15 min, 30 min, 1 h, 2 h, 4 h, 8 h, 12 h, 1 d, 2 d, 3 d, 7 d) at or above the
run time times an over-estimate factor drawn uniformly from ``[1, overestimate_max]``, and
arrivals as a Poisson process whose rate gives the wanted *offered load*:
``rate = load × cluster GPUs / mean(gpus × run)`` (the mean of the drawn sample, so the offered
load of the sample is exact). Same seed, same jobs.

:func:`fit_workload_model` estimates such a model from a trace: the empirical size
distribution (sizes rounded up to powers of two), log-normal parameters by maximum likelihood
(mean and standard deviation of ``ln run``), and the over-estimate from limit/run when the
trace has limits.
"""

from __future__ import annotations

import gc
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from computeport.kit.errors import ValidationFailed
from computeport.scheduling.job import Job

__all__ = ["LIMIT_LADDER_S", "WorkloadModel", "fit_workload_model", "generate_workload"]

LIMIT_LADDER_S = (900, 1800, 3600, 7200, 14400, 28800, 43200, 86400, 172800, 259200, 604800)


@dataclass(frozen=True, slots=True)
class WorkloadModel:
    """The distributions a synthetic workload is drawn from."""

    sizes: tuple[tuple[int, float], ...] = (
        (1, 0.45),
        (2, 0.15),
        (4, 0.15),
        (8, 0.15),
        (16, 0.05),
        (32, 0.03),
        (64, 0.02),
    )
    """(GPUs, probability) pairs; probabilities are normalised."""
    log_run_mean: float = math.log(1800.0)
    """μ of ln(run seconds): the median run time is e^μ (30 minutes by default)."""
    log_run_sigma: float = 1.5
    max_run_s: int = 7 * 86400
    min_run_s: int = 10
    overestimate_max: float = 2.0
    """Limits are drawn at ≥ run × U[1, this] (1.0: limits as tight as the ladder allows)."""

    def __post_init__(self) -> None:
        if not self.sizes or any(g < 1 or p < 0 for g, p in self.sizes):
            raise ValidationFailed("sizes must be (gpus ≥ 1, probability ≥ 0) pairs")
        if sum(p for _, p in self.sizes) <= 0:
            raise ValidationFailed("size probabilities sum to zero")
        if self.log_run_sigma < 0 or self.overestimate_max < 1:
            raise ValidationFailed("log_run_sigma ≥ 0 and overestimate_max ≥ 1 required")


def draw_shapes(
    model: WorkloadModel, n: int, rng: np.random.Generator
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """``n`` job shapes (GPUs, run seconds, time limit) drawn from ``model`` as arrays.

    Sizes from the discrete distribution, log-normal run times clipped to [min, max], limits
    from the round ladder at or above run × U[1, over-estimate]. Shared by
    :func:`generate_workload` and capacity planning (same draws in the same order, so a seed
    gives the same jobs either way).
    """
    values = np.array([g for g, _ in model.sizes], dtype=np.int64)
    probs = np.array([p for _, p in model.sizes], dtype=np.float64)
    gpus = rng.choice(values, size=n, p=probs / probs.sum())
    run = np.exp(rng.normal(model.log_run_mean, model.log_run_sigma, n))
    run = np.clip(np.rint(run), model.min_run_s, model.max_run_s).astype(np.int64)
    factor = rng.uniform(1.0, model.overestimate_max, n)
    ladder = np.array(LIMIT_LADDER_S, dtype=np.int64)
    wanted = np.ceil(run * factor).astype(np.int64)
    at = np.searchsorted(ladder, wanted, side="left")
    limit = np.where(at < len(ladder), ladder[np.minimum(at, len(ladder) - 1)], run)
    return gpus, run, limit.astype(np.int64)


def generate_workload(
    n_jobs: int,
    cluster_gpus: int,
    load: float = 0.95,
    seed: int = 0,
    model: WorkloadModel | None = None,
    groups: int = 10,
) -> list[Job]:
    """``n_jobs`` jobs arriving at ``load`` offered load on ``cluster_gpus`` GPUs.

    Jobs are named ``"1"`` … ``"n"`` and spread over ``groups`` groups (``g00`` …) that also
    serve as their projects.
    """
    if n_jobs < 0 or cluster_gpus < 1 or load <= 0:
        raise ValidationFailed("n_jobs ≥ 0, cluster_gpus ≥ 1 and load > 0 required")
    model = model or WorkloadModel()
    rng = np.random.default_rng(seed)
    gpus, run, limit = draw_shapes(model, n_jobs, rng)
    work = float(np.mean(gpus * run)) if n_jobs else 1.0
    rate = load * cluster_gpus / work
    gaps = rng.exponential(1.0 / rate, n_jobs)
    submit = np.floor(np.cumsum(gaps) - (gaps[0] if n_jobs else 0.0)).astype(np.int64)
    group = rng.integers(0, max(1, groups), n_jobs)
    names = [f"g{i:02d}" for i in range(max(1, groups))]
    # Jobs hold no reference cycles: a million of them need no cyclic-GC rescans (which cost
    # ~20% here); positional arguments (job_id, submit_s, gpus, run_s, time_limit_s, nodes,
    # org, project, user, group) are ~30% cheaper than keywords for a frozen dataclass.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return [
            Job(str(i + 1), s, g, r, lim, 0, "", names[gr], "", names[gr])
            for i, (s, g, r, lim, gr) in enumerate(
                zip(
                    submit.tolist(),
                    gpus.tolist(),
                    run.tolist(),
                    limit.tolist(),
                    group.tolist(),
                    strict=True,
                )
            )
        ]
    finally:
        if collecting:
            gc.enable()


def fit_workload_model(jobs: Sequence[Job]) -> WorkloadModel:
    """A :class:`WorkloadModel` fitted to a trace (see the module docstring)."""
    runs = [j.run_s for j in jobs if j.run_s > 0]
    if len(runs) < 2:
        raise ValidationFailed("need at least two jobs with a positive run time to fit")
    sizes = Counter(1 << (j.gpus - 1).bit_length() for j in jobs)
    total = sum(sizes.values())
    logs = np.log(np.array(runs, dtype=np.float64))
    ratios = [j.time_limit_s / j.run_s for j in jobs if j.time_limit_s > 0 and j.run_s > 0]
    over = float(np.clip(np.percentile(ratios, 90), 1.0, 100.0)) if ratios else 1.0
    return WorkloadModel(
        sizes=tuple((g, n / total) for g, n in sorted(sizes.items())),
        log_run_mean=float(np.mean(logs)),
        log_run_sigma=float(np.std(logs)),
        max_run_s=max(runs),
        min_run_s=max(1, min(runs)),
        overestimate_max=over,
    )
