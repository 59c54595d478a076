"""``SimBackend``: the embedded virtual cluster, a :class:`ClusterBackend` like Slurm.

From the outside it behaves as the Slurm back end does: the same typed provisioning plans
(the very same planner), jobs that queue, run and end on their own as time passes, Slurm's
pending-reason words, node and partition views, and accounting records keyed by
(cluster, job id, submit time).  Inside, the scheduling core runs the cluster through
:class:`computeport.simulator.Engine` on an injected clock: every call first brings the engine
up to ``clock.now()``, so with an :class:`~computeport.kit.clock.AcceleratedClock` the centre
lives a simulated day per wall minute, and with a ``ManualClock`` tests decide when time moves.

Budgets: an award's QOS becomes a :class:`~computeport.scheduling.ProjectQuota` of its
GPU-minutes in GPU-seconds; the core applies Slurm's ``safe`` rule (used + remaining limits of
running jobs + this job's GPUs × limit ≤ budget), so a job over budget waits with
``QOSGrpGRESMinutes``.  A paused award refuses submissions and its queued jobs wait with
``QOSGrpJobsLimit`` (the core holds them under a GPU cap of zero).

Reservations: each of computeport's reservations in the book becomes the scheduling core's
:class:`~computeport.scheduling.Reservation` for the award's account, so only that award's jobs
start on the reserved nodes inside the window (others still may before it, if they end in
time).  The core is told the nodes: the highest-numbered nodes of the partition that no other
reservation holds over an overlapping window (best fit fills from the lowest index, so those
are the likeliest to be free); under pool placement it withholds the nodes' GPUs instead.

The class is this module's facade (construction, the clock, submit and cancel) over one part per
concept, each in its own module: :mod:`~computeport.backends.sim.provisioning`,
:mod:`~computeport.backends.sim.background`, :mod:`~computeport.backends.sim.views`,
:mod:`~computeport.backends.sim.accounting` and :mod:`~computeport.backends.sim.replay` (their
shared state is declared in :mod:`~computeport.backends.sim.base`).

Differences a user may notice, all documented: the batch script is not executed (the job runs
for ``expected_run_seconds``, else half its time limit; past its limit it ends ``TIMEOUT``), and
a job needs at least one GPU.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from computeport.backends.errors import JobNotFound, JobRejected
from computeport.backends.sim.accounting import SimAccounting
from computeport.backends.sim.accounts import SimAccountBook
from computeport.backends.sim.background import SimBackground
from computeport.backends.sim.base import JobMeta
from computeport.backends.sim.calls import LoggedEngine
from computeport.backends.sim.inventory import SCAVENGER, SimInventory
from computeport.backends.sim.journal import Journal, MemoryJournal
from computeport.backends.sim.provisioning import SimProvisioning
from computeport.backends.sim.replay import SimReplay
from computeport.backends.sim.views import SimViews
from computeport.backends.sim.workload import BackgroundConfig, BackgroundStream
from computeport.backends.types.accounting import AccountingRecord
from computeport.backends.types.desired import DesiredState, ReservedCapacity
from computeport.backends.types.jobs import JobSpec
from computeport.kit.clock import Clock, from_epoch_seconds, to_epoch_seconds
from computeport.kit.errors import NotFound
from computeport.scheduling import Action, PolicyConfig, ProjectQuota, Qos, Reservation
from computeport.scheduling import CoreJobState as CoreState
from computeport.scheduling import Job as CoreJob
from computeport.simulator import CoreRecord, JobStatus

__all__ = ["SimBackend"]

CHUNK_S = 3600
"""Background arrivals are charged to awards an hour at a time (see ``_background_chunk``)."""
RECENT_S = 300
"""How long a finished job stays in ``jobs()`` (Slurm's MinJobAge default)."""


class SimBackend(SimProvisioning, SimBackground, SimViews, SimAccounting, SimReplay):
    """The virtual cluster.  Thread-safe: the API and the worker call it concurrently.

    Args:
        inventory: partitions and nodes (see :func:`cyberport_inventory`).
        clock: the centre's clock; the engine follows it.
        epoch: time 0 of the engine (defaults to the clock's now); history mode starts it months
            before now, and the first call replays that stretch at full speed.
        background: the fitted background workload, ``None`` for an idle cluster.
        journal: where outside actions are kept; an existing journal is replayed (restart).
        initial: the desired state provisioned at time 0 of a *new* journal (history mode:
            the awards exist from the start of the replayed months).
        schedule: later desired states of a *new* journal, at their engine seconds (history
            mode: awards that start or end during the replayed months); the history up to the
            last of them is replayed here, each provisioning journalled at its instant.
    """

    def __init__(
        self,
        inventory: SimInventory,
        clock: Clock,
        *,
        epoch: datetime | None = None,
        background: BackgroundConfig | None = None,
        journal: Journal | None = None,
        initial: DesiredState | None = None,
        schedule: Sequence[tuple[int, DesiredState]] = (),
        policy: PolicyConfig | None = None,
        recent_s: int = RECENT_S,
    ) -> None:
        self.inventory = inventory
        self.clock = clock
        self.journal: Journal = journal or MemoryJournal()
        self.recent_s = recent_s
        self._lock = threading.RLock()
        self._replaying = False
        state = self.journal.load(inventory.cluster)
        if state is None:
            origin = to_epoch_seconds(epoch or clock.now())
            meta: dict[str, Any] = {
                "origin_s": origin,
                "background": None if background is None else background.to_json(),
            }
            self.journal.create(inventory.cluster, meta)
        else:
            meta = state.meta
        self.origin_s = int(meta["origin_s"])
        config = meta.get("background")
        self.background = None if config is None else BackgroundConfig.from_json(config)
        policy = policy or PolicyConfig()
        self._placement = policy.placement
        self._core_reservations: dict[str, tuple[ReservedCapacity, Reservation]] = {}
        self.engine = LoggedEngine(
            inventory.spec,
            policy,
            origin_s=self.origin_s,
            quotas={},
            keep_decisions=True,  # preemptions are read from the decisions (see _harvest)
        )
        self.book = SimAccountBook()
        self._quotas: dict[str, ProjectQuota] = {}
        self._awardees: list[tuple[str, tuple[str, ...], int]] = []
        self._meta: dict[str, JobMeta] = {}
        self._next_id = 1
        self._records: list[AccountingRecord] = []
        self._record_ends: list[int] = []
        self._requeued_at: dict[str, int] = {}
        self._starts: dict[str, int] = {}
        self._events = 0
        self._accelerators = {
            name: inventory.partition(inventory.base_of(name) or name).node_type.accelerator.lower()
            for name in inventory.partition_names()
        }
        self._running_view: tuple[tuple[int, ...], list[JobStatus]] | None = None
        self._preempted: set[tuple[str, int]] = set()
        self._recent: deque[tuple[int, str]] = deque()
        self._next_chunk_s = 0
        self._stream = (
            None
            if self.background is None
            else BackgroundStream(self.background, inventory.spec.gpus, 0)
        )
        self.background_dropped = 0
        """Background arrivals no award had room for (demand beyond what was awarded)."""
        if state is None:
            if initial is not None:
                book = self._book_after(initial).to_json()
                self._record("provision", {"book": book, "initial": True})
            for t_s, desired in schedule:
                self._advance_to(t_s)
                self._record("provision", {"book": self._book_after(desired).to_json()})
        else:
            self._replay(state.events, state.position_s)
        self.journal.flush()

    # ------------------------------------------------------------------------------ clock
    @property
    def cluster(self) -> str:
        return self.inventory.cluster

    @property
    def epoch(self) -> datetime:
        return from_epoch_seconds(self.origin_s)

    @property
    def now(self) -> datetime:
        """How far the virtual cluster has advanced."""
        return from_epoch_seconds(self.origin_s + self.engine.now_s)

    def _target_s(self) -> int:
        return max(self.engine.now_s, to_epoch_seconds(self.clock.now()) - self.origin_s)

    def _sync(self) -> None:
        self._advance_to(self._target_s())

    def advance(self, *, mark: bool = True) -> datetime:
        """Bring the cluster up to the clock and make its journal durable (the worker's tick).

        ``mark`` also records how far the cluster got (a restart resumes there; without it a
        restart resumes at the last action, and time simply goes on from there).  The journal
        is flushed outside the cluster's lock: the cluster never waits on the database (see
        :mod:`computeport.backends.sim.journal`); with nothing to write, nothing is written.
        """
        with self._lock:
            self._sync()
            if mark:
                self.journal.mark(self.cluster, self.engine.now_s)
            reached = self.now
        self.journal.flush()
        return reached

    def _advance_to(self, t_s: int) -> None:
        if self._stream is not None:
            while self._next_chunk_s <= t_s:
                at = self._next_chunk_s
                self.engine.run_until(at)
                self._harvest()
                self._background_chunk(at, at + CHUNK_S)
                self._next_chunk_s = at + CHUNK_S
        self.engine.run_until(t_s)
        self._harvest()

    def _harvest(self) -> None:
        """Collect ended attempts: the engine's accounting plus preempted attempts.

        The engine's ``take_accounting`` does not (yet) report attempts ended by preemption,
        so they are rebuilt from its decisions: a PREEMPT ends the attempt its last START began.
        """
        engine = self.engine
        ended = [(r.end_s, 0, r) for r in engine.take_accounting()]
        for d in engine.decisions:
            if d.action is Action.START:
                self._starts[d.job_id] = d.at_s
            elif d.action is Action.PREEMPT and (d.job_id, d.at_s) not in self._preempted:
                status = engine.status(d.job_id)
                start = self._starts.get(d.job_id, d.at_s)
                part = self.inventory.partition(self.inventory.default)
                rec = CoreRecord(
                    d.job_id, "", "", "", "", part.name, part.node_type.accelerator,
                    status.gpus, (), status.submit_s, start, d.at_s, CoreState.PENDING,
                )  # fmt: skip
                ended.append((d.at_s, 1, rec))
        engine.decisions.clear()
        ended.sort(key=lambda e: (e[0], e[1]))
        for _, _, rec in ended:
            self._add_record(rec)

    # ------------------------------------------------------------------------------- jobs
    def submit(self, spec: JobSpec) -> str:
        with self._lock:
            self._sync()
            partition, base = self._check(spec)
            job_id = str(self._next_id)
            limit_s = spec.time_limit_minutes * 60
            expected = spec.expected_run_seconds
            run_s = max(1, limit_s // 2 if expected is None else expected)
            self._record(
                "submit",
                {
                    "job_id": job_id,
                    "account": spec.account,
                    "user": spec.user,
                    "name": spec.name,
                    "partition": partition,
                    "base": base,
                    "gpus": spec.gpus,
                    "gpu_type": spec.gpu_type,
                    "limit_min": spec.time_limit_minutes,
                    "run_s": run_s,
                },
            )
            return job_id

    def _check(self, spec: JobSpec) -> tuple[str, str]:
        partition = spec.partition or self.inventory.default
        base = self.inventory.base_of(partition)
        if base is None:
            raise JobRejected(f"invalid partition {partition!r}", field="partition")
        part = self.inventory.partition(base)
        accel = part.node_type.accelerator
        if spec.gpu_type is not None and spec.gpu_type.lower() != accel.lower():
            raise JobRejected(
                f"partition {partition!r} has no {spec.gpu_type} GPUs (it has {accel})",
                field="gpu_type",
            )
        if spec.gpus < 1:
            raise JobRejected("the virtual cluster runs GPU jobs only", field="gpus")
        if spec.gpus > part.gpus:
            raise JobRejected(
                f"requested node configuration is not available: {spec.gpus} GPUs > {part.gpus}",
                field="gpus",
            )
        account = self.book.accounts.get(spec.account)
        if account is None or not self.book.is_member(spec.account, spec.user):
            raise JobRejected(
                f"invalid account or account/user combination: {spec.account}/{spec.user}",
                field="account",
            )
        if self._paused(spec.account):
            raise JobRejected(
                f"job violates accounting/QOS policy: account {spec.account} is paused "
                "(QOSGrpSubmitJobsLimit)",
                field="account",
            )
        return partition, base

    def _enqueue(self, job_id: str, data: dict[str, Any], at_s: int) -> None:
        """A portal job: it arrives now, and is queued (maybe started) at once."""
        self.engine.submit(self._register(job_id, data, at_s))
        self.engine.run_until(at_s)
        self._harvest()

    def _register(self, job_id: str, data: dict[str, Any], at_s: int) -> CoreJob:
        limit_s = int(data["limit_min"]) * 60
        wanted = int(data["run_s"])
        partition = str(data["partition"])
        self._meta[job_id] = JobMeta(
            name=str(data["name"]),
            account=str(data["account"]),
            user=str(data["user"]),
            partition=partition,
            time_limit_minutes=int(data["limit_min"]),
            timed_out=wanted > limit_s,
            submit_s=at_s,
        )
        self._next_id = max(self._next_id, int(job_id) + 1)
        return CoreJob(
            job_id,
            submit_s=at_s,
            gpus=int(data["gpus"]),
            run_s=min(wanted, limit_s),
            time_limit_s=limit_s,
            project=str(data["account"]),
            user=str(data["user"]),
            qos=Qos.SCAVENGER if partition == SCAVENGER else Qos.SUBSIDISED,
            partition=str(data["base"]),
        )

    def cancel(self, job_id: str) -> None:
        with self._lock:
            self._sync()
            if job_id not in self._meta:
                raise JobNotFound(f"the virtual cluster knows no job {job_id}", field="job_id")
            if self._meta[job_id].end_s >= 0:
                return
            self._record("cancel", {"job_id": job_id})

    def _cancel(self, job_id: str) -> None:
        try:
            stopped = self.engine.cancel(job_id)
        except NotFound:
            raise JobNotFound(f"the virtual cluster knows no job {job_id}") from None
        self._harvest()
        meta = self._meta[job_id]
        if stopped and meta.end_s < 0:
            meta.end_s = self.engine.now_s
            self._recent.append((meta.end_s, job_id))

    def _at(self, t_s: int) -> datetime:
        return from_epoch_seconds(self.origin_s + t_s)
