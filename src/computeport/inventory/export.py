"""The loaded inventory as a declaration again: the centre as its database holds it now.

The capacity planner takes its supply from an :class:`InventoryDecl`.  Read from the file, that
is the operator's plan as written; read from the database, it is the centre as it runs, with
what changed since the file was loaded (the demo's Sandy Ridge commissioned on the day the
scenario chose, an operator's later ``clusters load``).  ``capacity plan --db`` plans from this.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from computeport.inventory.declaration import (
    AcceleratorDecl,
    ClusterDecl,
    InventoryDecl,
    PartitionDecl,
    SimConnection,
    SiteDecl,
    SlurmConnection,
)
from computeport.inventory.repository import all_accelerators, all_clusters, all_sites
from computeport.models.centre import CentreCluster

__all__ = ["declaration_of"]


def _cluster(row: CentreCluster) -> ClusterDecl:
    slurm = SlurmConnection(**row.connection) if row.backend == "slurm" else None
    sim = SimConnection(**row.connection) if row.backend == "sim" and row.connection else None
    if sim == SimConnection():  # the loader stores a missing [sim] table as its defaults
        sim = None
    return ClusterDecl(
        site=row.site.key,
        backend="slurm" if row.backend == "slurm" else "sim",
        status=row.status,
        commissioned=row.commissioned,
        slurm=slurm,
        sim=sim,
        partitions={
            p.name: PartitionDecl(
                accelerator=p.accelerator.name, gpus_per_node=p.gpus_per_node, nodes=p.nodes
            )
            for p in row.partitions
        },
        assumption=row.assumption,
    )


def declaration_of(session: Session) -> InventoryDecl | None:
    """The database's inventory as a declaration, or ``None`` when none is loaded."""
    clusters = all_clusters(session)
    if not clusters:
        return None
    return InventoryDecl(
        accelerators={
            a.name: AcceleratorDecl(
                vendor=a.vendor,
                model=a.model,
                memory_gb=a.memory_gb,
                peak_pflops=a.peak_pflops,
                precision=a.precision,
                assumption=a.assumption,
            )
            for a in all_accelerators(session)
        },
        sites={
            s.key: SiteDecl(
                name=s.name,
                name_zh=s.name_zh,
                status=s.status,
                opened=s.opened,
                assumption=s.assumption,
            )
            for s in all_sites(session)
        },
        clusters={c.name: _cluster(c) for c in clusters},
    )
