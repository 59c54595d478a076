"""What the centre actually ran: the jobs of its recent past, ready to replay.

Two sources, one shape (:class:`History`: the engine calls to make, who each account belongs
to, and when each job really started):

* the virtual cluster (the demo): its own call log (:mod:`computeport.backends.sim.calls`),
  budgets, reservations, cancels and same-second arrival order included, so a baseline replay
  reproduces every start exactly (the tests hold it to that);
* accounting records (Slurm, or any usage records): each job becomes one arrival at its submit
  (or eligible) time with its real run time and its time limit as the estimate; budgets and
  reservations in force are not in the records, so the baseline differs by as much as they
  mattered (the error is reported).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from computeport.backends.sim.calls import EngineCall
from computeport.kit.errors import ValidationFailed
from computeport.lab.changes import Added
from computeport.scheduling import ClusterSpec, Job, PolicyConfig

__all__ = ["UNKNOWN", "History", "Member", "RecordedJob", "history_of_records"]

UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Member:
    """Who an account belongs to: its organisation and the organisation's category."""

    org: str
    category: str


@dataclass(frozen=True, slots=True)
class History:
    """A replayable past: calls in the order they were made, on an engine time base.

    ``origin_s`` is the epoch second of engine time 0; ``actual_starts`` maps a job id to the
    start of its last attempt (absent: it never started).
    """

    cluster: ClusterSpec
    policy: PolicyConfig
    origin_s: int
    calls: tuple[EngineCall, ...]
    members: Mapping[str, Member] = field(default_factory=dict)
    actual_starts: Mapping[str, int] = field(default_factory=dict)
    end_s: int = 0
    """How far the history reaches (engine seconds)."""
    applications: Mapping[str, Added] = field(default_factory=dict)
    """Pending applications by reference (for ``add=REFERENCE``)."""

    def member(self, account: str) -> Member:
        return self.members.get(account) or Member(account or UNKNOWN, UNKNOWN)

    def jobs(self) -> list[Job]:
        """Every job submitted, in submission order."""
        return [job for call in self.calls if call.kind == "submit" for job in call.jobs]

    def categories(self) -> set[str]:
        return {m.category for m in self.members.values()}

    def orgs(self) -> set[str]:
        return {m.org for m in self.members.values()}


@dataclass(frozen=True, slots=True)
class RecordedJob:
    """One job as accounting saw it (seconds on one time base)."""

    job_id: str
    account: str
    submit_s: int
    start_s: int
    end_s: int
    gpus: int
    nodes: int = 0
    time_limit_s: int = 0


def history_of_records(
    records: Iterable[RecordedJob],
    cluster: ClusterSpec,
    policy: PolicyConfig,
    members: Mapping[str, Member] | None = None,
    *,
    align_s: int = 1,
) -> History:
    """A history from accounting records, rebased so the first submission is time 0.

    With ``align_s``, time 0 is the first submission rounded down to a multiple of ``align_s``
    epoch seconds instead, so the simulated clock's multiples of it fall where the wall clock's
    do (Slurm's backfill rounds its reservations on the wall clock: ``bf_resolution``).
    Ties in submit time keep the record order (submit order on Slurm: job id order).
    """
    rows = sorted(records, key=lambda r: r.submit_s)
    if not rows:
        raise ValidationFailed("no jobs in the window", field="from")
    t0 = rows[0].submit_s - rows[0].submit_s % max(1, align_s)
    jobs = tuple(
        Job(
            r.job_id,
            submit_s=r.submit_s - t0,
            gpus=r.gpus,
            run_s=max(0, r.end_s - r.start_s),
            time_limit_s=r.time_limit_s,
            nodes=r.nodes,
            project=r.account,
        )
        for r in rows
    )
    end = max(r.end_s for r in rows) - t0
    calls = (EngineCall("submit", 0, jobs=jobs), EngineCall("run", 0, t_s=end + 1))
    return History(
        cluster,
        policy,
        t0,
        calls,
        dict(members or {}),
        {r.job_id: r.start_s - t0 for r in rows},
        end + 1,
    )
