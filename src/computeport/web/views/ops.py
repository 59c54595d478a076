"""Centre operations: GPUs in use over time (finished jobs from the utilisation rollup, plus the
jobs running now), wait percentiles, and the live view of partitions, nodes and jobs from the
cluster back end (``ClusterBackend``: the embedded virtual cluster or Slurm).

Finished jobs come from ``utilisation_rollup`` (GPU-seconds per half-hour bucket, partition and
accelerator type, kept current as usage is posted), so a 90-day chart reads a few thousand rows
rather than every job of the window.  Chart buckets therefore start on Hong Kong step
boundaries (:func:`window_start`), where each holds whole rollup buckets.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from computeport.backends import ClusterBackend, JobInfo, JobState, NodeInfo, PartitionInfo
from computeport.models.rollup import (
    BUCKET_SECONDS,
    DAY_OFFSET_SECONDS,
    UtilisationRollup,
    WaitRollup,
)
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


Span = tuple[float, float, int, str]
"""An interval as (start, end) in epoch seconds, GPUs and group: what the bucketing loop eats."""


def gpus_in_use(
    intervals: Sequence[Interval], since: datetime, until: datetime, step: timedelta
) -> Series:
    """Time-weighted average GPUs in use per ``step`` bucket of [since, until), per group.

    Each interval adds gpus × (overlap seconds) to every bucket it overlaps; dividing by the
    bucket length gives the average concurrency, so short jobs count for what they used.
    """
    return spans_in_use(spans(intervals), since, until, step)


def spans(intervals: Iterable[Interval]) -> list[Span]:
    return [(iv.start.timestamp(), iv.end.timestamp(), iv.gpus, iv.group) for iv in intervals]


def spans_in_use(
    spans: Iterable[Span], since: datetime, until: datetime, step: timedelta
) -> Series:
    """:func:`gpus_in_use` on epoch-second spans (no datetime per record)."""
    labels = bucket_labels(since, until, step)
    sums: dict[str, list[float]] = {}
    add_spans(sums, spans, since, until, step)
    return series_of(labels, sums, step)


def add_spans(
    sums: dict[str, list[float]],
    spans: Iterable[Span],
    since: datetime,
    until: datetime,
    step: timedelta,
) -> None:
    """Add each span's GPUs × overlap seconds to the ``step`` buckets of [since, until)."""
    size = step.total_seconds()
    count = len(bucket_labels(since, until, step))
    origin = since.timestamp()
    stop = until.timestamp()
    for start, end, gpus, group in spans:
        start = max(start, origin)
        end = min(end, stop)
        if end <= start or gpus <= 0:
            continue
        row = sums.get(group)
        if row is None:
            row = sums[group] = [0.0] * count
        first = int((start - origin) // size)
        last = min(int((end - origin - 1e-9) // size), count - 1)
        if first == last:
            row[first] += gpus * (end - start)
            continue
        for index in range(first, last + 1):
            b_start = origin + index * size
            overlap = min(end, b_start + size) - max(start, b_start)
            if overlap > 0:
                row[index] += gpus * overlap


def series_of(labels: list[str], sums: dict[str, list[float]], step: timedelta) -> Series:
    """GPU-seconds per bucket → average GPUs in use per bucket, groups in name order."""
    size = step.total_seconds()
    groups = {name: [round(v / size, 2) for v in row] for name, row in sorted(sums.items())}
    return Series(labels, groups)


def window_start(now: datetime, days: int, step: timedelta) -> datetime:
    """The start of a ``days`` window ending ``now``, floored to a Hong Kong ``step`` boundary.

    Steps are whole multiples of the rollup's buckets, and so is Hong Kong's UTC offset, so the
    chart's buckets are unions of rollup buckets: the rollup answers them exactly.
    """
    size = int(step.total_seconds())
    if size % BUCKET_SECONDS:
        raise ValueError(f"step: a multiple of {BUCKET_SECONDS} seconds; got {size}")
    since = now - timedelta(days=days)
    offset = int((HONG_KONG.utcoffset(since) or timedelta(0)).total_seconds())
    local = int(since.timestamp()) + offset
    return datetime.fromtimestamp(local - local % size - offset, since.tzinfo)


@dataclass(frozen=True)
class FinishedUse:
    """GPU-seconds of finished (rated) jobs per chart bucket, by partition and by type."""

    labels: list[str]
    by_partition: dict[str, list[float]]
    by_type: dict[str, list[float]]


def finished_use(
    session: Session, since: datetime, until: datetime, step: timedelta
) -> FinishedUse:
    """Finished jobs' GPU-seconds per ``step`` bucket of [since, until), from the rollup.

    ``since`` must be on a rollup bucket boundary (:func:`window_start`).  Per rollup bucket b,
    GPU-seconds = partial(b) + B × F(b), with F the running sum of the whole-bucket GPU steps;
    so per chart bucket [c, d) holding n rollup buckets, with F₀ the count at c:
    Σ partial + B·n·F₀ + Σ step·(d − b) over the steps inside — what the database sums per
    chart bucket (~100 rows for any window), plus F₀ carried from one chart bucket to the next.
    """
    labels = bucket_labels(since, until, step)
    origin = int(since.timestamp())
    if origin % BUCKET_SECONDS:
        raise ValueError(f"since: not on a {BUCKET_SECONDS}-second boundary: {since.isoformat()}")
    size = int(step.total_seconds())
    count = len(labels)
    stop = int(until.timestamp())
    stop += -stop % BUCKET_SECONDS  # rollup buckets starting before ``until``
    r = UtilisationRollup
    full: dict[tuple[str, str], int] = {
        (str(p), str(t)): int(f)
        for p, t, f in session.execute(
            select(r.partition, r.accelerator_type, func.sum(r.full_gpus_delta))
            .where(r.bucket_start < origin)
            .group_by(r.partition, r.accelerator_type)
        ).all()
    }
    index = (r.bucket_start - origin) // size
    sums: dict[tuple[str, str], list[tuple[int, int, int]]] = defaultdict(
        lambda: [(0, 0, 0)] * count
    )
    for at, p, t, partial, steps, weighted in session.execute(
        select(
            index,
            r.partition,
            r.accelerator_type,
            func.sum(r.partial_gpu_seconds),
            func.sum(r.full_gpus_delta),
            func.sum(r.full_gpus_delta * r.bucket_start),
        )
        .where(r.bucket_start >= origin, r.bucket_start < stop)
        .group_by(index, r.partition, r.accelerator_type)
    ).all():
        sums[(str(p), str(t))][min(int(at), count - 1)] = (
            int(partial),
            int(steps),
            int(weighted),
        )
    by_partition: dict[str, list[float]] = {}
    by_type: dict[str, list[float]] = {}
    for key in sorted(set(sums) | {k for k, f in full.items() if f}):
        covering = full.get(key, 0)
        row = sums.get(key) or [(0, 0, 0)] * count
        values = [0] * count
        for i, (partial, steps, weighted) in enumerate(row):
            begin = origin + i * size
            end = min(begin + size, stop) if i == count - 1 else begin + size
            buckets = max(0, end - begin) // BUCKET_SECONDS
            values[i] = partial + BUCKET_SECONDS * buckets * covering + steps * end - weighted
            covering += steps
        if not any(values):
            continue
        partition, accelerator = key
        for groups, name in ((by_partition, partition), (by_type, accelerator)):
            target = groups.setdefault(name, [0.0] * count)
            for i, value in enumerate(values):
                target[i] += value
    return FinishedUse(labels, by_partition, by_type)


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


WAIT_BIN_SECONDS = 60
"""Coarse bins of the two-step percentile search in :func:`window_waits`."""

QUANTILES = (50, 90, 99)


def window_waits(session: Session, since: datetime, until: datetime) -> WaitStats:
    """Wait percentiles (nearest rank) per Hong Kong day, for the days from ``since``'s to
    ``until``'s, from the wait histogram (``wait_rollup``) of the rated jobs.

    Whole days, so the first day's figures are that day's (not the tail after ``since``).
    Exact, in two steps that keep the histogram in the database: counts per day and minute of
    wait locate the minute holding each percentile's rank; then only those minutes' rows are
    read to find the wait itself.
    """
    first = hk_day_start(since)
    stop = hk_day_start(until) + 86400
    in_window = (
        WaitRollup.day_start >= first,
        WaitRollup.day_start < stop,
        WaitRollup.jobs != 0,
    )
    minute = WaitRollup.wait_seconds // WAIT_BIN_SECONDS
    coarse: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for day, bin_, jobs in session.execute(
        select(WaitRollup.day_start, minute, func.sum(WaitRollup.jobs))
        .where(*in_window)
        .group_by(WaitRollup.day_start, minute)
        .order_by(WaitRollup.day_start, minute)
    ).all():
        coarse[int(day)].append((int(bin_), int(jobs)))
    # Each (day, quantile): the minute holding its rank, and its rank within that minute.
    targets: dict[tuple[int, int], tuple[int, int]] = {}
    totals: dict[int, int] = {}
    for day, bins in coarse.items():
        total = totals[day] = sum(jobs for _bin, jobs in bins)
        for q in QUANTILES:
            rank = max(1, -(-q * total // 100))
            before = 0
            for bin_, jobs in bins:
                if before + jobs >= rank:
                    targets[(day, q)] = (bin_, rank - before)
                    break
                before += jobs
    fine: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)
    wanted = sorted({(day, bin_) for (day, _q), (bin_, _r) in targets.items()})
    for chunk in range(0, len(wanted), 200):
        ranges = [
            and_(
                WaitRollup.day_start == day,
                WaitRollup.wait_seconds >= bin_ * WAIT_BIN_SECONDS,
                WaitRollup.wait_seconds < (bin_ + 1) * WAIT_BIN_SECONDS,
            )
            for day, bin_ in wanted[chunk : chunk + 200]
        ]
        for day, wait, jobs in session.execute(
            select(WaitRollup.day_start, WaitRollup.wait_seconds, WaitRollup.jobs)
            .where(or_(*ranges), WaitRollup.jobs != 0)
            .order_by(WaitRollup.day_start, WaitRollup.wait_seconds)
        ).all():
            fine[(int(day), int(wait) // WAIT_BIN_SECONDS)].append((int(wait), int(jobs)))
    stats = WaitStats([], [], [], [], [])
    for day in sorted(d for d, total in totals.items() if total > 0):
        found: list[int] = []
        for q in QUANTILES:
            bin_, rank = targets[(day, q)]
            seen = 0
            for wait, jobs in fine[(day, bin_)]:
                seen += jobs
                if seen >= rank:
                    found.append(wait)
                    break
        stats.x.append(datetime.fromtimestamp(day, HONG_KONG).date().isoformat())
        stats.p50.append(found[0])
        stats.p90.append(found[1])
        stats.p99.append(found[2])
        stats.jobs.append(totals[day])
    return stats


def hk_day_start(at: datetime) -> int:
    """Epoch seconds of the Hong Kong midnight starting ``at``'s day."""
    local = int(at.timestamp()) + DAY_OFFSET_SECONDS
    return local - local % 86400 - DAY_OFFSET_SECONDS


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
