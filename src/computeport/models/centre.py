"""The centre's inventory: sites, their clusters, the clusters' partitions, accelerator types.

Loaded from the inventory file (``computeport clusters load``), never edited by hand: the file
is the operator's record and these rows are its copy with identities that history can point
at.  A cluster's ``name`` is the name its usage records, ingest mark and bookings carry (Slurm's
ClusterName), which is why a cluster with history is never deleted.  ``connection`` holds the
back end's settings as plain JSON; secrets appear only as the names of environment variables.
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from computeport.db.base import Base, IdMixin

__all__ = ["AcceleratorType", "CentreCluster", "CentrePartition", "CentreSite"]


class AcceleratorType(IdMixin, Base):
    """A kind of accelerator; ``name`` is what usage records carry (``gres/gpu:h800`` → h800)."""

    __tablename__ = "accelerator_type"

    name: Mapped[str] = mapped_column(String(40), unique=True)
    vendor: Mapped[str] = mapped_column(String(200))
    model: Mapped[str] = mapped_column(String(200))
    memory_gb: Mapped[int] = mapped_column(Integer)
    peak_pflops: Mapped[Decimal] = mapped_column(Numeric(18, 6))
    """Peak PFLOPS of one accelerator at ``precision``."""
    precision: Mapped[str] = mapped_column(String(32))
    assumption: Mapped[str | None] = mapped_column(String(500), default=None)


class CentreSite(IdMixin, Base):
    """A place with machines (Cyberport, Sandy Ridge)."""

    __tablename__ = "centre_site"

    key: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_zh: Mapped[str | None] = mapped_column(String(200), default=None)
    status: Mapped[str] = mapped_column(String(16))
    opened: Mapped[date | None] = mapped_column(default=None)
    assumption: Mapped[str | None] = mapped_column(String(500), default=None)

    clusters: Mapped[list[CentreCluster]] = relationship(
        back_populates="site", order_by="CentreCluster.name"
    )


class CentreCluster(IdMixin, Base):
    """One cluster with its own back end (``sim`` or ``slurm``) and connection settings."""

    __tablename__ = "centre_cluster"

    name: Mapped[str] = mapped_column(String(40), unique=True)
    site_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("centre_site.id"))
    backend: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    commissioned: Mapped[date | None] = mapped_column(default=None)
    connection: Mapped[dict[str, Any]] = mapped_column(JSON)
    assumption: Mapped[str | None] = mapped_column(String(500), default=None)

    site: Mapped[CentreSite] = relationship(back_populates="clusters")
    partitions: Mapped[list[CentrePartition]] = relationship(
        back_populates="cluster", order_by="CentrePartition.name", cascade="all, delete-orphan"
    )


class CentrePartition(IdMixin, Base):
    """A partition of a cluster: ``nodes`` nodes of ``gpus_per_node`` accelerators of one type."""

    __tablename__ = "centre_partition"
    __table_args__ = (UniqueConstraint("cluster_id", "name"),)

    cluster_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("centre_cluster.id", ondelete="CASCADE")
    )
    name: Mapped[str] = mapped_column(String(40))
    accelerator_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accelerator_type.id"))
    gpus_per_node: Mapped[int] = mapped_column(Integer)
    nodes: Mapped[int] = mapped_column(Integer)

    cluster: Mapped[CentreCluster] = relationship(back_populates="partitions")
    accelerator: Mapped[AcceleratorType] = relationship()

    @property
    def gpus(self) -> int:
        return self.gpus_per_node * self.nodes

    @property
    def pflops(self) -> Decimal:
        return self.gpus * self.accelerator.peak_pflops
