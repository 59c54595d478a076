"""What the engine reports: job status views, accounting records, and per-job results."""

from __future__ import annotations

from dataclasses import dataclass

from computeport.scheduling.decision import JobState

__all__ = ["CoreRecord", "JobResult", "JobStatus"]


@dataclass(frozen=True, slots=True)
class JobStatus:
    """A live view of one job (``squeue``): state, the reason it waits, where it runs."""

    job_id: str
    state: JobState
    reason: str
    submit_s: int
    gpus: int
    partition: str
    start_s: int | None
    expected_end_s: int | None
    """When the scheduler expects it to end (start + estimate); ``None`` unless running."""
    nodes: tuple[str, ...]
    attempts: int


@dataclass(frozen=True, slots=True)
class CoreRecord:
    """One ended attempt of a job (``sacct``): what metering rates and the ledger posts.

    ``state`` is ``finished``, ``pending`` (preempted and requeued) or ``cancelled``.
    """

    job_id: str
    org: str
    project: str
    user: str
    qos: str
    partition: str
    gpu_type: str
    gpus: int
    nodes: tuple[str, ...]
    submit_s: int
    start_s: int
    end_s: int
    state: JobState

    @property
    def gpu_seconds(self) -> int:
        return self.gpus * (self.end_s - self.start_s)


@dataclass(frozen=True, slots=True)
class JobResult:
    """How one job of a run went (a row of ``jobs.csv`` plus why and how often).

    ``start_s``/``end_s`` are those of the last attempt, ``None`` when it never started.
    """

    job_id: str
    submit_s: int
    start_s: int | None
    end_s: int | None
    gpus: int
    run_s: int
    state: JobState
    reason: str
    group: str
    qos: str
    attempts: int
    lost_gpu_s: int
