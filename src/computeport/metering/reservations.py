"""Reserved capacity charged by reserved GPU-hours, where the award's terms say so.

A reservation withholds nodes from everyone but its award.  When the award's terms say
``charge_reservations``, the award pays for the whole reservation, not only for what its jobs
used: the jobs that ran in it are charged as usual (they are ordinary usage records), and once
the window has ended one extra usage record tops the total up to the reserved GPU-seconds::

    top-up = reserved − used            (never negative)
    reserved = GPUs on the reserved nodes × window seconds
    used = ∫ min(GPUs of the award's jobs on the partition at t, reserved GPUs) dt, in the window

"Used" counts the award's jobs (account = the award's Slurm account) on the reservation's
cluster and partition while they overlapped the window, capped at the reserved GPUs at every
instant: accounting records name no reservation, so the award's concurrent GPUs up to the
reservation's size are taken to have run on it (jobs beyond that ran elsewhere and are charged
on their own anyway).  The latest version of each record counts (a correction supersedes).

The top-up is an ordinary :class:`~computeport.backends.types.accounting.AccountingRecord` with a
deterministic key — (cluster, job id ``resv:<name>``, submit time = the window's start) — so it
goes through :func:`computeport.metering.ingest.ingest_usage` and is rated by the normal rules
(price at its end, the subsidy split, the cap in (end, cluster, job id) order).  Its state is
``RESERVED``; its end is the window's last second (the window is half-open, so a reservation
ending at midnight on 1 December belongs to November and to an award ending at that instant).
Recomputing gives the same record (a duplicate, nothing written) unless the award's usage in
the window changed — a job that ended after the first computation — and then the new record is
a correction whose rating reverses the old one.  Reservations are recomputed for ``horizon``
(a month) after their end — long enough for the jobs that ran past the window to end and be
ingested — and then left alone.  Awards without the flag get nothing extra.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from computeport.award.reservations import is_void, reserved_gpu_seconds
from computeport.backends import AccountingRecord, JobState
from computeport.models.award import Award
from computeport.models.metering import UsageRecord
from computeport.models.reservation import AwardReservation

__all__ = [
    "HORIZON",
    "RESERVATION_JOB_PREFIX",
    "RESERVATION_USER",
    "reservation_records",
    "used_gpu_seconds",
]

RESERVATION_JOB_PREFIX = "resv:"
RESERVATION_USER = "(reserved)"
HORIZON = timedelta(days=31)
_LAST_SECOND = timedelta(seconds=1)


def used_gpu_seconds(
    jobs: Iterable[tuple[datetime, datetime, int]], start: datetime, end: datetime, cap: int
) -> int:
    """∫ min(GPUs in use, ``cap``) over ``[start, end)``; ``jobs`` are (start, end, gpus)."""
    edges: dict[datetime, int] = {}
    for lo, hi, gpus in jobs:
        lo, hi = max(lo, start), min(hi, end)
        if lo < hi and gpus > 0:
            edges[lo] = edges.get(lo, 0) + gpus
            edges[hi] = edges.get(hi, 0) - gpus
    total = level = 0
    previous: datetime | None = None
    for at in sorted(edges):
        if previous is not None and level > 0:
            total += min(level, cap) * int((at - previous).total_seconds())
        level += edges[at]
        previous = at
    return total


def _award_jobs(
    session: Session, cluster: str, wanted: list[tuple[AwardReservation, str]]
) -> dict[tuple[str, str], list[tuple[datetime, datetime, int]]]:
    """(start, end, GPUs) of the latest record versions of the reservations' accounts, per
    (account, partition), overlapping the span of all the windows: one read for the run,
    however many reservations (each reservation then keeps what overlaps its own window)."""
    lo = min(r.starts_at for r, _ in wanted)
    hi = max(r.ends_at for r, _ in wanted)
    rows = session.execute(
        select(
            UsageRecord.id,
            UsageRecord.account,
            UsageRecord.partition,
            UsageRecord.job_id,
            UsageRecord.submit_time,
            UsageRecord.start_time,
            UsageRecord.end_time,
            UsageRecord.gpus,
        ).where(
            UsageRecord.cluster == cluster,
            UsageRecord.account.in_(sorted({a for _, a in wanted})),
            UsageRecord.start_time.is_not(None),
            UsageRecord.start_time < hi,
            UsageRecord.end_time > lo,
            UsageRecord.job_id.not_like(RESERVATION_JOB_PREFIX + "%"),
        )
    )
    latest: dict[tuple[str, str, str, datetime], tuple[int, datetime, datetime, int]] = {}
    for rid, account, partition, job_id, submit, start, end, gpus in rows:
        key = (account, partition, job_id, submit)
        if key not in latest or rid > latest[key][0]:
            assert start is not None
            latest[key] = (rid, start, end, gpus)
    out: dict[tuple[str, str], list[tuple[datetime, datetime, int]]] = {}
    for (account, partition, _, _), (_, start, end, gpus) in latest.items():
        out.setdefault((account, partition), []).append((start, end, gpus))
    return out


def reservation_records(
    session: Session, cluster: str, now: datetime, *, horizon: timedelta = HORIZON
) -> list[AccountingRecord]:
    """The top-up record of every reservation on ``cluster`` that ended in ``(now − horizon,
    now]`` and whose award charges reservations (nothing is read beyond the reservations
    when there are none: the common case costs one indexed query)."""
    rows = session.execute(
        select(AwardReservation, Award.slurm_account)
        .join(Award, Award.id == AwardReservation.award_id)
        .where(
            Award.charge_reservations.is_(True),
            AwardReservation.cluster == cluster,
            AwardReservation.ends_at <= now,
            AwardReservation.ends_at > now - horizon,
        )
        .order_by(AwardReservation.ends_at, AwardReservation.name)
    )
    wanted = [(resv, account) for resv, account in rows if not is_void(resv)]
    if not wanted:
        return []
    jobs = _award_jobs(session, cluster, wanted)
    out: list[AccountingRecord] = []
    for resv, account in wanted:
        reserved = reserved_gpu_seconds(resv)
        mine = jobs.get((account, resv.partition), [])
        used = used_gpu_seconds(mine, resv.starts_at, resv.ends_at, resv.gpus)
        window = int((resv.ends_at - resv.starts_at).total_seconds())
        out.append(
            AccountingRecord(
                cluster=cluster,
                job_id=RESERVATION_JOB_PREFIX + resv.name,
                submit_time=resv.starts_at,
                account=account,
                user=RESERVATION_USER,
                partition=resv.partition,
                gpus=resv.gpus,
                gpu_type=resv.accelerator_type,
                start_time=resv.starts_at,
                end_time=resv.ends_at - _LAST_SECOND,
                state=JobState.RESERVED,
                exit_code=0,
                elapsed_seconds=window,
                gpu_seconds=max(0, reserved - used),
                name=f"reservation {resv.name}",
            )
        )
    return out
