"""The notifications the scheme sends, one function per event, called by the service that
caused the event inside its own transaction (never by views).

Each resolves its recipients (the organisation's admins and, where known, the author), builds
the template context and enqueues with a dedupe key naming the event, so calling twice for
the same event sends nothing more.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from computeport.kit.clock import Clock
from computeport.kit.money import Money
from computeport.kit.rates import percent
from computeport.models.application import Application
from computeport.models.award import Award
from computeport.models.identity import Organisation
from computeport.models.notification import OutboxMessage
from computeport.models.progress import ProgressReport
from computeport.notification.outbox import notify_organisation
from computeport.notification.templates import (
    AWARD_EXPIRING,
    DECISION,
    PROGRESS_REPORT_DUE,
    REVISION_REQUESTED,
    SUBMISSION_RECEIVED,
)


def _day(when: datetime | None) -> str:
    return when.strftime("%Y-%m-%d") if when is not None else "-"


def _application_context(session: Session, application: Application) -> dict[str, object]:
    organisation = session.get_one(Organisation, application.organisation_id)
    return {
        "reference": application.reference,
        "title": application.title,
        "organisation": organisation.name,
    }


def _notify_applicant(
    session: Session,
    clock: Clock,
    application: Application,
    *,
    kind: str,
    context: dict[str, object],
    dedupe_key: str,
) -> list[OutboxMessage]:
    """Enqueue to the applicant's organisation admins and the application's author."""
    return notify_organisation(
        session,
        clock,
        application.organisation_id,
        application.created_by_id,
        kind=kind,
        context=context,
        dedupe_key=dedupe_key,
        entity_type="application",
        entity_id=application.id,
    )


def notify_submission_received(
    session: Session, clock: Clock, application: Application
) -> list[OutboxMessage]:
    """Tell the applicant their application arrived (call when it moves to SUBMITTED)."""
    context = _application_context(session, application)
    submitted = application.submitted_at or clock.now()
    context["submitted_at"] = _day(submitted)
    return _notify_applicant(
        session,
        clock,
        application,
        kind=SUBMISSION_RECEIVED,
        context=context,
        dedupe_key=f"application:{application.id}:submitted:{submitted.isoformat()}",
    )


def notify_revision_requested(
    session: Session, clock: Clock, application: Application, reason: str
) -> list[OutboxMessage]:
    """Tell the applicant what the reviewers want changed (call on REVISION_REQUESTED)."""
    context = _application_context(session, application)
    context["reason"] = reason
    return _notify_applicant(
        session,
        clock,
        application,
        kind=REVISION_REQUESTED,
        context=context,
        dedupe_key=f"application:{application.id}:revision:{clock.now().isoformat()}",
    )


def notify_decision(
    session: Session,
    clock: Clock,
    application: Application,
    award: Award | None,
    reason: str = "",
    tranches: int = 1,
) -> list[OutboxMessage]:
    """Tell the applicant the committee's decision: the award's terms, or the reason."""
    context = _application_context(session, application)
    context.update(
        approved=award is not None, outcome="approved" if award else "not approved", reason=reason
    )
    if award is not None:
        context.update(
            award_reference=award.reference,
            starts_at=_day(award.starts_at),
            ends_at=_day(award.ends_at),
            lines_text=", ".join(
                f"{line.gpu_hours:,} on {line.accelerator_type}" for line in award.lines
            ),
            subsidy_rate=percent(award.subsidy_rate),
            cap=Money(award.cap_minor, award.currency).format(),
            slurm_account=award.slurm_account,
            tranches=tranches,
        )
    return _notify_applicant(
        session,
        clock,
        application,
        kind=DECISION,
        context=context,
        dedupe_key=f"application:{application.id}:decision",
    )


def notify_report_due(
    session: Session, clock: Clock, award: Award, report: ProgressReport, *, overdue: bool
) -> list[OutboxMessage]:
    """Remind the applicant of a progress report coming due (once), and once more if overdue."""
    return notify_organisation(
        session,
        clock,
        award.organisation_id,
        kind=PROGRESS_REPORT_DUE,
        context={
            "award_reference": award.reference,
            "sequence": report.sequence,
            "due_at": _day(report.due_at),
            "overdue": overdue,
        },
        dedupe_key=f"report:{report.id}:{'overdue' if overdue else 'due'}",
        entity_type="progress_report",
        entity_id=report.id,
    )


def notify_award_expiring(session: Session, clock: Clock, award: Award) -> list[OutboxMessage]:
    """Warn the applicant that the award ends soon (once per end date)."""
    days_left = max(0, (award.ends_at - clock.now()).days)
    return notify_organisation(
        session,
        clock,
        award.organisation_id,
        kind=AWARD_EXPIRING,
        context={
            "award_reference": award.reference,
            "ends_at": _day(award.ends_at),
            "days_left": days_left,
        },
        dedupe_key=f"award:{award.id}:expiring:{award.ends_at.date().isoformat()}",
        entity_type="award",
        entity_id=award.id,
    )


__all__ = [
    "notify_award_expiring",
    "notify_decision",
    "notify_report_due",
    "notify_revision_requested",
    "notify_submission_received",
]
