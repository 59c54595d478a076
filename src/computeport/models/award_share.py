"""Where an award's GPU-hours may run: its places (sites or clusters) and its shares per cluster.

The rule (docs/sites.md): for each award line (one accelerator type), the hours are split into a
share per cluster (``award_share``) and the unplaced reserve (``award_line.reserve_hours``), with
``Σ shares + reserve = gpu_hours`` at every commit. Each cluster may spend only its share, so
what all clusters together may spend never exceeds the award. Hours move between clusters and
the reserve only through ``computeport.award.shares``, shrink first, each move an append-only
``award_share_move`` row (the amendment) with its reason.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from computeport.db.base import Base, IdMixin
from computeport.models.centre import CentreCluster, CentreSite

RESERVE = "reserve"
"""The name a move uses for the reserve. A cluster declared as ``reserve`` could never hold a
share: the share service reads the name as the reserve."""


class AwardPlace(IdMixin, Base):
    """One site or cluster an award is limited to; an award with no rows is open (anywhere)."""

    __tablename__ = "award_place"
    __table_args__ = (
        CheckConstraint(
            "(site_id IS NULL AND cluster_id IS NOT NULL)"
            " OR (site_id IS NOT NULL AND cluster_id IS NULL)",
            name="site_or_cluster",
        ),
        UniqueConstraint("award_id", "site_id", "cluster_id"),
    )

    award_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("award.id", ondelete="CASCADE"), index=True
    )
    site_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("centre_site.id"), default=None)
    cluster_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("centre_cluster.id"), default=None
    )

    site: Mapped[CentreSite | None] = relationship()
    cluster: Mapped[CentreCluster | None] = relationship()


class AwardShare(IdMixin, Base):
    """The GPU-hours of one award line that one cluster may spend (its QOS limit there)."""

    __tablename__ = "award_share"
    __table_args__ = (
        UniqueConstraint("award_line_id", "cluster_id"),
        CheckConstraint("gpu_hours >= 0", name="gpu_hours_non_negative"),
    )

    award_line_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("award_line.id", ondelete="CASCADE"), index=True
    )
    cluster_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("centre_cluster.id"), index=True)
    gpu_hours: Mapped[int] = mapped_column(BigInteger)

    cluster: Mapped[CentreCluster] = relationship()


class AwardShareMove(IdMixin, Base):
    """One audited move of hours between two of {clusters, reserve} of one award line."""

    __tablename__ = "award_share_move"
    __table_args__ = (
        CheckConstraint("gpu_hours > 0", name="gpu_hours_positive"),
        CheckConstraint("source <> target", name="source_not_target"),
    )

    award_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("award.id", ondelete="CASCADE"), index=True
    )
    accelerator_type: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(40))
    """A cluster's name or ``reserve``."""
    target: Mapped[str] = mapped_column(String(40))
    gpu_hours: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime]
    actor_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("app_user.id", ondelete="SET NULL"), default=None
    )


__all__ = ["RESERVE", "AwardPlace", "AwardShare", "AwardShareMove"]
