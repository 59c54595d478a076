"""How many GPU-hours an award has released: the figure the cluster back ends provision.

Each line's GPU-hours are split over the tranches by their shares with the largest-remainder
method (:func:`computeport.kit.money.allocate`), so the tranches of a line add up to the line
exactly; released hours are the sum over released tranches.  A top-up adds hours to a line and
is therefore spread over the tranches in the same shares.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from computeport.kit.money import allocate
from computeport.models.award import Award
from computeport.models.progress import AwardTranche, ProgressReport, ReportStatus

OPEN_REPORT_STATES = frozenset({ReportStatus.SCHEDULED, ReportStatus.QUERIED})


class TrancheState(enum.StrEnum):
    RELEASED = "released"  # provisionable
    PENDING = "pending"  # waits for its report to be accepted
    HELD = "held"  # its report is overdue: nothing more is released until it is accepted


def is_overdue(report: ProgressReport, now: datetime) -> bool:
    """A report is overdue while not filed (or queried and not re-filed) after its due date."""
    return report.status in OPEN_REPORT_STATES and report.due_at <= now


def tranches_of(session: Session, award: Award) -> list[AwardTranche]:
    return list(
        session.scalars(
            select(AwardTranche)
            .where(AwardTranche.award_id == award.id)
            .order_by(AwardTranche.sequence)
        )
    )


def tranche_state(
    tranche: AwardTranche, report: ProgressReport | None, now: datetime
) -> TrancheState:
    if tranche.released_at is not None:
        return TrancheState.RELEASED
    if report is not None and is_overdue(report, now):
        return TrancheState.HELD
    return TrancheState.PENDING


def released_gpu_hours_by_line(
    line_hours: dict[str, int], shares_bp: list[int], released: list[bool]
) -> dict[str, int]:
    """Pure core of :func:`released_gpu_hours` (property-tested)."""
    if not shares_bp:
        return dict(line_hours)
    out: dict[str, int] = {}
    for accelerator, hours in line_hours.items():
        parts = allocate(hours, shares_bp)
        out[accelerator] = sum(p for p, r in zip(parts, released, strict=True) if r)
    return out


def released_gpu_hours(session: Session, award: Award) -> dict[str, int]:
    """GPU-hours released so far per accelerator type (what Slurm/sim may provision).

    An award without tranches (all released at award) releases all its hours.  Whether the
    award is still active is a separate question the back end asks of ``award.status``.
    """
    tranches = tranches_of(session, award)
    lines = {line.accelerator_type: line.gpu_hours for line in award.lines}
    return released_gpu_hours_by_line(
        lines, [t.share_bp for t in tranches], [t.released_at is not None for t in tranches]
    )


__all__ = [
    "OPEN_REPORT_STATES",
    "TrancheState",
    "is_overdue",
    "released_gpu_hours",
    "released_gpu_hours_by_line",
    "tranche_state",
    "tranches_of",
]
