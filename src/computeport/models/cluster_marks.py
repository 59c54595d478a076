"""What the centre last knew of each cluster: whether it answered, and the limits it confirmed.

``cluster_health`` — one row per cluster name (the name its records carry, as in
``ingest_cursor``), written by the worker's per-cluster duties (reconcile and ingest) in their
own short transaction after every run, so the operations page and the API can say which
cluster is down since when while the others carry on.  It is a mark, never a gate: a down
cluster's duties keep trying every round, and its ingest high-water mark is untouched while it
is down, so nothing is lost when it returns.

``award_cluster_limit`` — one row per (award, cluster): the GPU-minute limit the cluster last
confirmed for the award's QOS, or the larger of old and new while a change is in flight.  It is
what makes moving hours between clusters shrink-first (:mod:`computeport.award.cluster_limits`):
a cluster may be given more only while the sum of what every cluster may act on stays within
the award.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from computeport.db.base import Base

__all__ = ["AwardClusterLimit", "ClusterHealth"]


class ClusterHealth(Base):
    """The last word from one cluster: ``up``, or ``down`` since ``down_since``."""

    __tablename__ = "cluster_health"

    cluster: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[str] = mapped_column(String(8))
    """``up`` or ``down``."""
    checked_at: Mapped[datetime]
    """When a duty last spoke to the cluster (or tried to)."""
    last_ok_at: Mapped[datetime | None] = mapped_column(default=None)
    down_since: Mapped[datetime | None] = mapped_column(default=None)
    """The first failed attempt of the current outage; None while up."""
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    """What the last failed attempt said (kept after recovery, for the record)."""
    failing_duties: Mapped[str] = mapped_column(Text, default="")
    """The duties whose last run on this cluster failed, comma-separated: the cluster is down
    until each has succeeded again (its controller may be down while its accounting answers)."""


class AwardClusterLimit(Base):
    """The GPU-minute limit one cluster may act on for one award (see the module docstring)."""

    __tablename__ = "award_cluster_limit"

    award_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("award.id", ondelete="CASCADE"), primary_key=True
    )
    cluster: Mapped[str] = mapped_column(String(64), primary_key=True)
    gpu_minutes: Mapped[int] = mapped_column(BigInteger)
    confirmed: Mapped[bool]
    """False while a raise is being applied: the cluster may already hold ``gpu_minutes``."""
    at: Mapped[datetime]
