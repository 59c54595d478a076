"""The per-cluster duties of a centre with an inventory: every active cluster on its own.

With an inventory loaded, each active cluster gets its own ``reconcile-awards@<name>`` and
``ingest-usage@<name>`` duties (and ``advance-cluster@<name>`` for a virtual one), each with
its own lease, its own high-water mark and its own health mark: a cluster whose controller
does not answer fails its own duties alone while the others' run, and its mark resumes when it
returns.  Slurm back ends are opened on first use
(:meth:`~computeport.backends.registry.BackendRegistry.handle`); the app state's own back end
is reused for the cluster it names, so a virtual cluster never runs twice.

A *planned* virtual cluster with a commissioning date (the demo's Sandy Ridge) gets the same
duties, deferred (:class:`~computeport.worker.loop.Deferred`) until the centre's clock reaches
that date: then it opens, following the centre's clock, with its history starting at its
commissioning (its background load and its awards' jobs begin there), and is advanced,
reconciled and ingested like the others.  A planned Slurm cluster has no controller to call yet:
it waits for the operator to make it active.

Without an inventory nothing changes: the settings' one back end, the duty names of old.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from computeport.award.cluster_limits import confirm_limits, desired_for_cluster, hold_raises
from computeport.award.desired import desired_state_reader
from computeport.backends import ClusterBackend, DesiredState
from computeport.backends.registry import BackendRegistry, build_backend
from computeport.backends.types.connection import ClusterConnection
from computeport.kit.clock import Clock
from computeport.worker.duties import AdvanceCluster, Advancing, IngestUsage, ReconcileAwards
from computeport.worker.loop import Deferred, Loop
from computeport.worker.watch import ClusterWatch

__all__ = ["ClusterLimits", "cluster_loops", "inventory_connections", "planned_virtual"]


def inventory_connections(sessions: sessionmaker[Session]) -> list[ClusterConnection]:
    """The active clusters of the loaded inventory (empty: none loaded)."""
    from computeport.inventory.connections import connection_of
    from computeport.inventory.repository import all_clusters

    with sessions() as session:
        return [connection_of(c) for c in all_clusters(session) if c.status == "active"]


def planned_virtual(sessions: sessionmaker[Session]) -> list[tuple[ClusterConnection, datetime]]:
    """The planned virtual clusters with a commissioning date, and when they take work
    (midnight UTC of that date)."""
    from computeport.inventory.connections import connection_of
    from computeport.inventory.repository import all_clusters
    from computeport.inventory.service_status import opens_by_itself

    with sessions() as session:
        return [
            (
                connection_of(c),
                datetime(c.commissioned.year, c.commissioned.month, c.commissioned.day, tzinfo=UTC),
            )
            for c in all_clusters(session)
            if opens_by_itself(c) and c.commissioned is not None
        ]


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
    starts: Mapping[str, datetime] | None = None,
) -> list[Loop]:
    """Advance (virtual clusters), reconcile and ingest for every cluster in ``connections``;
    a cluster named in ``starts`` only from that moment of the centre's time."""
    from computeport.award.cluster_audit import audit_applied_plan
    from computeport.metering.ingest import BillingUsageSink

    def build(
        connection: ClusterConnection, *args: object, **kwargs: object
    ) -> tuple[ClusterBackend, Clock]:
        if own is not None and connection.name == own.cluster:
            return own, clock
        if connection.backend != "sim":
            return build_backend(connection, *args, **kwargs)  # type: ignore[arg-type]
        # A further virtual cluster: on the centre's clock, provisioned with its own share of
        # the awards, its history from its commissioning (a planned one) or the default.
        start = begins.get(connection.name)
        history = max(timedelta(0), clock.now() - start) if start is not None else None
        return build_backend(
            connection,
            sessions,
            clock,
            desired=_desired_reader(sessions, connection.name),
            history=history,
            follow=True,
        )

    begins = dict(starts or {})

    registry = BackendRegistry(
        connections, sessions, desired=desired_state_reader(sessions), clock=clock, build=build
    )
    loops: list[Loop] = []
    for connection in connections:
        name = connection.name
        here: list[Loop] = []
        first_since: datetime | None = begins.get(name)
        if connection.backend == "sim" and name in begins:
            backend = registry.handle(name)  # opened when its first duty runs
            advance = AdvanceCluster(_Opening(registry, name))
            advance.name = f"{AdvanceCluster.name}@{name}"
            here.append(advance)
        elif connection.backend == "sim":
            backend, _own_clock = registry.open(name)  # it lives in this worker's memory
            if isinstance(backend, Advancing):
                advance = AdvanceCluster(backend)
                advance.name = f"{AdvanceCluster.name}@{name}"
                here.append(advance)
            first_since = getattr(backend, "epoch", None)
        else:
            backend = registry.handle(name)
        reconcile_name = f"{ReconcileAwards.name}@{name}"
        here.append(
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
        here.append(
            IngestUsage(
                db(ingest_name),
                backend,
                clock,
                BillingUsageSink,
                every=usage_every,
                first_since=first_since,
                watch=ClusterWatch(db(ingest_name), name),
            )
        )
        start = begins.get(name)
        loops += here if start is None else [Deferred(loop, start) for loop in here]
    return loops


def _desired_reader(
    sessions: sessionmaker[Session], cluster: str
) -> Callable[[datetime], DesiredState]:
    """``desired(now)`` of one cluster: what a new virtual cluster provisions when it opens."""

    def desired(now: datetime) -> DesiredState:
        with sessions() as session:
            return desired_for_cluster(session, now, cluster)

    return desired


class _Opening:
    """A deferred virtual cluster, opened through the registry at its first advance."""

    def __init__(self, registry: BackendRegistry, name: str) -> None:
        self.registry = registry
        self.name = name

    def advance(self, *, mark: bool = True) -> datetime:
        backend, _clock = self.registry.open(self.name)
        assert isinstance(backend, Advancing), f"{self.name} is not a virtual cluster"
        return backend.advance(mark=mark)
