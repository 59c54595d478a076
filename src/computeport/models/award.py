"""Committee awards: GPU-hours per accelerator type, dates, subsidy rate and HK$ cap, terms.

An award commits its subsidy cap against the scheme's envelope (``committed_minor``); amendments,
early termination and expiry change the commitment through the award service, which locks the
scheme row so concurrent decisions can never over-commit the envelope.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from computeport.db.base import Base, IdMixin, TimestampMixin


class AwardStatus(enum.StrEnum):
    """The award lifecycle (transition table in ``computeport.award.workflow``)."""

    ACTIVE = "active"  # compute may be used
    SUSPENDED = "suspended"  # paused, e.g. an overdue co-payment or an overdue progress report
    EXPIRED = "expired"  # reached its end date; commitment shrunk to what was consumed
    TERMINATED = "terminated"  # ended early by the committee


class OverCapPolicy(enum.StrEnum):
    """What happens to usage beyond the HK$ cap or outside the award's dates."""

    PAY_AS_YOU_GO = "payg"  # charged at full list price to the organisation
    REFUSE = "refuse"  # the cluster account is paused


class Award(IdMixin, TimestampMixin, Base):
    """The committee's decision on one application, and the compute it becomes."""

    __tablename__ = "award"
    __table_args__ = (
        CheckConstraint("cap_minor > 0", name="cap_positive"),
        CheckConstraint("committed_minor >= 0", name="committed_non_negative"),
        CheckConstraint("starts_at < ends_at", name="dates_ordered"),
    )

    reference: Mapped[str] = mapped_column(String(40), unique=True)
    """The application's reference with an ``-A`` suffix, e.g. ``AISS-2026-0042-A``."""
    application_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("application.id"), unique=True)
    scheme_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("scheme.id"), index=True)
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"), index=True)
    status: Mapped[AwardStatus] = mapped_column(default=AwardStatus.ACTIVE, index=True)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    """Half-open [starts_at, ends_at): usage ending at or after ends_at is outside the award."""
    subsidy_rate: Mapped[Decimal]
    rate_reason: Mapped[str] = mapped_column(Text, default="")
    """Mandatory when the rate exceeds the scheme's default (exceptional cases)."""
    cap_minor: Mapped[int] = mapped_column(BigInteger)
    """HK$ cap on the subsidy, in cents (mandatory)."""
    committed_minor: Mapped[int] = mapped_column(BigInteger)
    """What this award holds against the envelope now: the cap while active, consumed after."""
    currency: Mapped[str] = mapped_column(String(3), default="HKD")
    over_cap_policy: Mapped[OverCapPolicy] = mapped_column(default=OverCapPolicy.PAY_AS_YOU_GO)
    charge_reservations: Mapped[bool] = mapped_column(default=False)
    """Reserved capacity is charged by reserved GPU-hours when True."""
    suspend_when_overdue: Mapped[bool] = mapped_column(default=True)
    gpu_cap: Mapped[int | None] = mapped_column(default=None)
    """Optional cap on GPUs in use at once (Slurm GrpTRES)."""
    terms: Mapped[str] = mapped_column(Text, default="")
    slurm_account: Mapped[str] = mapped_column(String(64), unique=True)
    """Generated once at activation and stored; never recomputed."""
    decided_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("app_user.id", ondelete="SET NULL"), default=None
    )

    lines: Mapped[list[AwardLine]] = relationship(
        back_populates="award", order_by="AwardLine.accelerator_type"
    )


def _all_of_the_line(context: Any) -> int:
    """Insert default of ``reserve_hours``: a new line's hours are all unplaced."""
    return int(context.get_current_parameters()["gpu_hours"])


class AwardLine(IdMixin, Base):
    """Approved GPU-hours of one accelerator type within an award."""

    __tablename__ = "award_line"
    __table_args__ = (
        UniqueConstraint("award_id", "accelerator_type"),
        CheckConstraint("gpu_hours > 0", name="gpu_hours_positive"),
        CheckConstraint("reserve_hours >= 0", name="reserve_non_negative"),
    )

    award_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("award.id", ondelete="CASCADE"))
    accelerator_type: Mapped[str] = mapped_column(String(32))
    gpu_hours: Mapped[int] = mapped_column(BigInteger)
    reserve_hours: Mapped[int] = mapped_column(BigInteger, default=_all_of_the_line)
    """The hours not yet placed on any cluster (docs/sites.md): ``Σ shares + reserve =
    gpu_hours``, kept by ``computeport.award.shares``. A new line starts all in the reserve."""

    award: Mapped[Award] = relationship(back_populates="lines")


class MovementKind(enum.StrEnum):
    """Why the envelope's commitment moved; the ledger posts one journal per movement."""

    COMMIT = "commit"  # a committee decision committed the award's cap
    TOP_UP = "top_up"  # an amendment raised the cap
    TERMINATION = "termination"  # early termination released the unconsumed rest
    EXPIRY = "expiry"  # the award ended; the unconsumed rest returned


class EnvelopeMovement(IdMixin, Base):
    """An append-only change of one award's commitment against its scheme's envelope.

    Invariant (tested): for every award, ``committed_minor`` equals the sum of its movements'
    ``delta_minor``; so a scheme's committed total equals the sum of its movements.  Rows are
    never updated or deleted: the ledger derives its envelope journals from them, keyed by id.
    """

    __tablename__ = "envelope_movement"

    scheme_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("scheme.id"), index=True)
    award_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("award.id"), index=True)
    delta_minor: Mapped[int] = mapped_column(BigInteger)
    """Signed cents: positive commits more of the envelope, negative returns some."""
    kind: Mapped[MovementKind]
    reason: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime]
    actor_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("app_user.id", ondelete="SET NULL"), default=None
    )


class AmendmentKind(enum.StrEnum):
    """A change the committee makes to an award after the decision."""

    TOP_UP = "top_up"  # more GPU-hours and/or a higher HK$ cap
    EXTENSION = "extension"  # a later end date
    TERMINATION = "termination"  # ended early; commitment shrinks to what was consumed
    EXPIRY = "expiry"  # reached its end date (recorded by the expiry job)
    SHARE_MOVE = "share_move"  # GPU-hours moved between clusters / the reserve (award_share_move)


class AwardAmendment(IdMixin, Base):
    """One amendment of an award, kept as history (what changed, by whom, why)."""

    __tablename__ = "award_amendment"

    award_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("award.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[AmendmentKind]
    cap_delta_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    gpu_hours_delta: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """Added GPU-hours per accelerator type, e.g. ``{"h800": 10000}``."""
    previous_ends_at: Mapped[datetime | None] = mapped_column(default=None)
    new_ends_at: Mapped[datetime | None] = mapped_column(default=None)
    reason: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime]
    actor_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("app_user.id", ondelete="SET NULL"), default=None
    )
