"""What an award's queued and running jobs on a cluster reserve: the live part of a share's floor.

A share may not shrink below what the award used on the cluster (the database knows) plus what
its pending and running jobs there have reserved (only the cluster knows: GPUs × time limit).
The API and the CLI ask the same way, here: the deployment's own back end when it is the
source cluster (the embedded virtual cluster runs inside the API process), else the source's
Slurm controller, found from the inventory (or the settings' one Slurm cluster).  A virtual
cluster that is not the caller's own cannot be asked without running its simulation, so the
answer is then "unknown" (``None``) and the caller says so; a controller that does not answer
raises :class:`~computeport.backends.BackendUnavailable`, so nothing moves on a guess.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from computeport.award.shares import RESERVE, committed_hours
from computeport.backends import ClusterBackend
from computeport.backends.registry import default_connection, slurm_backend
from computeport.inventory.connections import connection_of
from computeport.inventory.repository import all_clusters, cluster_named
from computeport.models.award import Award
from computeport.settings import Settings

__all__ = ["committed_on_source", "source_backend"]


def source_backend(
    session: Session, cluster: str, own: ClusterBackend | None, settings: Settings
) -> ClusterBackend | None:
    """The back end to ask about ``cluster``'s jobs, or ``None`` when none can be asked."""
    if own is not None and own.cluster == cluster:
        return own
    row = cluster_named(session, cluster)
    if row is not None:
        return slurm_backend(connection_of(row)) if row.backend == "slurm" else None
    if not all_clusters(session) and settings.backend == "slurm":
        connection = default_connection(settings)
        return slurm_backend(connection) if connection.name == cluster else None
    return None


def committed_on_source(
    session: Session,
    award: Award,
    source: str,
    own: ClusterBackend | None,
    settings: Settings,
) -> dict[str, int] | None:
    """``move_hours``' ``committed`` for a move off ``source``: the GPU-hours the award's
    queued and running jobs there reserve; ``{}`` for the reserve (no jobs run on it); ``None``
    when ``source``'s jobs cannot be asked from this process.  Pass it to ``move_hours`` as a
    callable, so it is asked only when a move reaches the floor check."""
    if source == RESERVE:
        return {}
    backend = source_backend(session, source, own, settings)
    if backend is None:
        return None
    return {source: committed_hours(backend.jobs(account=award.slurm_account))}
