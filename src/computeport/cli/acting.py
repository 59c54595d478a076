"""What the identity, scheme, application and review commands share: who acts, when, and lookups.

Writes name the acting user (``--as EMAIL``) so the same permission checks and audit records
apply as over the API.  Reads without ``--as`` run as the console operator, who sees everything
(the CLI is run by whoever holds the database).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from computeport.application.errors import ApplicationNotFound
from computeport.cli.common import fail
from computeport.identity.errors import OrganisationNotFound, UserNotFound
from computeport.identity.repository import user_by_email
from computeport.identity.service import subject_for
from computeport.identity.subject import Subject
from computeport.kit.clock import Clock, ManualClock, SystemClock, ensure_aware
from computeport.models.application import Application
from computeport.models.identity import Organisation, Role, User

CONSOLE = Subject(
    uuid.UUID(int=0),
    "console",
    frozenset({Role.OPERATOR, Role.SCHEME_OFFICER, Role.COMMITTEE_MEMBER}),
)
"""The read-only console view (never used for writes: it is no real user)."""


def user(session: Session, email: str, *, option: str = "--as") -> User:
    found = user_by_email(session, email)
    if found is None:
        raise UserNotFound(f"no user with e-mail {email}", field=option)
    return found


def acting(session: Session, email: str | None, *, write: bool = True) -> Subject:
    if email is None:
        if write:
            raise fail("--as EMAIL: say which user does this (it is recorded in the audit trail)")
        return CONSOLE
    return subject_for(session, user(session, email))


def organisation(session: Session, name: str, *, option: str = "--org") -> Organisation:
    found = session.scalar(select(Organisation).where(Organisation.name == name))
    if found is None:
        raise OrganisationNotFound(f"no organisation named {name!r}", field=option)
    return found


def application_id(session: Session, reference: str) -> uuid.UUID:
    found = session.scalar(select(Application.id).where(Application.reference == reference))
    if found is None:
        raise ApplicationNotFound(f"no application {reference}", field="REFERENCE")
    return found


def parse_when(value: str | None, *, option: str) -> datetime | None:
    """ISO 8601 with a zone (``2026-11-01T00:00:00Z``) or a date (midnight UTC)."""
    if value is None:
        return None
    text = value.strip().replace("Z", "+00:00")
    if "T" not in text and " " not in text:
        text += "T00:00:00+00:00"
    try:
        return ensure_aware(datetime.fromisoformat(text))
    except ValueError:
        raise fail(f"{option}: not an ISO 8601 date or time with a zone: {value!r}") from None


def required_when(value: str, *, option: str) -> datetime:
    when = parse_when(value, option=option)
    assert when is not None
    return when


def clock_for(now: str | None) -> Clock:
    when = parse_when(now, option="--now")
    return ManualClock(when) if when is not None else SystemClock()
