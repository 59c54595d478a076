"""Organisations, users, roles and tokens for tests."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from computeport.identity import service
from computeport.identity.subject import Subject
from computeport.kit.clock import ManualClock
from computeport.kit.slurm_names import organisation_account_name
from computeport.models.identity import Organisation, OrganisationCategory, Role, User
from tests.factories.sequence import unique

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def organisation(
    session: Session,
    *,
    name: str | None = None,
    category: OrganisationCategory = OrganisationCategory.ENTERPRISE,
    sector: str = "fintech",
    at: datetime = T0,
) -> Organisation:
    return service.create_organisation(
        session, name=name or unique("Org "), category=category, sector=sector, at=at
    )


def user(
    session: Session,
    *,
    email: str | None = None,
    roles: tuple[Role, ...] = (),
    organisation: Organisation | None = None,
    password: str | None = None,
    at: datetime = T0,
) -> User:
    """A user holding ``roles`` (applicant roles within ``organisation``)."""
    name = unique("user")
    created = service.create_user(
        session,
        email=email or f"{name}@example.org",
        display_name=name.title(),
        posix_username=name,
        password=password,
        at=at,
    )
    for role in roles:
        org_id = organisation.id if role in (Role.ORG_ADMIN, Role.MEMBER) and organisation else None
        service.grant_role(session, user_id=created.id, role=role, organisation_id=org_id, at=at)
    return created


def subject(session: Session, who: User) -> Subject:
    return service.subject_for(session, who)


def token(session: Session, who: User, *, at: datetime = T0) -> str:
    _row, plaintext = service.issue_token(session, user_id=who.id, name="test", at=at)
    return plaintext


def organisation_row(
    session: Session, clock: ManualClock, name: str, account: str | None = None
) -> Organisation:
    """An enterprise inserted as a row, with its own Slurm ``account`` (generated unless given)."""
    o = Organisation(
        name=name,
        category=OrganisationCategory.ENTERPRISE,
        slurm_account=account or organisation_account_name(name),
        created_at=clock.now(),
    )
    session.add(o)
    session.flush()
    return o
