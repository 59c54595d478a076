"""The per-cluster duties of a centre with an inventory: every active cluster on its own.

With an inventory loaded, each active cluster gets its own ``reconcile-awards@<name>`` and
``ingest-usage@<name>`` duties (and ``advance-cluster@<name>`` for a virtual one), each with
its own lease, its own high-water mark and its own health mark: a cluster whose controller
does not answer fails its own duties alone while the others' run, and its mark resumes when it
returns.  Slurm back ends are opened on first use
(:meth:`~computeport.backends.registry.BackendRegistry.handle`); the app state's own back end
is reused for the cluster it names, so a virtual cluster never runs twice.

Without an inventory nothing changes: the settings' one back end, the duty names of old.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from computeport.award.cluster_limits import confirm_limits, desired_for_cluster, hold_raises
from computeport.award.desired import desired_state_reader
from computeport.backends import ClusterBackend, DesiredState
from computeport.backends.registry import BackendRegistry, build_backend
from computeport.backends.types.connection import ClusterConnection
from computeport.kit.clock import Clock
from computeport.worker.duties import AdvanceCluster, Advancing, IngestUsage, ReconcileAwards
from computeport.worker.loop import Loop
from computeport.worker.watch import ClusterWatch

__all__ = ["ClusterLimits", "cluster_loops", "inventory_connections"]


def inventory_connections(sessions: sessionmaker[Session]) -> list[ClusterConnection]:
    """The active clusters of the loaded inventory (empty: none loaded)."""
    from computeport.inventory.connections import connection_of
    from computeport.inventory.repository import all_clusters

    with sessions() as session:
        return [connection_of(c) for c in all_clusters(session) if c.status == "active"]


class ClusterLimits:
    """The award domain's shrink-first bookkeeping, as the reconcile duty asks for it."""

    def hold(self, session: Session, cluster: str, state: DesiredState, at: datetime) -> None:
        hold_raises(session, cluster, state, at)

    def confirm(self, session: Session, cluster: str, state: DesiredState, at: datetime) -> None:
        confirm_limits(session, cluster, state, at)


def _for(cluster: str) -> Callable[[Session, datetime], DesiredState]:
    def desired(session: Session, now: datetime) -> DesiredState:
        return desired_for_cluster(session, now, cluster)

    return desired


def cluster_loops(
    connections: list[ClusterConnection],
    sessions: sessionmaker[Session],
    own: ClusterBackend | None,
    clock: Clock,
    db: Callable[[str], sessionmaker[Session]],
    *,
    usage_every: timedelta,
) -> list[Loop]:
    """Advance (virtual clusters), reconcile and ingest for every cluster in ``connections``."""
    from computeport.award.cluster_audit import audit_applied_plan
    from computeport.metering.ingest import BillingUsageSink

    def build(
        connection: ClusterConnection, *args: object, **kwargs: object
    ) -> tuple[ClusterBackend, Clock]:
        if own is not None and connection.name == own.cluster:
            return own, clock
        return build_backend(connection, *args, **kwargs)  # type: ignore[arg-type]

    registry = BackendRegistry(
        connections, sessions, desired=desired_state_reader(sessions), clock=clock, build=build
    )
    loops: list[Loop] = []
    for connection in connections:
        name = connection.name
        if connection.backend == "sim":
            backend, _own_clock = registry.open(name)  # it lives in this worker's memory
            if isinstance(backend, Advancing):
                advance = AdvanceCluster(backend)
                advance.name = f"{AdvanceCluster.name}@{name}"
                loops.append(advance)
        else:
            backend = registry.handle(name)
        reconcile_name = f"{ReconcileAwards.name}@{name}"
        loops.append(
            ReconcileAwards(
                db(reconcile_name),
                backend,
                _for(name),
                audit=audit_applied_plan,
                watch=ClusterWatch(db(reconcile_name), name),
                limits=ClusterLimits(),
            )
        )
        ingest_name = f"{IngestUsage.name}@{name}"
        loops.append(
            IngestUsage(
                db(ingest_name),
                backend,
                clock,
                BillingUsageSink,
                every=usage_every,
                first_since=getattr(backend, "epoch", None),
                watch=ClusterWatch(db(ingest_name), name),
            )
        )
    return loops
