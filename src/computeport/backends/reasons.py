"""A scheduler's pending reason → the :class:`PendingReason` every back end reports.

Slurm's words are the reference (``QOSGrpGRESMinutes`` is the award's budget, ``QOSGrpJobsLimit``
a paused award); the virtual cluster first says what Slurm would say, then normalises through
this same function, so the portal cannot tell the back ends apart and the mapping cannot drift.
"""

from __future__ import annotations

import re

from computeport.backends.types.jobs import JobState, PendingReason

__all__ = ["normalise_reason"]

_BUDGET = re.compile(r"Grp(?:GRES|TRES|Billing)(?:Run)?Minutes")
_PAUSED = {"QOSGrpJobsLimit", "QOSGrpSubmitJobsLimit", "JobHeldAdmin", "JobHeldUser"}
_RESOURCES = {"Resources", "ReqNodeNotAvail", "NodeDown", "BadConstraints", "PartitionNodeLimit"}
_DEPENDENCY = {"Dependency", "DependencyNeverSatisfied"}


def normalise_reason(state: JobState, reason: str) -> PendingReason:
    """Slurm's reason word → :class:`PendingReason` (budget before anything else)."""
    if state is not JobState.PENDING:
        return PendingReason.NONE
    if _BUDGET.search(reason):
        return PendingReason.BUDGET
    if reason in _PAUSED:  # computeport pauses an award with GrpJobs=0 GrpSubmitJobs=0
        return PendingReason.PAUSED
    if reason in _RESOURCES or reason.startswith("Nodes_required"):
        return PendingReason.RESOURCES
    if reason == "Priority":
        return PendingReason.PRIORITY
    if reason in _DEPENDENCY:
        return PendingReason.DEPENDENCY
    if "Grp" in reason or "Max" in reason or reason.endswith("Limit"):
        return PendingReason.LIMIT
    return PendingReason.OTHER
