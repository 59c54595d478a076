"""Queries over organisations, users and tokens, with the ``readable_by`` filter.

``readable_by(subject)`` is the one place that decides which rows a caller may list (NetBox's
``RestrictedQuerySet.restrict``, Polar's ``get_readable_statement``): lists built on it cannot
leak another organisation's rows.
"""

from __future__ import annotations

import uuid

from sqlalchemy import Select, false, select
from sqlalchemy.orm import Session

from computeport.identity.subject import Subject
from computeport.models.identity import ApiToken, Membership, Organisation, User


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


def token_by_hash(session: Session, token_hash: str) -> ApiToken | None:
    return session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash))
