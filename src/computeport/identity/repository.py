"""Queries over organisations, users and tokens, with the ``readable_by`` filter.

``readable_by(subject)`` is the one place that decides which rows a caller may list (NetBox's
``RestrictedQuerySet.restrict``, Polar's ``get_readable_statement``): lists built on it cannot
leak another organisation's rows.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import CursorResult, Select, bindparam, false, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from computeport.identity.subject import Subject
from computeport.models.identity import ApiToken, Membership, Organisation, Role, User


def organisations_readable_by(subject: Subject) -> Select[Organisation]:
    """Organisations the subject may see: all for overseers and reviewers, else its own."""
    stmt = select(Organisation)
    if subject.sees_all_organisations or subject.is_staff:
        return stmt
    if not subject.organisation_ids:
        return stmt.where(false())
    return stmt.where(Organisation.id.in_(subject.organisation_ids))


def users_readable_by(subject: Subject) -> Select[User]:
    """Users the subject may see: all for overseers; members of its organisations otherwise."""
    stmt = select(User)
    if subject.sees_all_organisations:
        return stmt
    if not subject.organisation_ids:
        return stmt.where(User.id == subject.user_id)
    members = select(Membership.user_id).where(
        Membership.organisation_id.in_(subject.organisation_ids)
    )
    return stmt.where((User.id == subject.user_id) | User.id.in_(members))


def user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == email.strip().lower()))


def memberships_of(session: Session, user_id: uuid.UUID) -> list[Membership]:
    stmt = select(Membership).where(Membership.user_id == user_id).order_by(Membership.created_at)
    return list(session.scalars(stmt))


class TokenSubjectRow(NamedTuple):
    """One row of :func:`token_subject_rows`: the token, its user, and one of their roles."""

    token_id: uuid.UUID
    revoked_at: datetime | None
    expires_at: datetime | None
    last_used_at: datetime | None
    user_id: uuid.UUID
    email: str
    is_active: bool
    role: Role | None
    organisation_id: uuid.UUID | None


# Built once: the statement is the same for every request, only the hash differs.
_TOKEN_SUBJECT = (
    select(
        ApiToken.id,
        ApiToken.revoked_at,
        ApiToken.expires_at,
        ApiToken.last_used_at,
        User.id,
        User.email,
        User.is_active,
        Membership.role,
        Membership.organisation_id,
    )
    .join(User, User.id == ApiToken.user_id)
    .outerjoin(Membership, Membership.user_id == User.id)
    .where(ApiToken.token_hash == bindparam("token_hash"))
)

_USER_SUBJECT = (
    select(User.email, User.is_active, Membership.role, Membership.organisation_id)
    .outerjoin(Membership, Membership.user_id == User.id)
    .where(User.id == bindparam("user_id"))
)


def token_subject_rows(session: Session, token_hash: str) -> list[TokenSubjectRow]:
    """The token with this hash, its user and the user's memberships: one indexed query per
    request (no row when the token is unknown, one row per membership, at least one)."""
    # Core rather than ORM execution: plain columns, and half the overhead per request.
    result = session.connection().execute(_TOKEN_SUBJECT, {"token_hash": token_hash})
    return [TokenSubjectRow(*row) for row in result]


class UserSubjectRow(NamedTuple):
    """One row of :func:`user_subject_rows`: the user and one of their roles."""

    email: str
    is_active: bool
    role: Role | None
    organisation_id: uuid.UUID | None


def user_subject_rows(session: Session, user_id: uuid.UUID) -> list[UserSubjectRow]:
    """A user and their memberships in one query (no row when the user does not exist)."""
    result = session.connection().execute(_USER_SUBJECT, {"user_id": user_id})
    return [UserSubjectRow(*row) for row in result]


def touch_token(
    session: Session, token_id: uuid.UUID, now: datetime, stale_before: datetime
) -> bool:
    """Set ``last_used_at = now`` unless it is already after ``stale_before``: one UPDATE
    whose condition makes concurrent touches of the same token write once.  Returns whether it
    wrote; a copy of the token loaded in ``session`` sees the new time."""
    result: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        update(ApiToken)
        .where(ApiToken.id == token_id)
        .where((ApiToken.last_used_at.is_(None)) | (ApiToken.last_used_at <= stale_before))
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 0:
        return False
    loaded = session.identity_map.get(session.identity_key(ApiToken, token_id))
    if loaded is not None:
        set_committed_value(loaded, "last_used_at", now)
    return True
