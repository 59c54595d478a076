"""Jobs as the scheduler sees them: an immutable request plus the real run time of a replay.

A :class:`Job` is what a user submitted (GPUs, nodes, time limit, QOS, accelerator type, who
pays) and, for replays and the virtual cluster, how long it really runs (``run_s``). The
scheduler never reads ``run_s``: it sees only the *estimate* (:func:`estimate_s`), exactly as a
real scheduler sees only the time limit.  Times are integer seconds (DESIGN.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from computeport.kit.errors import ValidationFailed

__all__ = ["Estimates", "Job", "Qos", "estimate_s"]


class Qos(StrEnum):
    """The quality of service a job runs under (a Slurm QOS)."""

    SUBSIDISED = "subsidised"
    """Work under an award of the subsidy scheme: entitled, counted against the award budget."""
    PAID = "paid"
    """Work paid at the list price: entitled."""
    SCAVENGER = "scavenger"
    """Borrows idle GPUs; preempted (requeued, work lost) when entitled work needs them."""


class Estimates(StrEnum):
    """Which run-time estimate the scheduler plans with (DESIGN.md "Estimates")."""

    EXACT = "exact"
    """The real run time (an oracle; a reference point in the literature)."""
    LIMIT = "limit"
    """The requested time limit when the trace has one (> 0), else the real run time."""


@dataclass(frozen=True, slots=True)
class Job:
    """One submitted job.

    Attributes:
        job_id: a name (never a sort key: order comes from ``submit_s`` and input position).
        submit_s: submission time, integer seconds on the input's time base.
        gpus: GPUs requested (≥ 1).
        run_s: the real run time in seconds (replays; the virtual cluster's job length).
        time_limit_s: the requested limit, 0 when the trace has none.
        nodes: nodes requested, 0 to derive them from ``gpus`` (placement ``node``).
        org, project, user, group: who submitted it and who pays; ``group`` is what the
            trace calls a group (metrics ``by_group``).
        qos: subsidised, paid or scavenger.
        gpu_type: the accelerator model wanted (``None``: any; routed to the first partition).
        partition: an explicit partition name (``None``: routed by ``gpu_type``).
    """

    job_id: str
    submit_s: int
    gpus: int
    run_s: int
    time_limit_s: int = 0
    nodes: int = 0
    org: str = ""
    project: str = ""
    user: str = ""
    group: str = ""
    qos: Qos = Qos.SUBSIDISED
    gpu_type: str | None = None
    partition: str | None = None

    def __post_init__(self) -> None:
        if self.gpus < 1:
            raise ValidationFailed(f"job {self.job_id}: gpus must be ≥ 1", field="gpus")
        if self.run_s < 0:
            raise ValidationFailed(f"job {self.job_id}: run_s must be ≥ 0", field="run_s")
        if self.time_limit_s < 0:
            raise ValidationFailed(
                f"job {self.job_id}: time_limit_s must be ≥ 0", field="time_limit_s"
            )
        if self.nodes < 0:
            raise ValidationFailed(f"job {self.job_id}: nodes must be ≥ 0", field="nodes")

    @property
    def account(self) -> str:
        """The fair-share and quota account: project, else group, else user."""
        return self.project or self.group or self.user


def estimate_s(job: Job, estimates: Estimates) -> int:
    """The run time the scheduler plans with (never below 1 s, so reservations move forward)."""
    if estimates is Estimates.LIMIT and job.time_limit_s > 0:
        return job.time_limit_s
    return max(1, job.run_s)
