"""Reserved capacity booked for an award: whole nodes of a partition over ``[start, end)``.

A booking is what the operator promised the award; the cluster's reservation (Slurm's
``scontrol create reservation``, the virtual cluster's scheduling-core ``Reservation``) is
derived from it by the reconcile loop, and — where the award's terms say
``charge_reservations`` — the reserved GPU-hours are charged once the window has ended.

Rows are kept after they end or are cancelled: the charge and the audit trail refer to them.
``cancelled_at`` marks an unreserve; a booking cancelled after its start is cut short at that
instant (``ends_at`` becomes the cancel time, ``booked_ends_at`` keeps what was booked).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from computeport.db.base import Base, IdMixin, TimestampMixin


class AwardReservation(IdMixin, TimestampMixin, Base):
    """One block of reserved nodes for one award."""

    __tablename__ = "award_reservation"
    __table_args__ = (
        CheckConstraint("starts_at < ends_at", name="window_ordered"),
        CheckConstraint("nodes > 0", name="nodes_positive"),
        CheckConstraint("gpus > 0", name="gpus_positive"),
    )

    award_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("award.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(48), unique=True)
    """Operator's name; the cluster's reservation is ``cp_<name>``, the charge's job id
    ``resv:<name>`` (names are global on a Slurm cluster, so unique here too)."""
    cluster: Mapped[str] = mapped_column(String(64))
    partition: Mapped[str] = mapped_column(String(64))
    accelerator_type: Mapped[str] = mapped_column(String(32))
    nodes: Mapped[int] = mapped_column(Integer)
    gpus: Mapped[int] = mapped_column(Integer)
    """GPUs on the reserved nodes (nodes × GPUs per node): what a charge counts."""
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    booked_ends_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("app_user.id", ondelete="SET NULL"), default=None
    )
    cancelled_at: Mapped[datetime | None] = mapped_column(default=None)
