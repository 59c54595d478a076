"""Moving the application when the committee decides, through the application workflow.

Kept in one small module so the award domain depends on one function of the application
domain (:func:`computeport.application.service.transition`, which checks the application's
transition table and writes the audit record), not on its internals.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from computeport.application.errors import ApplicationNotFound
from computeport.application.service import transition
from computeport.kit.clock import Clock
from computeport.kit.errors import IllegalTransition
from computeport.models.application import Application, ApplicationStatus

AS = ApplicationStatus

DECIDABLE = {
    AS.APPROVED: frozenset({AS.RECOMMENDED}),
    AS.REJECTED: frozenset({AS.RECOMMENDED, AS.NOT_RECOMMENDED}),
}
"""The committee approves only recommended applications; it may reject either kind."""


def lock_application(session: Session, application_id: uuid.UUID) -> Application:
    """The application row, locked for the rest of the transaction (PostgreSQL)."""
    application = session.scalars(
        select(Application)
        .where(Application.id == application_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()
    if application is None:
        raise ApplicationNotFound(f"application {application_id} not found", field="application_id")
    return application


def ensure_decidable(application: Application, to: ApplicationStatus) -> None:
    """Raise 409 unless the committee may move the application to ``to`` now."""
    if application.status not in DECIDABLE[to]:
        allowed = " or ".join(s.value for s in sorted(DECIDABLE[to]))
        raise IllegalTransition(
            f"application {application.reference} is {application.status.value}; the committee "
            f"can {'approve' if to is AS.APPROVED else 'reject'} only a {allowed} application",
            field="status",
            from_state=application.status.value,
            to_state=to.value,
        )


def move_application(
    session: Session,
    application: Application,
    to: ApplicationStatus,
    actor_id: uuid.UUID | None,
    reason: str,
    clock: Clock,
) -> None:
    """Record the committee's decision on the application (status, decided_at, audit)."""
    ensure_decidable(application, to)
    transition(session, application, to, actor_id=actor_id, reason=reason, at=clock.now())


__all__ = ["DECIDABLE", "ensure_decidable", "lock_application", "move_application"]
