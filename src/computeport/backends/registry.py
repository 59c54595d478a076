"""Build the right back end for a cluster from its :class:`ClusterConnection`.

The one place (with :mod:`computeport.backends.factory`, which now delegates here) that knows
both back ends, so ``sim`` and ``slurm`` still never import each other.  A centre of several
clusters keeps one :class:`BackendRegistry`: each cluster's back end is built on first use and
kept, so a cluster that cannot be reached is that cluster's problem alone.

Today's deployments name no inventory: :func:`default_connection` turns the single-back-end
settings (``COMPUTEPORT_BACKEND``, ``COMPUTEPORT_SLURM_CLUSTER``, ``COMPUTEPORT_SLURM_CONF``,
``COMPUTEPORT_SIM_SPEED``) into the one cluster they always meant.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session, sessionmaker

from computeport.backends.protocol import ClusterBackend
from computeport.backends.types.accounting import AccountingRecord
from computeport.backends.types.changes import ProvisioningPlan
from computeport.backends.types.connection import ClusterConnection, PartitionShape
from computeport.backends.types.desired import DesiredState
from computeport.backends.types.inventory import NodeInfo, PartitionInfo
from computeport.backends.types.jobs import JobInfo, JobSpec
from computeport.kit.clock import Clock, SystemClock
from computeport.kit.errors import ValidationFailed
from computeport.settings import Settings

if TYPE_CHECKING:
    from computeport.backends.sim.inventory import SimInventory

__all__ = [
    "BackendRegistry",
    "LazyBackend",
    "build_backend",
    "default_connection",
    "slurm_backend",
]

DEFAULT_SIM_CLUSTER = "aisc"
"""The embedded virtual cluster's name when no inventory names it (its journal is keyed by it)."""


def default_connection(settings: Settings) -> ClusterConnection:
    """The single cluster of a deployment configured only by its settings."""
    if settings.backend == "slurm":
        conf = str(settings.slurm_conf) if settings.slurm_conf is not None else None
        return ClusterConnection(settings.slurm_cluster, "slurm", {"slurm_conf": conf})
    return ClusterConnection(DEFAULT_SIM_CLUSTER, "sim", {"speed": settings.sim_speed})


def slurm_backend(connection: ClusterConnection) -> ClusterBackend:
    """A Slurm cluster's back end: cheap to build (it keeps settings; every call runs a
    command), so a one-shot command may build one to ask a controller a question."""
    from computeport.backends.slurm import SlurmBackend, SlurmConfig

    given = connection.settings
    conf = given.get("slurm_conf")
    config = SlurmConfig(
        cluster=connection.name,
        slurm_conf=Path(conf) if conf else None,
        default_partition=given.get("default_partition"),
        timeout_seconds=float(given.get("timeout_seconds", 30.0)),
        operator_users=frozenset(given.get("operator_users", ())),
    )
    return SlurmBackend(config)


def _sim_shape(
    name: str, partitions: tuple[PartitionShape, ...], default: str | None
) -> SimInventory:
    """The virtual cluster's inventory for declared partitions (Cyberport's when none are)."""
    from computeport.backends.sim.inventory import SimInventory, cyberport_inventory
    from computeport.scheduling import ClusterSpec, NodeType, Partition

    if not partitions:
        return cyberport_inventory(cluster=name)
    parts = tuple(
        Partition(
            p.name,
            NodeType(
                f"{p.accelerator}x{p.gpus_per_node}",
                p.accelerator,
                p.gpus_per_node,
                pflops_per_gpu=p.pflops_per_gpu,
                precision=p.precision,
            ),
            p.nodes,
        )
        for p in partitions
    )
    return SimInventory(ClusterSpec(name, parts), {}, default or parts[0].name)


def build_backend(
    connection: ClusterConnection,
    sessions: sessionmaker[Session],
    clock: Clock | None = None,
    *,
    desired: Callable[[datetime], DesiredState],
    history: timedelta | None = None,
    traces_dir: Path | None = None,
    follow: bool = False,
) -> tuple[ClusterBackend, Clock]:
    """The back end of one cluster and the clock it runs on.

    With ``slurm`` the clock is the wall clock (or the one given); with ``sim`` it is the virtual
    cluster's accelerated clock, resumed from its journal (keyed by the cluster's name);
    ``traces_dir`` is where its background workload is fitted from (default: the shared traces).
    With ``follow`` (a further virtual cluster of a centre), it runs on ``clock`` itself.
    """
    if connection.backend == "slurm":
        return slurm_backend(connection), clock or SystemClock()
    if connection.backend != "sim":
        raise ValidationFailed(f"unknown back end {connection.backend!r}", field="backend")

    from computeport.backends.sim.factory import DEFAULT_HISTORY, open_virtual_cluster
    from computeport.backends.sim.store import SqlJournal

    shape = _sim_shape(
        connection.name, connection.partitions, connection.settings.get("default_partition")
    )
    backend = open_virtual_cluster(
        SqlJournal(sessions),
        speed=float(connection.settings.get("speed", 1440.0)),
        desired=desired,
        history=DEFAULT_HISTORY if history is None else history,
        start=None if clock is None else clock.now(),
        inventory=shape,
        traces_dir=traces_dir,
        follow=clock if follow else None,
    )
    return backend, backend.clock


class BackendRegistry:
    """One back end per cluster, built on first use from its connection and then kept.

    The edges build the registry (they hold the sessions and the awards' ``desired(now)``);
    services ask it by cluster name.  Building is lazy so that one unreachable cluster never
    stops the others from opening.
    """

    def __init__(
        self,
        connections: Iterable[ClusterConnection],
        sessions: sessionmaker[Session],
        *,
        desired: Callable[[datetime], DesiredState],
        clock: Clock | None = None,
        build: Callable[..., tuple[ClusterBackend, Clock]] = build_backend,
    ) -> None:
        self._connections = {c.name: c for c in connections}
        self._sessions = sessions
        self._desired = desired
        self._clock = clock
        self._build = build
        self._built: dict[str, tuple[ClusterBackend, Clock]] = {}

    @property
    def names(self) -> list[str]:
        """The clusters this registry can open, by name."""
        return sorted(self._connections)

    def connection(self, name: str) -> ClusterConnection:
        try:
            return self._connections[name]
        except KeyError:
            known = ", ".join(self.names) or "none"
            raise ValidationFailed(
                f"no cluster named {name!r} (known: {known})", field="cluster"
            ) from None

    def open(self, name: str) -> tuple[ClusterBackend, Clock]:
        """The back end of cluster ``name`` and its clock, built once."""
        if name not in self._built:
            self._built[name] = self._build(
                self.connection(name), self._sessions, self._clock, desired=self._desired
            )
        return self._built[name]

    def handle(self, name: str) -> ClusterBackend:
        """Cluster ``name``'s back end, built on its first call (so a worker starts even when
        one cluster's back end cannot be built yet: that cluster's duties fail, alone)."""
        self.connection(name)  # an unknown name fails now, naming the field
        return LazyBackend(self, name)


class LazyBackend:
    """A :class:`ClusterBackend` that opens the real one through its registry when first used."""

    def __init__(self, registry: BackendRegistry, name: str) -> None:
        self._registry = registry
        self._name = name

    @property
    def cluster(self) -> str:
        return self._name

    def _real(self) -> ClusterBackend:
        return self._registry.open(self._name)[0]

    def plan(self, desired: DesiredState) -> ProvisioningPlan:
        return self._real().plan(desired)

    def apply(self, plan: ProvisioningPlan) -> None:
        self._real().apply(plan)

    def submit(self, spec: JobSpec) -> str:
        return self._real().submit(spec)

    def cancel(self, job_id: str) -> None:
        self._real().cancel(job_id)

    def jobs(self, *, account: str | None = None) -> list[JobInfo]:
        return self._real().jobs(account=account)

    def job(self, job_id: str) -> JobInfo:
        return self._real().job(job_id)

    def nodes(self) -> list[NodeInfo]:
        return self._real().nodes()

    def partitions(self) -> list[PartitionInfo]:
        return self._real().partitions()

    def accounting(self, since: datetime, until: datetime) -> list[AccountingRecord]:
        return self._real().accounting(since, until)
