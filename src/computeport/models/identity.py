"""Organisations, people, their roles, and API tokens.

Roles are memberships: staff roles (operator, scheme officer, committee member, reviewer, funder)
have no organisation; applicant roles (organisation admin, member) belong to one.  Every
endpoint checks role and organisation against these rows.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from computeport.db.base import Base, IdMixin, TimestampMixin


class OrganisationCategory(enum.StrEnum):
    """The applicant categories the scheme recognises."""

    UNIVERSITY = "university"
    RD_CENTRE = "rd_centre"
    ENTERPRISE = "enterprise"  # enterprises and start-ups
    GOVERNMENT = "government"  # government departments


class Role(enum.StrEnum):
    """What a membership lets a user do."""

    OPERATOR = "operator"  # centre operations: inventory, prices, cluster link
    SCHEME_OFFICER = "scheme_officer"  # runs calls, assigns reviewers
    COMMITTEE_MEMBER = "committee_member"  # decides awards
    REVIEWER = "reviewer"  # scores assigned applications
    FUNDER = "funder"  # read-only: the scheme's figures and reports
    ORG_ADMIN = "org_admin"  # an applicant organisation's administrator
    MEMBER = "member"  # an applicant organisation's member (runs jobs)


STAFF_ROLES = frozenset(
    {Role.OPERATOR, Role.SCHEME_OFFICER, Role.COMMITTEE_MEMBER, Role.REVIEWER, Role.FUNDER}
)
ORGANISATION_ROLES = frozenset({Role.ORG_ADMIN, Role.MEMBER})


class Organisation(IdMixin, TimestampMixin, Base):
    """An applicant: a company, university, R&D centre or government department."""

    __tablename__ = "organisation"

    name: Mapped[str] = mapped_column(String(200), unique=True)
    category: Mapped[OrganisationCategory]
    sector: Mapped[str] = mapped_column(String(64), default="general")
    registration_number: Mapped[str | None] = mapped_column(String(64), default=None)
    slurm_account: Mapped[str] = mapped_column(String(64), unique=True)
    """Its Slurm parent account: generated once at registration
    (:func:`computeport.kit.slurm_names.organisation_account_name`), stored, never recomputed."""
    is_assumption: Mapped[bool] = mapped_column(default=False)
    """True for seed organisations invented for the scenario (marked as assumptions)."""

    memberships: Mapped[list[Membership]] = relationship(back_populates="organisation")


class User(IdMixin, TimestampMixin, Base):
    """A person; every user has a POSIX username for the cluster."""

    __tablename__ = "app_user"

    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    posix_username: Mapped[str] = mapped_column(String(32), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255), default=None)
    locale: Mapped[str] = mapped_column(String(16), default="en")
    """``en`` or ``zh-Hant``: the portal's language for this user."""
    is_active: Mapped[bool] = mapped_column(default=True)

    memberships: Mapped[list[Membership]] = relationship(back_populates="user")


class Membership(IdMixin, TimestampMixin, Base):
    """A role held by a user, within an organisation for applicant roles."""

    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("user_id", "organisation_id", "role"),)

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"))
    organisation_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), default=None
    )
    role: Mapped[Role]

    user: Mapped[User] = relationship(back_populates="memberships")
    organisation: Mapped[Organisation | None] = relationship(back_populates="memberships")


class ApiToken(IdMixin, TimestampMixin, Base):
    """An API token: only its SHA-256 is stored; the secret is shown once at creation."""

    __tablename__ = "api_token"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16), index=True)
    """The first characters of the secret, to find the row and to show the user which token."""
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)
