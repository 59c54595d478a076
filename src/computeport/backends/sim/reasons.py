"""The scheduling core's words → Slurm's words, so the portal cannot tell the back ends apart.

The core says ``"waiting: budget"``; Slurm says ``QOSGrpGRESMinutes`` (the award's budget is a
``GrpTRESMins`` on its QOS).  Both normalise to the same :class:`PendingReason`, through the
Slurm back end's own normaliser, so the mapping cannot drift.
"""

from __future__ import annotations

from computeport.backends.reasons import normalise_reason
from computeport.backends.types.jobs import JobState, PendingReason
from computeport.scheduling import JobState as CoreState

__all__ = ["job_state", "slurm_reason"]

BUDGET = "QOSGrpGRESMinutes"
GPU_CAP = "QOSGrpGRES"
PAUSED = "QOSGrpJobsLimit"
RESOURCES = "Resources"
PRIORITY = "Priority"


def slurm_reason(core_reason: str, *, paused: bool) -> tuple[str, PendingReason]:
    """The raw reason Slurm would show for a pending job, and its normalised form."""
    if core_reason.startswith("waiting: budget"):
        raw = BUDGET
    elif core_reason.startswith("waiting: GPU cap"):
        raw = PAUSED if paused else GPU_CAP
    elif core_reason.startswith("waiting: resources") or core_reason.startswith("preempted"):
        raw = RESOURCES
    elif core_reason.startswith("waiting: priority") or not core_reason:
        raw = PRIORITY
    else:
        raw = core_reason
    return raw, normalise_reason(JobState.PENDING, raw)


def job_state(state: CoreState, *, timed_out: bool) -> JobState:
    """The core's job state as Slurm names it."""
    if state in (CoreState.PENDING, CoreState.FUTURE):
        return JobState.PENDING
    if state is CoreState.RUNNING:
        return JobState.RUNNING
    if state is CoreState.FINISHED:
        return JobState.TIMEOUT if timed_out else JobState.COMPLETED
    if state is CoreState.CANCELLED:
        return JobState.CANCELLED
    return JobState.FAILED
