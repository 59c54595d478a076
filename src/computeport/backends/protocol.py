"""The ``ClusterBackend`` protocol: what every cluster back end (``sim``, ``slurm``) offers.

Services above the back ends (awards, the portal's jobs, metering) talk only to this module's
types, so they cannot tell the embedded virtual cluster from production Slurm.  Everything here
is a plain frozen dataclass or a ``StrEnum``: no database models, no Slurm strings.

The pieces, in the order an award meets them:

* provisioning: :class:`DesiredState` (one :class:`AwardAllocation` per award, one
  :class:`ReservedCapacity` per booked reservation) → ``plan`` → a
  :class:`ProvisioningPlan` (a typed diff of :data:`Change` items; print it for a dry run) →
  ``apply``.  Applying the same desired state twice gives an empty plan the second time, and a
  back end only ever removes what computeport created.
* jobs: :class:`JobSpec` → ``submit`` → job id; ``jobs``/``job`` give :class:`JobInfo` with the
  state and, while pending, the scheduler's reason (raw) and a normalised :class:`PendingReason`.
* inventory: ``nodes`` → :class:`NodeInfo`, ``partitions`` → :class:`PartitionInfo`.
* accounting: ``accounting(since, until)`` → :class:`AccountingRecord` (one per job allocation,
  keyed by (cluster, job id, submit time)); ingest hands them to billing through a
  :class:`UsageSink`.

Errors are typed (kit.errors)::

    DomainError
    ├── BackendError              502  the back end failed in a way retrying did not fix
    │   ├── BackendUnavailable    503  the cluster did not answer (after the retries)
    │   └── BackendOutputInvalid  502  the cluster answered nonsense (names the field/line)
    ├── Conflict
    │   ├── JobRejected           409  the cluster refused a submission (account, limits, paused)
    │   └── ProvisioningConflict  409  an account/QOS exists that computeport did not create
    └── NotFound
        └── JobNotFound           404
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple, Protocol, runtime_checkable

from computeport.kit.errors import Conflict, DomainError, NotFound, ValidationFailed

__all__ = [
    "RESERVATION_PREFIX",
    "AccountingRecord",
    "AccountingSource",
    "AddMember",
    "AttachQos",
    "AwardAllocation",
    "AwardState",
    "BackendError",
    "BackendOutputInvalid",
    "BackendUnavailable",
    "Change",
    "ClusterBackend",
    "CreateAccount",
    "CreateQos",
    "CreateReservation",
    "DeleteAccount",
    "DeleteQos",
    "DeleteReservation",
    "DesiredState",
    "JobInfo",
    "JobNotFound",
    "JobRejected",
    "JobSpec",
    "JobState",
    "MoveAccount",
    "NodeInfo",
    "NodeState",
    "PartitionInfo",
    "PendingReason",
    "ProvisioningConflict",
    "ProvisioningPlan",
    "QosLimits",
    "RecordKey",
    "RemoveMember",
    "ReservedCapacity",
    "UpdateQos",
    "UpdateReservation",
    "UsageSink",
    "reconcile",
]


# ---------------------------------------------------------------------------------------- errors


class BackendError(DomainError):
    """The cluster back end failed in a way that retrying did not fix."""

    status_code = 502
    title = "Cluster back end error"


class BackendUnavailable(BackendError):
    """The cluster did not answer within the retry budget (controller or database down)."""

    status_code = 503
    title = "Cluster unavailable"


class BackendOutputInvalid(BackendError):
    """The cluster's output could not be read (truncated JSON, a missing field)."""

    title = "Unreadable cluster output"


class JobRejected(Conflict):
    """The cluster refused a submission: unknown account, a paused award, limits at submit."""

    title = "Job rejected"


class ProvisioningConflict(Conflict):
    """An account or QOS of the desired name exists but was not created by computeport."""

    title = "Provisioning conflict"


class JobNotFound(NotFound):
    title = "Job not found"


# ---------------------------------------------------------------------------------- provisioning

_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
_POSIX_USER = re.compile(r"^[a-z_][a-z0-9_.-]{0,31}\$?$")


class AwardState(enum.StrEnum):
    """What the cluster should let an award's members do."""

    ACTIVE = "active"  # submit and run, within the GPU-minute budget
    PAUSED = "paused"  # expired, terminated, exhausted (refuse policy) or suspended: no new work


@dataclass(frozen=True, slots=True)
class AwardAllocation:
    """One award as the cluster sees it: an account under its organisation's, a budget, members.

    ``account_name`` is generated once when the award is activated and stored; the back end uses
    it both for the award's account and for its QOS.  ``gpu_minutes`` is the award's whole GPU
    budget (Slurm enforces it as ``GrpTRESMins=gres/gpu=…`` on a NoDecay QOS); ``gpu_cap`` caps
    the GPUs in use at once (``GrpTRES``), ``None`` meaning no cap.
    """

    account_name: str
    org_account: str
    members: frozenset[str]
    gpu_minutes: int
    gpu_cap: int | None = None
    state: AwardState = AwardState.ACTIVE

    def __post_init__(self) -> None:
        for fld in ("account_name", "org_account"):
            value = getattr(self, fld)
            if not _NAME.match(value):
                raise ValidationFailed(
                    f"{value!r} is not a valid cluster account name "
                    "(lower-case letters, digits, '_' or '-', starting with a letter, ≤ 64)",
                    field=fld,
                )
        if self.account_name == self.org_account:
            raise ValidationFailed(
                "an award's account must differ from its organisation's", field="account_name"
            )
        for user in self.members:
            if not _POSIX_USER.match(user):
                raise ValidationFailed(f"{user!r} is not a POSIX user name", field="members")
        if self.gpu_minutes < 0:
            raise ValidationFailed("GPU-minutes are never negative", field="gpu_minutes")
        if self.gpu_cap is not None and self.gpu_cap < 0:
            raise ValidationFailed("a GPU cap is never negative", field="gpu_cap")

    @property
    def limits(self) -> QosLimits:
        return QosLimits(
            gpu_minutes=self.gpu_minutes,
            gpu_cap=self.gpu_cap,
            paused=self.state is AwardState.PAUSED,
        )


RESERVATION_PREFIX = "cp_"
"""Every reservation computeport creates is named ``cp_<booking name>``: Slurm keeps no
description on a reservation, so the name is the mark, and only marked ones are ever changed or
removed (an operator's own maintenance reservations are left alone)."""


@dataclass(frozen=True, slots=True)
class ReservedCapacity:
    """Whole nodes of one partition withheld for one award's account over ``[start, end)``.

    Only jobs of ``account`` may run on the reserved nodes inside the window (Slurm:
    ``Accounts=``; the virtual cluster: the scheduling core's ``Reservation``).  Nodes, not
    GPUs, because that is what Slurm reserves and what the scheduling core withholds under node
    placement; ``gpus`` (nodes × GPUs per node) is what a reserved-capacity charge counts.
    """

    name: str
    account: str
    partition: str
    node_count: int
    start: datetime
    end: datetime
    gpus: int = 0

    def __post_init__(self) -> None:
        if not self.name.startswith(RESERVATION_PREFIX) or not _NAME.match(self.name):
            raise ValidationFailed(
                f"{self.name!r} is not a computeport reservation name "
                f"({RESERVATION_PREFIX}<lower-case letters, digits, '_' or '-'>)",
                field="name",
            )
        if self.node_count <= 0:
            raise ValidationFailed("a reservation holds at least one node", field="node_count")
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValidationFailed("reservation times must carry a zone", field="start")
        if self.start >= self.end:
            raise ValidationFailed("a reservation ends after it starts", field="end")

    def same_as(self, other: ReservedCapacity) -> bool:
        """Equal as the cluster keeps it: whole seconds, and without the informative ``gpus``."""
        return (
            self.name == other.name
            and self.account == other.account
            and self.partition == other.partition
            and self.node_count == other.node_count
            and self.same_start(other)
            and int(self.end.timestamp()) == int(other.end.timestamp())
        )

    def same_start(self, other: ReservedCapacity) -> bool:
        return int(self.start.timestamp()) == int(other.start.timestamp())

    def describe(self) -> str:
        return (
            f"{self.node_count} node(s) of {self.partition} for {self.account}, "
            f"{_iso(self.start)} → {_iso(self.end)}"
        )


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True, slots=True)
class DesiredState:
    """Every award (and reservation) the cluster should know about; anything computeport made
    beyond it goes."""

    allocations: tuple[AwardAllocation, ...] = ()
    reservations: tuple[ReservedCapacity, ...] = ()

    def __post_init__(self) -> None:
        accounts = {a.account_name for a in self.allocations}
        names: set[str] = set()
        for resv in self.reservations:
            if resv.name in names:
                raise ValidationFailed(f"reservation {resv.name!r} is desired twice", field="name")
            if resv.account not in accounts:
                raise ValidationFailed(
                    f"reservation {resv.name!r} is for {resv.account!r}, which is no desired award",
                    field="account",
                )
            names.add(resv.name)
        seen: set[str] = set()
        orgs = {a.org_account for a in self.allocations}
        for alloc in self.allocations:
            if alloc.account_name in seen:
                raise ValidationFailed(
                    f"account {alloc.account_name!r} is desired twice", field="account_name"
                )
            if alloc.account_name in orgs:
                raise ValidationFailed(
                    f"{alloc.account_name!r} is both an award and an organisation account",
                    field="account_name",
                )
            seen.add(alloc.account_name)

    @property
    def org_accounts(self) -> tuple[str, ...]:
        return tuple(sorted({a.org_account for a in self.allocations}))


@dataclass(frozen=True, slots=True)
class QosLimits:
    """The limits one award's QOS carries."""

    gpu_minutes: int
    gpu_cap: int | None
    paused: bool

    def describe(self) -> str:
        cap = "no cap" if self.gpu_cap is None else f"cap {self.gpu_cap} GPUs"
        return f"{self.gpu_minutes} GPU-min, {cap}{', paused' if self.paused else ''}"


@dataclass(frozen=True, slots=True)
class CreateAccount:
    name: str
    parent: str
    role: str  # "org" or "award"

    def describe(self) -> str:
        return f"+ account {self.name} ({self.role}) under {self.parent}"


@dataclass(frozen=True, slots=True)
class MoveAccount:
    name: str
    parent_before: str
    parent: str

    def describe(self) -> str:
        return f"~ account {self.name}: parent {self.parent_before} → {self.parent}"


@dataclass(frozen=True, slots=True)
class CreateQos:
    name: str
    limits: QosLimits

    def describe(self) -> str:
        return f"+ qos {self.name}: {self.limits.describe()}"


@dataclass(frozen=True, slots=True)
class UpdateQos:
    name: str
    before: QosLimits
    after: QosLimits

    def describe(self) -> str:
        return f"~ qos {self.name}: {self.before.describe()} → {self.after.describe()}"


@dataclass(frozen=True, slots=True)
class AttachQos:
    """Make ``qos`` the only and default QOS of ``account`` (its members inherit it)."""

    account: str
    qos: str

    def describe(self) -> str:
        return f"~ account {self.account}: qos = {self.qos}"


@dataclass(frozen=True, slots=True)
class AddMember:
    account: str
    user: str

    def describe(self) -> str:
        return f"+ user {self.user} in {self.account}"


@dataclass(frozen=True, slots=True)
class RemoveMember:
    account: str
    user: str

    def describe(self) -> str:
        return f"- user {self.user} from {self.account}"


@dataclass(frozen=True, slots=True)
class DeleteAccount:
    name: str

    def describe(self) -> str:
        return f"- account {self.name}"


@dataclass(frozen=True, slots=True)
class DeleteQos:
    name: str

    def describe(self) -> str:
        return f"- qos {self.name}"


@dataclass(frozen=True, slots=True)
class CreateReservation:
    reservation: ReservedCapacity

    def describe(self) -> str:
        return f"+ reservation {self.reservation.name}: {self.reservation.describe()}"


@dataclass(frozen=True, slots=True)
class UpdateReservation:
    before: ReservedCapacity
    after: ReservedCapacity

    def describe(self) -> str:
        return (
            f"~ reservation {self.after.name}: {self.before.describe()} → {self.after.describe()}"
        )


@dataclass(frozen=True, slots=True)
class DeleteReservation:
    name: str

    def describe(self) -> str:
        return f"- reservation {self.name}"


Change = (
    CreateAccount
    | MoveAccount
    | CreateQos
    | UpdateQos
    | AttachQos
    | AddMember
    | RemoveMember
    | DeleteAccount
    | DeleteQos
    | CreateReservation
    | UpdateReservation
    | DeleteReservation
)


@dataclass(frozen=True, slots=True)
class ProvisioningPlan:
    """The typed diff from actual to desired, in the order it must be applied."""

    changes: tuple[Change, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.changes

    def lines(self) -> list[str]:
        return [c.describe() for c in self.changes] or ["(no changes)"]


# ------------------------------------------------------------------------------------------ jobs


class JobState(enum.StrEnum):
    """Job states, named as Slurm names them (the simulator uses the same words)."""

    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUSPENDED = "SUSPENDED"
    COMPLETING = "COMPLETING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    TIMEOUT = "TIMEOUT"
    NODE_FAIL = "NODE_FAIL"
    PREEMPTED = "PREEMPTED"
    OUT_OF_MEMORY = "OUT_OF_MEMORY"
    BOOT_FAIL = "BOOT_FAIL"
    DEADLINE = "DEADLINE"
    REQUEUED = "REQUEUED"
    RESERVED = "RESERVED"
    """Not a job: reserved capacity an award did not use, charged where its terms say so."""
    OTHER = "OTHER"

    @property
    def finished(self) -> bool:
        return self not in _ACTIVE_STATES


_ACTIVE_STATES = frozenset(
    {
        JobState.PENDING,
        JobState.RUNNING,
        JobState.SUSPENDED,
        JobState.COMPLETING,
        JobState.REQUEUED,
    }
)


class PendingReason(enum.StrEnum):
    """Why a job waits, normalised across back ends (the raw reason is kept beside it)."""

    NONE = "none"  # not pending
    BUDGET = "budget"  # the award's GPU-minute budget (Slurm: …GrpGRESMinutes / …GrpTRESMinutes)
    RESOURCES = "resources"  # not enough free GPUs now
    PRIORITY = "priority"  # others are ahead in the queue
    LIMIT = "limit"  # another limit, e.g. the award's concurrent GPU cap
    PAUSED = "paused"  # the award is paused (job limits of zero), or the job is held
    DEPENDENCY = "dependency"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class JobSpec:
    """A batch job the portal submits on a user's behalf, charged to one award's account.

    ``script`` is the batch script (starting with ``#!``); a simulated back end does not run it
    and uses ``expected_run_seconds`` instead (real clusters ignore that hint).
    """

    account: str
    user: str
    script: str
    gpus: int
    time_limit_minutes: int
    name: str = "computeport"
    partition: str | None = None
    gpu_type: str | None = None
    workdir: str | None = None
    expected_run_seconds: int | None = None

    def __post_init__(self) -> None:
        if self.gpus < 0:
            raise ValidationFailed("a job asks for zero or more GPUs", field="gpus")
        if self.time_limit_minutes <= 0:
            raise ValidationFailed("a time limit is at least a minute", field="time_limit_minutes")
        if not self.script.startswith("#!"):
            raise ValidationFailed("a batch script starts with '#!'", field="script")
        if not _POSIX_USER.match(self.user):
            raise ValidationFailed(f"{self.user!r} is not a POSIX user name", field="user")


@dataclass(frozen=True, slots=True)
class JobInfo:
    """A job as the scheduler sees it now."""

    job_id: str
    name: str
    account: str
    user: str
    partition: str
    state: JobState
    reason: str  # the scheduler's own words, e.g. "QOSGrpGRESMinutes"; "None" when none
    pending_reason: PendingReason
    gpus: int
    gpu_type: str | None
    submit_time: datetime
    start_time: datetime | None
    end_time: datetime | None
    time_limit_minutes: int | None
    nodes: tuple[str, ...] = ()
    exit_code: int | None = None


# ------------------------------------------------------------------------------------- inventory


class NodeState(enum.StrEnum):
    IDLE = "idle"
    MIXED = "mixed"
    ALLOCATED = "allocated"
    COMPLETING = "completing"
    DRAINED = "drained"  # drained or draining: takes no new jobs
    DOWN = "down"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class NodeInfo:
    name: str
    state: NodeState
    raw_state: str
    partitions: tuple[str, ...]
    gpus: int
    gpus_used: int
    gpu_type: str | None
    cpus: int
    reason: str = ""


@dataclass(frozen=True, slots=True)
class PartitionInfo:
    name: str
    up: bool
    default: bool
    nodes: tuple[str, ...]
    gpus: int
    gpus_used: int
    gpu_types: tuple[str, ...] = ()


# ------------------------------------------------------------------------------------ accounting


class RecordKey(NamedTuple):
    """Identifies one job allocation for ever: Slurm reuses job ids (requeue, id wrap)."""

    cluster: str
    job_id: str
    submit_time: datetime


@dataclass(frozen=True, slots=True)
class AccountingRecord:
    """One finished job allocation (never a step), as metering rates it.

    ``gpus`` counts the typed GPU TRES where the job had one (``gres/gpu:h800=8``), else the
    untyped one, never both.  ``gpu_seconds`` = gpus × ``elapsed_seconds`` (raw; whether it is
    charged is billing's business).  ``chargeable`` is False for jobs the centre ended — a node
    failure, or a cancel by one of the configured operator users (``cancelled_by``).
    """

    cluster: str
    job_id: str
    submit_time: datetime
    account: str
    user: str
    partition: str
    gpus: int
    gpu_type: str | None
    start_time: datetime | None
    end_time: datetime
    state: JobState
    exit_code: int
    elapsed_seconds: int
    gpu_seconds: int
    chargeable: bool = True
    cancelled_by: str | None = None
    name: str = ""
    qos: str = ""

    @property
    def key(self) -> RecordKey:
        return RecordKey(self.cluster, self.job_id, self.submit_time)


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
