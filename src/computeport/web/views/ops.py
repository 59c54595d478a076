"""Centre operations: GPUs in use over time (from finished jobs' usage records plus the jobs
running now), wait percentiles, and the live view of partitions, nodes and jobs from the cluster
back end (``ClusterBackend``: the embedded virtual cluster or Slurm)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from computeport.backends.protocol import (
    ClusterBackend,
    JobInfo,
    JobState,
    NodeInfo,
    PartitionInfo,
)
from computeport.models.metering import UsageRecord
from computeport.web.formatting import HONG_KONG


@dataclass(frozen=True)
class Interval:
    """A job's GPUs held over [start, end)."""

    start: datetime
    end: datetime
    gpus: int
    group: str


@dataclass(frozen=True)
class Series:
    """Average GPUs in use per bucket, per group; x labels in Hong Kong time."""

    x: list[str]
    groups: dict[str, list[float]]

    def total(self) -> list[float]:
        return [round(sum(v[i] for v in self.groups.values()), 2) for i in range(len(self.x))]


def bucket_labels(since: datetime, until: datetime, step: timedelta) -> list[str]:
    labels: list[str] = []
    at = since
    while at < until:
        labels.append(at.astimezone(HONG_KONG).strftime("%Y-%m-%d %H:%M"))
        at += step
    return labels


def gpus_in_use(
    intervals: Sequence[Interval], since: datetime, until: datetime, step: timedelta
) -> Series:
    """Time-weighted average GPUs in use per ``step`` bucket of [since, until), per group.

    Each interval adds gpus × (overlap seconds) to every bucket it overlaps; dividing by the
    bucket length gives the average concurrency, so short jobs count for what they used.
    """
    labels = bucket_labels(since, until, step)
    size = step.total_seconds()
    count = len(labels)
    sums: dict[str, list[float]] = defaultdict(lambda: [0.0] * count)
    origin = since.timestamp()
    for iv in intervals:
        start = max(iv.start.timestamp(), origin)
        end = min(iv.end.timestamp(), until.timestamp())
        if end <= start or iv.gpus <= 0:
            continue
        first = int((start - origin) // size)
        last = min(int((end - origin - 1e-9) // size), count - 1)
        row = sums[iv.group]
        for index in range(first, last + 1):
            b_start = origin + index * size
            overlap = min(end, b_start + size) - max(start, b_start)
            if overlap > 0:
                row[index] += iv.gpus * overlap
    groups = {name: [round(v / size, 2) for v in row] for name, row in sorted(sums.items())}
    return Series(labels, groups)


def running_intervals(jobs: Sequence[JobInfo], now: datetime, group_by: str) -> list[Interval]:
    found: list[Interval] = []
    for job in jobs:
        if job.state is JobState.RUNNING and job.start_time is not None:
            group = job.partition if group_by == "partition" else (job.gpu_type or "gpu")
            found.append(Interval(job.start_time, now, job.gpus, group))
    return found


def percentile(sorted_values: Sequence[int], q: int) -> int:
    """Nearest-rank percentile (q in 1..100) of already-sorted values; 0 for none."""
    if not sorted_values:
        return 0
    rank = max(1, -(-q * len(sorted_values) // 100))
    return sorted_values[rank - 1]


@dataclass(frozen=True)
class WaitStats:
    x: list[str]
    p50: list[int]
    p90: list[int]
    p99: list[int]
    jobs: list[int]


def daily_waits(session: Session, since: datetime, until: datetime) -> WaitStats:
    """Wait (start − submit) percentiles per Hong Kong day for jobs that started in the window."""
    rows = session.execute(
        select(UsageRecord.submit_time, UsageRecord.start_time).where(
            UsageRecord.start_time.is_not(None),
            UsageRecord.start_time >= since,
            UsageRecord.start_time < until,
        )
    ).all()
    return waits_by_day([(submit, start) for submit, start in rows if start is not None])


def waits_by_day(pairs: Sequence[tuple[datetime, datetime]]) -> WaitStats:
    """Percentiles of (start − submit) per Hong Kong day of the start."""
    per_day: dict[str, list[int]] = defaultdict(list)
    for submit, start in pairs:
        day = start.astimezone(HONG_KONG).strftime("%Y-%m-%d")
        per_day[day].append(max(0, int((start - submit).total_seconds())))
    stats = WaitStats([], [], [], [], [])
    for day in sorted(per_day):
        values = sorted(per_day[day])
        stats.x.append(day)
        stats.p50.append(percentile(values, 50))
        stats.p90.append(percentile(values, 90))
        stats.p99.append(percentile(values, 99))
        stats.jobs.append(len(values))
    return stats


@dataclass(frozen=True)
class WindowUsage:
    """Finished jobs of a window, ready for the operations charts (one query for all three)."""

    by_partition: list[Interval]
    by_type: list[Interval]
    waits: WaitStats


def window_usage(session: Session, since: datetime, until: datetime) -> WindowUsage:
    """Usage records overlapping [since, until): intervals by partition and by accelerator type,
    and the wait percentiles of the jobs that started in the window."""
    rows = session.execute(
        select(
            UsageRecord.submit_time,
            UsageRecord.start_time,
            UsageRecord.end_time,
            UsageRecord.gpus,
            UsageRecord.partition,
            UsageRecord.accelerator_type,
        ).where(
            and_(
                UsageRecord.start_time.is_not(None),
                UsageRecord.start_time < until,
                UsageRecord.end_time > since,
            )
        )
    ).all()
    by_partition: list[Interval] = []
    by_type: list[Interval] = []
    started: list[tuple[datetime, datetime]] = []
    for submit, start, end, gpus, partition, accelerator in rows:
        if start is None:
            continue
        by_partition.append(Interval(start, end, int(gpus), str(partition)))
        by_type.append(Interval(start, end, int(gpus), str(accelerator)))
        if start >= since:
            started.append((submit, start))
    return WindowUsage(by_partition, by_type, waits_by_day(started))


@dataclass(frozen=True)
class LiveCluster:
    """The back end's view now."""

    cluster: str
    partitions: list[PartitionInfo]
    nodes: list[NodeInfo]
    running: list[JobInfo]
    pending: list[JobInfo]

    @property
    def gpus(self) -> int:
        """Installed GPUs: counted over nodes, since partitions may share nodes."""
        return sum(n.gpus for n in self.nodes)

    @property
    def gpus_used(self) -> int:
        return sum(n.gpus_used for n in self.nodes)

    def pending_by_reason(self) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        for job in self.pending:
            counts[job.pending_reason.value] += 1
        return dict(sorted(counts.items(), key=lambda kv: -kv[1]))


def live_cluster(backend: ClusterBackend) -> LiveCluster:
    jobs = backend.jobs()
    return LiveCluster(
        cluster=backend.cluster,
        partitions=sorted(backend.partitions(), key=lambda p: p.name),
        nodes=sorted(backend.nodes(), key=lambda n: n.name),
        running=sorted(
            (j for j in jobs if j.state is JobState.RUNNING),
            key=lambda j: (j.start_time or j.submit_time, j.job_id),
        ),
        pending=sorted(
            (j for j in jobs if j.state is JobState.PENDING),
            key=lambda j: (j.submit_time, j.job_id),
        ),
    )
