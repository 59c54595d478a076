"""Metrics exactly as DESIGN.md defines them.

* wait = start − submit; JCT = end − submit; bounded slowdown = max(1, JCT / max(run, 10 s)),
  each summarised as ``{mean, p50, p95, p99}`` over finished jobs (start and end of the last
  attempt);
* utilisation = Σ(gpus × run) / (GPUs × (last end − first submit)), over finished jobs with the
  GPUs they requested; also per hour from the first submission (``series.utilisation``), next
  to the time-averaged number of waiting jobs per hour (``series.queued``);
* preemptions and the GPU-hours their lost work cost;
* ``by_group``: the same per group (the trace's group, or the job's group field).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from operator import attrgetter

import numpy as np
import numpy.typing as npt

from computeport.scheduling.decision import CoreJobState
from computeport.simulator.records import JobResult

__all__ = ["BUCKET_S", "GroupMetrics", "Metrics", "Summary", "compute_metrics"]

BUCKET_S = 3600
BSLD_FLOOR_S = 10

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Summary:
    mean: float
    p50: float
    p95: float
    p99: float

    @staticmethod
    def of(values: FloatArray | IntArray) -> Summary:
        if len(values) == 0:
            return Summary(0.0, 0.0, 0.0, 0.0)
        p50, p95, p99 = np.percentile(values, [50, 95, 99])
        return Summary(
            round(float(np.mean(values)), 6),
            round(float(p50), 6),
            round(float(p95), 6),
            round(float(p99), 6),
        )

    def to_dict(self) -> dict[str, float]:
        return {"mean": self.mean, "p50": self.p50, "p95": self.p95, "p99": self.p99}


@dataclass(frozen=True, slots=True)
class GroupMetrics:
    jobs: int
    rejected: int
    utilisation: float
    wait_s: Summary
    jct_s: Summary
    bounded_slowdown: Summary
    preemptions: int
    lost_gpu_hours: float

    def to_dict(self) -> dict[str, object]:
        return {
            "jobs": self.jobs,
            "rejected": self.rejected,
            "utilisation": self.utilisation,
            "wait_s": self.wait_s.to_dict(),
            "jct_s": self.jct_s.to_dict(),
            "bounded_slowdown": self.bounded_slowdown.to_dict(),
            "preemptions": self.preemptions,
            "lost_gpu_hours": self.lost_gpu_hours,
        }


@dataclass(frozen=True, slots=True)
class Metrics:
    """The metrics of a run (``result.json`` less ``wall_s`` and ``jobs_per_s``)."""

    jobs: int
    rejected: list[str]
    gpus: int
    makespan_s: int
    utilisation: float
    wait_s: Summary
    jct_s: Summary
    bounded_slowdown: Summary
    preemptions: int
    lost_gpu_hours: float
    by_group: dict[str, GroupMetrics]
    series_utilisation: list[float] = field(default_factory=list)
    series_queued: list[float] = field(default_factory=list)
    unfinished: int = 0
    """Jobs still pending or running when the workload ended (a quota never let them run)."""

    def to_dict(self) -> dict[str, object]:
        return {
            "jobs": self.jobs,
            "rejected": len(self.rejected),
            "rejected_jobs": self.rejected,
            "gpus": self.gpus,
            "makespan_s": self.makespan_s,
            "utilisation": self.utilisation,
            "wait_s": self.wait_s.to_dict(),
            "jct_s": self.jct_s.to_dict(),
            "bounded_slowdown": self.bounded_slowdown.to_dict(),
            "preemptions": self.preemptions,
            "lost_gpu_hours": self.lost_gpu_hours,
            "by_group": {g: m.to_dict() for g, m in sorted(self.by_group.items())},
            "series": {
                "bucket_s": BUCKET_S,
                "utilisation": self.series_utilisation,
                "queued": self.series_queued,
            },
        }


@dataclass(slots=True)
class _Columns:
    submit: IntArray
    start: IntArray
    end: IntArray
    gpus: IntArray
    run: IntArray
    finished: npt.NDArray[np.bool_]
    rejected: npt.NDArray[np.bool_]
    attempts: IntArray
    lost: IntArray


def _columns(results: Sequence[JobResult]) -> _Columns:
    n = len(results)
    submit = np.fromiter(map(attrgetter("submit_s"), results), np.int64, n)
    start = np.fromiter((-1 if r.start_s is None else r.start_s for r in results), np.int64, n)
    end = np.fromiter((-1 if r.end_s is None else r.end_s for r in results), np.int64, n)
    gpus = np.fromiter(map(attrgetter("gpus"), results), np.int64, n)
    run = np.fromiter(map(attrgetter("run_s"), results), np.int64, n)
    finished = np.fromiter((r.state is CoreJobState.FINISHED for r in results), np.bool_, n)
    rejected = np.fromiter((r.state is CoreJobState.REJECTED for r in results), np.bool_, n)
    attempts = np.fromiter(map(attrgetter("attempts"), results), np.int64, n)
    lost = np.fromiter(map(attrgetter("lost_gpu_s"), results), np.int64, n)
    return _Columns(submit, start, end, gpus, run, finished, rejected, attempts, lost)


def _integrate(
    a: IntArray, b: IntArray, weight: FloatArray | IntArray, edges: IntArray
) -> FloatArray:
    """∫ over each [edges[i], edges[i+1]) of Σ weight·1[a ≤ t < b]."""
    if len(a) == 0:
        return np.zeros(len(edges) - 1)
    times = np.concatenate([a, b])
    deltas = np.concatenate([weight, -weight]).astype(np.float64)
    order = np.argsort(times, kind="stable")
    times = times[order]
    level = np.cumsum(deltas[order])
    area = np.concatenate([[0.0], np.cumsum(level[:-1] * np.diff(times))])
    j = np.searchsorted(times, edges, side="right") - 1
    at = np.where(
        j >= 0,
        area[np.maximum(j, 0)] + level[np.maximum(j, 0)] * (edges - times[np.maximum(j, 0)]),
        0.0,
    )
    return np.diff(at)


def _group(cols: _Columns, mask: npt.NDArray[np.bool_], capacity: float) -> GroupMetrics:
    fin = mask & cols.finished
    wait = cols.start[fin] - cols.submit[fin]
    jct = cols.end[fin] - cols.submit[fin]
    bsld = np.maximum(1.0, jct / np.maximum(cols.run[fin], BSLD_FLOOR_S))
    work = float(np.sum(cols.gpus[fin] * cols.run[fin]))
    return GroupMetrics(
        jobs=int(np.sum(mask)),
        rejected=int(np.sum(mask & cols.rejected)),
        utilisation=round(work / capacity, 6) if capacity > 0 else 0.0,
        wait_s=Summary.of(wait),
        jct_s=Summary.of(jct),
        bounded_slowdown=Summary.of(bsld),
        preemptions=int(np.sum(np.maximum(cols.attempts[mask] - 1, 0))),
        lost_gpu_hours=round(float(np.sum(cols.lost[mask])) / 3600, 6),
    )


def compute_metrics(
    results: Sequence[JobResult], gpus: int, preemptions: int | None = None
) -> Metrics:
    """The metrics of a run's per-job results on a cluster of ``gpus`` GPUs."""
    cols = _columns(results)
    scheduled = ~cols.rejected
    fin = cols.finished
    if np.any(scheduled) and np.any(fin):
        first = int(np.min(cols.submit[scheduled]))
        last = int(np.max(cols.end[fin]))
    else:
        first = last = 0
    makespan = max(0, last - first)
    capacity = float(gpus * makespan)
    overall = _group(cols, np.ones(len(results), np.bool_), capacity)
    groups: dict[str, GroupMetrics] = {}
    names = np.array([r.group for r in results], dtype=object)
    for name in sorted(set(names.tolist())):
        groups[str(name)] = _group(cols, names == name, capacity)
    n_buckets = -(-makespan // BUCKET_S) if makespan else 0
    edges = first + BUCKET_S * np.arange(n_buckets + 1, dtype=np.int64)
    busy = _integrate(cols.start[fin], cols.end[fin], cols.gpus[fin], edges)
    started = cols.start >= 0
    wait_a = cols.submit[scheduled]
    wait_b = np.where(started[scheduled], cols.start[scheduled], max(last, first))
    queued = _integrate(wait_a, wait_b, np.ones(len(wait_a), np.int64), edges)
    unfinished = int(np.sum(scheduled & ~fin))
    return Metrics(
        jobs=len(results),
        rejected=[r.job_id for r in results if r.state is CoreJobState.REJECTED],
        gpus=gpus,
        makespan_s=makespan,
        utilisation=overall.utilisation,
        wait_s=overall.wait_s,
        jct_s=overall.jct_s,
        bounded_slowdown=overall.bounded_slowdown,
        preemptions=overall.preemptions if preemptions is None else preemptions,
        lost_gpu_hours=overall.lost_gpu_hours,
        by_group=groups,
        series_utilisation=[round(float(x) / (gpus * BUCKET_S), 6) for x in busy],
        series_queued=[round(float(x) / BUCKET_S, 6) for x in queued],
        unfinished=unfinished,
    )
