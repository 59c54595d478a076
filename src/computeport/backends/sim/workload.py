"""The background workload that keeps the virtual centre busy: fitted to a real trace.

Why Philly, and why only its multi-GPU jobs: Microsoft's Philly trace is the public record of a
shared GPU cluster used for deep-learning training; AISC rents H800 nodes to AI companies for
training, not notebooks, so the model is fitted to Philly's jobs of ≥ 4 GPUs (about 3,800 jobs;
sizes 4–128 GPUs, log-normal run times with a median of ~3 h) and run times are capped at the
centre's maximum wall time (14 days, an assumption).  When the traces folder is absent the
parameters fitted once from the same trace (:data:`BUILTIN_MODEL`) are used, so the demo works
anywhere.

The stream is deterministic and endless: blocks of :func:`generate_workload` jobs, each block
drawn from its own seed, laid end to end.  Each job is charged to one of the cluster's active
awards at the moment it arrives, chosen with probability proportional to the award's budget
among those with room left for it (a centre's users stop submitting to an exhausted award); a
job for which no award has room is not submitted (demand follows what has been awarded).
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from computeport.kit.errors import ValidationFailed
from computeport.scheduling import Job
from computeport.simulator import WorkloadModel, fit_workload_model, generate_workload, read_trace

__all__ = [
    "BUILTIN_MODEL",
    "MAX_RUN_S",
    "MIN_TRACE_GPUS",
    "BackgroundConfig",
    "BackgroundStream",
    "Candidate",
    "choose_account",
    "fit_philly",
    "workload_model",
]

MIN_TRACE_GPUS = 4
MAX_RUN_S = 14 * 86400
"""The centre's maximum wall time (assumption): longer trace jobs are cut to it."""

BUILTIN_MODEL = WorkloadModel(
    sizes=((4, 0.4918), (8, 0.4321), (16, 0.0542), (32, 0.0195), (64, 0.0016), (128, 0.0008)),
    log_run_mean=9.3304,
    log_run_sigma=2.8342,
    max_run_s=MAX_RUN_S,
    min_run_s=1,
    overestimate_max=1.0,
)
"""Fitted from ``philly.csv`` (jobs of ≥ 4 GPUs, 3,802 jobs) by :func:`fit_philly`."""


def fit_philly(path: Path) -> WorkloadModel:
    """Fit :class:`WorkloadModel` to a Philly trace's jobs of ≥ :data:`MIN_TRACE_GPUS` GPUs."""
    jobs = [j for j in read_trace(path, "philly").jobs if j.gpus >= MIN_TRACE_GPUS]
    fitted = fit_workload_model(jobs)
    return WorkloadModel(
        sizes=fitted.sizes,
        log_run_mean=fitted.log_run_mean,
        log_run_sigma=fitted.log_run_sigma,
        max_run_s=min(fitted.max_run_s, MAX_RUN_S),
        min_run_s=fitted.min_run_s,
        overestimate_max=fitted.overestimate_max,
    )


def workload_model(traces_dir: Path | None) -> tuple[WorkloadModel, str]:
    """The Philly fit when ``traces_dir/philly.csv`` exists, else :data:`BUILTIN_MODEL`."""
    if traces_dir is not None and (traces_dir / "philly.csv").is_file():
        return fit_philly(traces_dir / "philly.csv"), "philly.csv"
    return BUILTIN_MODEL, "built-in (fitted from philly.csv)"


@dataclass(frozen=True, slots=True)
class BackgroundConfig:
    """What the background stream is drawn from; stored with the cluster so replays agree."""

    model: WorkloadModel = field(default_factory=lambda: BUILTIN_MODEL)
    load: float = 0.95
    """Offered load: arrivals bring this fraction of the cluster's GPU-seconds."""
    seed: int = 2024
    block_jobs: int = 2000

    def __post_init__(self) -> None:
        if not 0 < self.load <= 4:
            raise ValidationFailed("offered load must be in (0, 4]", field="load")
        if self.block_jobs < 2:
            raise ValidationFailed("a block holds at least two jobs", field="block_jobs")

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["model"]["sizes"] = [list(s) for s in self.model.sizes]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BackgroundConfig:
        model = dict(data["model"])
        model["sizes"] = tuple((int(g), float(p)) for g, p in model["sizes"])
        return cls(
            model=WorkloadModel(**model),
            load=float(data["load"]),
            seed=int(data["seed"]),
            block_jobs=int(data["block_jobs"]),
        )


class BackgroundStream:
    """An endless, deterministic sequence of arrivals on the engine's time base."""

    def __init__(self, config: BackgroundConfig, cluster_gpus: int, start_s: int) -> None:
        self.config = config
        self.cluster_gpus = cluster_gpus
        self._block = 0
        self._block_start = start_s
        self._jobs: list[Job] = []
        self._at = 0
        self.rng = random.Random(config.seed)  # noqa: S311 - a simulation, not secrets
        self._fill()

    def _fill(self) -> None:
        cfg = self.config
        jobs = generate_workload(
            cfg.block_jobs,
            self.cluster_gpus,
            cfg.load,
            seed=cfg.seed * 100_003 + self._block,
            model=cfg.model,
            groups=1,
        )
        span = jobs[-1].submit_s
        gap = max(1, math.ceil(span / (len(jobs) - 1)))
        self._jobs = jobs
        self._at = 0
        self._offset = self._block_start
        self._block_start += span + gap
        self._block += 1

    def peek_s(self) -> int:
        """When the next background job arrives."""
        return self._offset + self._jobs[self._at].submit_s

    def pop(self) -> Job:
        """The next job (its ``submit_s`` on the engine's time base)."""
        job = self._jobs[self._at]
        at = self._offset + job.submit_s
        self._at += 1
        if self._at == len(self._jobs):
            self._fill()
        return Job(job.job_id, at, job.gpus, job.run_s, job.time_limit_s)


@dataclass(frozen=True, slots=True)
class Candidate:
    """An award account that could take a background job."""

    account: str
    users: tuple[str, ...]
    budget_gpu_s: int
    room_gpu_s: int


def choose_account(candidates: Sequence[Candidate], need_gpu_s: int, draw: float) -> int | None:
    """Index of the account for a job needing ``need_gpu_s``, by one uniform ``draw``.

    Accounts without room for the job are skipped; the rest are weighted by their budget.
    """
    fits = [(i, c.budget_gpu_s) for i, c in enumerate(candidates) if c.room_gpu_s >= need_gpu_s]
    total = sum(w for _, w in fits)
    if total <= 0:
        return None
    point = draw * total
    for i, weight in fits:
        point -= weight
        if point < 0:
            return i
    return fits[-1][0]
