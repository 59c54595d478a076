"""The inventory's queries: the tree for pages and the API, and what history a cluster has.

The inventory is centre-wide (no organisation owns a site), so there is no tenancy filter here:
who may read it is decided by the endpoints (signed-in staff).
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from computeport.models.centre import AcceleratorType, CentreCluster, CentrePartition, CentreSite
from computeport.models.ingest_cursor import IngestCursorRow
from computeport.models.metering import UsageCharge, UsageQuarantine, UsageRecord
from computeport.models.reservation import AwardReservation
from computeport.models.sim_cluster import SimCluster

__all__ = [
    "accelerator_history",
    "all_accelerators",
    "all_clusters",
    "all_sites",
    "cluster_history",
    "cluster_named",
]


def all_sites(session: Session) -> list[CentreSite]:
    """Every site with its clusters, their partitions and accelerator types, by key."""
    stmt = (
        select(CentreSite)
        .options(
            selectinload(CentreSite.clusters)
            .selectinload(CentreCluster.partitions)
            .selectinload(CentrePartition.accelerator)
        )
        .order_by(CentreSite.key)
    )
    return list(session.scalars(stmt))


def all_clusters(session: Session) -> list[CentreCluster]:
    """Every cluster with its site and partitions, by name."""
    stmt = (
        select(CentreCluster)
        .options(
            selectinload(CentreCluster.site),
            selectinload(CentreCluster.partitions).selectinload(CentrePartition.accelerator),
        )
        .order_by(CentreCluster.name)
    )
    return list(session.scalars(stmt))


def cluster_named(session: Session, name: str) -> CentreCluster | None:
    """One cluster with its site and partitions, or None."""
    stmt = (
        select(CentreCluster)
        .where(CentreCluster.name == name)
        .options(
            selectinload(CentreCluster.site),
            selectinload(CentreCluster.partitions).selectinload(CentrePartition.accelerator),
        )
    )
    return session.scalar(stmt)


def all_accelerators(session: Session) -> list[AcceleratorType]:
    return list(session.scalars(select(AcceleratorType).order_by(AcceleratorType.name)))


def cluster_history(session: Session, name: str) -> list[str]:
    """What the centre's records hold under cluster ``name`` (empty: it may be dropped).

    A cluster's name is a key in usage, ratings, quarantine, bookings, the ingest mark and the
    virtual cluster's journal; dropping it from the inventory would orphan all of them.
    """
    counted = (
        ("usage records", UsageRecord.cluster),
        ("ratings", UsageCharge.cluster),
        ("quarantined records", UsageQuarantine.cluster),
        ("reservations", AwardReservation.cluster),
        ("ingest marks", IngestCursorRow.cluster),
        ("virtual-cluster journals", SimCluster.cluster),
    )
    found: list[str] = []
    for label, column in counted:
        count = session.scalar(select(func.count()).where(column == name)) or 0
        if count:
            found.append(f"{count:,} {label}")
    return found


def accelerator_history(session: Session, name: str) -> int:
    """How many usage records carry accelerator type ``name``."""
    stmt = select(func.count()).where(UsageRecord.accelerator_type == name)
    return session.scalar(stmt) or 0
