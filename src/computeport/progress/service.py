"""Filing and reviewing progress reports, releasing tranches, and the reminder job."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from pydantic import ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from computeport.audit.service import record_event
from computeport.kit.clock import Clock
from computeport.kit.errors import IllegalTransition
from computeport.kit.inputs import InputModel
from computeport.models.award import Award, AwardStatus
from computeport.models.progress import AwardTranche, ProgressReport, ReportStatus
from computeport.notification.events import notify_award_expiring, notify_report_due
from computeport.progress.errors import ReportNotFound
from computeport.progress.tranches import OPEN_REPORT_STATES, is_overdue
from computeport.progress.workflow import transition

OPEN_AWARDS = (AwardStatus.ACTIVE, AwardStatus.SUSPENDED)


class ReportIn(InputModel):
    """What an applicant files: cumulative outputs since the award, and a narrative."""

    model_config = ConfigDict(extra="forbid")

    models_released: int = Field(default=0, ge=0, le=100_000)
    papers: int = Field(default=0, ge=0, le=100_000)
    products: int = Field(default=0, ge=0, le=100_000)
    jobs_created: int = Field(default=0, ge=0, le=1_000_000)
    narrative: str = Field(min_length=1, max_length=20_000)


class ReviewIn(InputModel):
    """The committee's verdict on a filed report."""

    model_config = ConfigDict(extra="forbid")

    outcome: str = Field(pattern="^(accept|query)$")
    note: str = Field(default="", max_length=5000)


def get_report(session: Session, report_id: uuid.UUID) -> ProgressReport:
    report = session.get(ProgressReport, report_id)
    if report is None:
        raise ReportNotFound(f"progress report {report_id} not found", field="report_id")
    return report


def reports_of(session: Session, award_id: uuid.UUID) -> list[ProgressReport]:
    return list(
        session.scalars(
            select(ProgressReport)
            .where(ProgressReport.award_id == award_id)
            .order_by(ProgressReport.sequence)
        )
    )


def submit_report(
    session: Session,
    report_id: uuid.UUID,
    data: ReportIn,
    actor_id: uuid.UUID | None,
    clock: Clock,
) -> ProgressReport:
    """File (or re-file after a query) a report; the award must not have ended."""
    report = get_report(session, report_id)
    award = session.get_one(Award, report.award_id)
    if award.status not in OPEN_AWARDS:
        raise IllegalTransition(
            f"award {award.reference} is {award.status.value}: no more reports are taken",
            field="status",
        )
    transition(session, report, ReportStatus.SUBMITTED, actor_id, "report filed", clock)
    report.models_released = data.models_released
    report.papers = data.papers
    report.products = data.products
    report.jobs_created = data.jobs_created
    report.narrative = data.narrative
    report.submitted_at = clock.now()
    report.submitted_by_id = actor_id
    session.flush()
    return report


def review_report(
    session: Session,
    report_id: uuid.UUID,
    data: ReviewIn,
    actor_id: uuid.UUID | None,
    clock: Clock,
) -> ProgressReport:
    """Accept a filed report (releasing the tranche it gates) or query it (note required)."""
    report = get_report(session, report_id)
    target = ReportStatus.ACCEPTED if data.outcome == "accept" else ReportStatus.QUERIED
    transition(session, report, target, actor_id, data.note, clock)
    report.reviewed_at = clock.now()
    report.reviewed_by_id = actor_id
    report.committee_note = data.note
    if target is ReportStatus.ACCEPTED:
        award = session.get_one(Award, report.award_id)
        for tranche in session.scalars(
            select(AwardTranche).where(
                AwardTranche.gating_report_id == report.id, AwardTranche.released_at.is_(None)
            )
        ):
            if award.status not in OPEN_AWARDS:
                continue  # an ended award releases nothing more
            tranche.released_at = clock.now()
            record_event(
                session,
                award,
                "tranche_released",
                actor_id,
                f"tranche {tranche.sequence} ({tranche.share_bp / 100:g}%) released after "
                f"progress report {report.sequence} was accepted",
                clock.now(),
            )
    session.flush()
    return report


@dataclass
class ReminderResult:
    reports_due: int = 0
    reports_overdue: int = 0
    awards_expiring: int = 0


def send_reminders(
    session: Session,
    clock: Clock,
    *,
    report_notice: timedelta = timedelta(days=14),
    expiry_notice: timedelta = timedelta(days=30),
) -> ReminderResult:
    """Enqueue reminders: reports due soon, reports overdue, awards ending soon.

    Idempotent (dedupe keys), so the periodic job may run as often as it likes: each reminder
    is sent once per report (due, then overdue) and once per award end date.
    """
    now = clock.now()
    result = ReminderResult()
    rows = session.execute(
        select(ProgressReport, Award)
        .join(Award, Award.id == ProgressReport.award_id)
        .where(
            Award.status.in_(OPEN_AWARDS),
            ProgressReport.status.in_(OPEN_REPORT_STATES),
            ProgressReport.due_at <= now + report_notice,
        )
        .order_by(ProgressReport.due_at)
    ).all()
    for report, award in rows:
        overdue = is_overdue(report, now)
        if notify_report_due(session, clock, award, report, overdue=overdue):
            if overdue:
                result.reports_overdue += 1
            else:
                result.reports_due += 1
    for award in session.scalars(
        select(Award).where(
            Award.status.in_(OPEN_AWARDS),
            Award.ends_at > now,
            Award.ends_at <= now + expiry_notice,
        )
    ):
        if notify_award_expiring(session, clock, award):
            result.awards_expiring += 1
    session.flush()
    return result


__all__ = [
    "ReminderResult",
    "ReportIn",
    "ReviewIn",
    "get_report",
    "reports_of",
    "review_report",
    "send_reminders",
    "submit_report",
]
