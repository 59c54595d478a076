"""Cluster rows → :class:`ClusterConnection` values, the form back ends are built from.

A deployment that has loaded no inventory keeps running on its settings: :func:`connections`
then answers the one cluster ``COMPUTEPORT_BACKEND`` always meant, so the edges can build every
back end through :class:`computeport.backends.registry.BackendRegistry` either way.
"""

from __future__ import annotations

from typing import Literal

from sqlalchemy.orm import Session

from computeport.backends.registry import default_connection
from computeport.backends.types.connection import ClusterConnection, PartitionShape
from computeport.inventory.repository import all_clusters
from computeport.models.centre import CentreCluster
from computeport.settings import Settings

__all__ = ["connection_of", "connections"]


def connection_of(cluster: CentreCluster) -> ClusterConnection:
    """The connection of one cluster row (partitions with their accelerator's peak)."""
    backend: Literal["sim", "slurm"] = "slurm" if cluster.backend == "slurm" else "sim"
    shapes = tuple(
        PartitionShape(
            p.name,
            p.accelerator.name,
            p.gpus_per_node,
            p.nodes,
            pflops_per_gpu=float(p.accelerator.peak_pflops),
            precision=p.accelerator.precision,
        )
        for p in cluster.partitions
    )
    return ClusterConnection(cluster.name, backend, dict(cluster.connection), shapes)


def connections(session: Session, settings: Settings) -> list[ClusterConnection]:
    """Every cluster that takes work (planned and retired ones open no back end), or the
    settings' single cluster when no inventory is loaded."""
    rows = all_clusters(session)
    if not rows:
        return [default_connection(settings)]
    return [connection_of(c) for c in rows if c.status == "active"]
