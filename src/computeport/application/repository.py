"""Application queries with the ``readable_by`` filter (no list can leak other organisations).

- scheme officers, committee members and operators read every application;
- a reviewer reads the applications assigned to them once they declared no conflict;
- an applicant reads its own organisations' applications;
- everyone else (the funder included: it reads figures, not files) reads none.
"""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, Select, false, or_, select
from sqlalchemy.orm import Session

from computeport.identity.subject import Subject
from computeport.models.application import Application, ApplicationStatus
from computeport.models.identity import Role
from computeport.models.review import AssignmentStatus, ReviewAssignment

APPLICATION_READERS = frozenset({Role.SCHEME_OFFICER, Role.COMMITTEE_MEMBER, Role.OPERATOR})
REVIEWER_VISIBLE = (AssignmentStatus.ACTIVE, AssignmentStatus.SUBMITTED)


def applications_readable_by(subject: Subject) -> Select[Application]:
    stmt = select(Application)
    if subject.staff_roles & APPLICATION_READERS:
        return stmt
    conditions: list[ColumnElement[bool]] = []
    if subject.organisation_ids:
        conditions.append(Application.organisation_id.in_(subject.organisation_ids))
    if Role.REVIEWER in subject.staff_roles:
        assigned = select(ReviewAssignment.application_id).where(
            ReviewAssignment.reviewer_id == subject.user_id,
            ReviewAssignment.status.in_(REVIEWER_VISIBLE),
        )
        conditions.append(Application.id.in_(assigned))
    if not conditions:
        return stmt.where(false())
    return stmt.where(or_(*conditions))


def assignment_of(
    session: Session, application_id: uuid.UUID, reviewer_id: uuid.UUID
) -> ReviewAssignment | None:
    return session.scalar(
        select(ReviewAssignment).where(
            ReviewAssignment.application_id == application_id,
            ReviewAssignment.reviewer_id == reviewer_id,
        )
    )


def lock_application(session: Session, application_id: uuid.UUID) -> Application | None:
    """The row locked for the rest of the transaction (PostgreSQL ``FOR UPDATE``)."""
    return session.scalars(
        select(Application)
        .where(Application.id == application_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()


def list_applications(
    session: Session,
    subject: Subject,
    *,
    scheme_id: uuid.UUID | None = None,
    status: ApplicationStatus | None = None,
    organisation_id: uuid.UUID | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[Application]:
    """Applications the subject may read, narrowed by scheme, status and organisation."""
    stmt = applications_readable_by(subject)
    if scheme_id is not None:
        stmt = stmt.where(Application.scheme_id == scheme_id)
    if status is not None:
        stmt = stmt.where(Application.status == status)
    if organisation_id is not None:
        stmt = stmt.where(Application.organisation_id == organisation_id)
    stmt = stmt.order_by(Application.reference).limit(limit).offset(offset)
    return list(session.scalars(stmt))
