"""The ``ClusterBackend`` protocol: what every cluster back end (``sim``, ``slurm``) offers.

Services above the back ends (awards, the portal's jobs, metering) talk only to this protocol and
the plain values of :mod:`computeport.backends.types`, so they cannot tell the embedded virtual
cluster from production Slurm.  Every value is a frozen dataclass or a ``StrEnum``: no database
models, no Slurm strings.

The pieces, in the order an award meets them:

* provisioning: :class:`~computeport.backends.types.desired.DesiredState` (one
  ``AwardAllocation`` per award, one ``ReservedCapacity`` per booked reservation) → ``plan`` →
  a :class:`~computeport.backends.types.changes.ProvisioningPlan` (a typed diff of ``Change``
  items; print it for a dry run) → ``apply``.  Applying the same desired state twice gives an
  empty plan the second time, and a back end only ever removes what computeport created.
* jobs: ``JobSpec`` → ``submit`` → job id; ``jobs``/``job`` give ``JobInfo`` with the state
  and, while pending, the scheduler's reason (raw) and a normalised ``PendingReason``.
* inventory: ``nodes`` → ``NodeInfo``, ``partitions`` → ``PartitionInfo``.
* accounting: ``accounting(since, until)`` → ``AccountingRecord`` (one per job allocation,
  keyed by (cluster, job id, submit time)); ingest hands them to billing through a
  :class:`UsageSink`.

Errors are typed; the tree is drawn in :mod:`computeport.backends.errors`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol, runtime_checkable

from computeport.backends.types.accounting import AccountingRecord
from computeport.backends.types.changes import ProvisioningPlan
from computeport.backends.types.desired import DesiredState
from computeport.backends.types.inventory import NodeInfo, PartitionInfo
from computeport.backends.types.jobs import JobInfo, JobSpec

__all__ = ["AccountingSource", "ClusterBackend", "UsageSink", "reconcile"]


@runtime_checkable
class UsageSink(Protocol):
    """Where ingested records go (metering/billing).  Must be idempotent on ``record.key``.

    Returns how many of ``records`` were new to the sink.
    """

    def accept(self, records: Sequence[AccountingRecord]) -> int: ...


class AccountingSource(Protocol):
    """Anything that can list finished job allocations (both back ends; ingest needs only this)."""

    @property
    def cluster(self) -> str: ...

    def accounting(self, since: datetime, until: datetime) -> list[AccountingRecord]:
        """Every allocation that ended in [since, until), in (end, job id) order."""
        ...


# --------------------------------------------------------------------------------- the protocol


@runtime_checkable
class ClusterBackend(Protocol):
    """One cluster: provision awards, run jobs, show inventory, report accounting."""

    @property
    def cluster(self) -> str:
        """The cluster's name (first part of every :class:`RecordKey`)."""
        ...

    def plan(self, desired: DesiredState) -> ProvisioningPlan:
        """The changes that would make the cluster match ``desired`` (reads, never writes)."""
        ...

    def apply(self, plan: ProvisioningPlan) -> None:
        """Carry out ``plan`` in order; applying a plan whose changes are already made is safe."""
        ...

    def submit(self, spec: JobSpec) -> str:
        """Queue a job; returns its id.  Raises :class:`JobRejected` when the cluster refuses."""
        ...

    def cancel(self, job_id: str) -> None:
        """Cancel a pending or running job (a finished one is left alone)."""
        ...

    def jobs(self, *, account: str | None = None) -> list[JobInfo]:
        """Jobs the scheduler holds now (pending, running, recently finished)."""
        ...

    def job(self, job_id: str) -> JobInfo:
        """One job; raises :class:`JobNotFound` when the scheduler no longer knows it."""
        ...

    def nodes(self) -> list[NodeInfo]: ...

    def partitions(self) -> list[PartitionInfo]: ...

    def accounting(self, since: datetime, until: datetime) -> list[AccountingRecord]:
        """Every allocation that ended in [since, until), in (end, job id) order."""
        ...


def reconcile(
    backend: ClusterBackend, desired: DesiredState, *, dry_run: bool = False
) -> ProvisioningPlan:
    """Plan, and unless ``dry_run`` apply: the controller loop's one step."""
    plan = backend.plan(desired)
    if not dry_run and not plan.empty:
        backend.apply(plan)
    return plan
