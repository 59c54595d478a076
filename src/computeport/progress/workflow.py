"""The progress report workflow::

    scheduled → submitted → accepted
                    ↓   ↑
                  queried

A query needs a reason (what the committee wants to know).  Accepted is final.
"""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from computeport.audit.service import record_transition
from computeport.kit.clock import Clock
from computeport.kit.workflow import TransitionTable
from computeport.models.progress import ProgressReport, ReportStatus

R = ReportStatus

REPORT_WORKFLOW: TransitionTable[ReportStatus] = TransitionTable.of(
    "progress report",
    {
        R.SCHEDULED: [R.SUBMITTED],
        R.SUBMITTED: [R.ACCEPTED, R.QUERIED],
        R.QUERIED: [R.SUBMITTED],
    },
    reason_required=[(R.SUBMITTED, R.QUERIED)],
)


def transition(
    session: Session,
    report: ProgressReport,
    to: ReportStatus,
    actor_id: uuid.UUID | None,
    reason: str,
    clock: Clock,
) -> None:
    """Move ``report`` to ``to`` if the table allows it, with its audit record."""
    source = report.status
    REPORT_WORKFLOW.check(source, to, report, reason)
    report.status = to
    record_transition(session, report, source, to, actor_id, reason, clock.now())


__all__ = ["REPORT_WORKFLOW", "transition"]
