"""Reviewers and assignments."""

from __future__ import annotations

from sqlalchemy.orm import Session

from computeport.models.application import Application
from computeport.models.identity import Role, User
from computeport.models.review import ReviewAssignment
from computeport.review import service
from tests.factories import identity as fi
from tests.factories.application import T


def reviewer(session: Session) -> User:
    return fi.user(session, roles=(Role.REVIEWER,))


def assignment(
    session: Session,
    application: Application,
    who: User | None = None,
    *,
    declared: bool = False,
) -> ReviewAssignment:
    """``who`` (a new reviewer by default) assigned; declared no-conflict if asked."""
    officer = fi.subject(session, fi.user(session, roles=(Role.SCHEME_OFFICER,)))
    person = who or reviewer(session)
    made = service.assign_reviewer(session, officer, application.id, person.id, at=T)
    if declared:
        service.declare(
            session, fi.subject(session, person), made.id, has_conflict=False, statement="", at=T
        )
    return made
