"""Jobs as every back end shows them: a :class:`JobSpec` goes in, :class:`JobInfo` comes out."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from computeport.backends.types.names import POSIX_USER
from computeport.kit.errors import ValidationFailed

__all__ = ["JobInfo", "JobSpec", "JobState", "PendingReason"]


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
        if not POSIX_USER.match(self.user):
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
    comment: str | None = None
    """The job's Comment (a deployment job reports its endpoint there: gateway.batch)."""
