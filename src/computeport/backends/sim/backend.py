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

Differences a user may notice, all documented: the batch script is not executed (the job runs
for ``expected_run_seconds``, else half its time limit; past its limit it ends ``TIMEOUT``), and
a job needs at least one GPU.
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections import deque
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from computeport.backends.errors import JobNotFound, JobRejected
from computeport.backends.plan import AWARD_DESCRIPTION, plan_changes
from computeport.backends.sim.accounts import SimAccountBook
from computeport.backends.sim.inventory import SCAVENGER, SimInventory
from computeport.backends.sim.journal import Event, Journal, MemoryJournal
from computeport.backends.sim.reasons import job_state, slurm_reason
from computeport.backends.sim.workload import (
    BackgroundConfig,
    BackgroundStream,
    Candidate,
    choose_account,
)
from computeport.backends.types.accounting import AccountingRecord
from computeport.backends.types.changes import ProvisioningPlan
from computeport.backends.types.desired import DesiredState, ReservedCapacity
from computeport.backends.types.inventory import NodeInfo, NodeState, PartitionInfo
from computeport.backends.types.jobs import JobInfo, JobSpec, JobState, PendingReason
from computeport.kit.clock import Clock, from_epoch_seconds, to_epoch_seconds
from computeport.kit.errors import NotFound
from computeport.kit.units import UNLIMITED, Quota
from computeport.scheduling import Action, Placement, PolicyConfig, ProjectQuota, Qos, Reservation
from computeport.scheduling import Job as CoreJob
from computeport.scheduling import JobState as CoreState
from computeport.simulator import CoreRecord, Engine, JobStatus

__all__ = ["SimBackend"]

CHUNK_S = 3600
"""Background arrivals are charged to awards an hour at a time (see ``_background_chunk``)."""
RECENT_S = 300
"""How long a finished job stays in ``jobs()`` (Slurm's MinJobAge default)."""
_CLOSED = ProjectQuota(Quota.of(0), Quota.of(0))


@dataclass(slots=True)
class _Meta:
    """What the engine's job does not carry: the Slurm-facing facts of one job."""

    name: str
    account: str
    user: str
    partition: str
    time_limit_minutes: int
    timed_out: bool
    submit_s: int
    end_s: int = -1


class SimBackend:
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
        self.engine = Engine(
            inventory.spec,
            policy,
            origin_s=self.origin_s,
            quotas={},
            keep_decisions=True,  # preemptions are read from the decisions (see _harvest)
        )
        self.book = SimAccountBook()
        self._quotas: dict[str, ProjectQuota] = {}
        self._awardees: list[tuple[str, tuple[str, ...], int]] = []
        self._meta: dict[str, _Meta] = {}
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

    # ----------------------------------------------------------------------- provisioning
    def plan(self, desired: DesiredState) -> ProvisioningPlan:
        with self._lock:
            return plan_changes(desired, self.book.actual())

    def apply(self, plan: ProvisioningPlan) -> None:
        with self._lock:
            self._sync()
            book = SimAccountBook.from_json(self.book.to_json())
            for change in plan.changes:
                book.apply(change)
            self._record("provision", {"book": book.to_json()})

    def _book_after(self, desired: DesiredState) -> SimAccountBook:
        book = SimAccountBook.from_json(self.book.to_json())
        for change in plan_changes(desired, book.actual()).changes:
            book.apply(change)
        return book

    def _refresh_quotas(self) -> None:
        wanted: dict[str, ProjectQuota] = {}
        for name in self.book.accounts:
            limits = self.book.limits_of(name)
            if limits is None:
                continue
            if limits.paused:
                cap = Quota.of(0)
            else:
                cap = UNLIMITED if limits.gpu_cap is None else Quota.of(limits.gpu_cap)
            wanted[name] = ProjectQuota(Quota.of(limits.gpu_minutes * 60), cap)
        for name in self._quotas.keys() - wanted.keys():
            wanted[name] = _CLOSED  # a removed account's queued jobs never start
        for name, quota in sorted(wanted.items()):
            if self._quotas.get(name) != quota:
                self.engine.set_quota(name, quota)
        self._quotas = wanted
        self._awardees = self._list_awardees()
        self._refresh_reservations()

    def _refresh_reservations(self) -> None:
        """Make the scheduling core's reservations match the book's (by name)."""
        wanted = self.book.reservations
        held = self._core_reservations
        for name in sorted(held):
            if wanted.get(name) != held[name][0]:
                self.engine.state.remove_reservation(name)
                del held[name]
        for name, resv in sorted(wanted.items()):
            if name in held:
                continue
            core = self._core_reservation(resv)
            if core is not None:
                self.engine.add_reservation(core)
                held[name] = (resv, core)

    def _core_reservation(self, resv: ReservedCapacity) -> Reservation | None:
        base = self.inventory.base_of(resv.partition)
        if base is None:  # booking refuses unknown partitions; nothing to withhold here
            return None
        names = [p.name for p in self.inventory.spec.partitions]
        part_ix = names.index(base)
        part = self.inventory.spec.partitions[part_ix]
        start_s = to_epoch_seconds(resv.start) - self.origin_s
        end_s = to_epoch_seconds(resv.end) - self.origin_s
        if end_s <= self.engine.now_s:
            return None
        count = min(resv.node_count, part.node_count)
        if self._placement is Placement.POOL:
            gpus = count * part.node_type.gpus_per_node
            return Reservation(resv.name, start_s, end_s, (), gpus, resv.account, part_ix)
        taken = {
            n
            for _, core in self._core_reservations.values()
            if core.partition == part_ix and core.overlaps(start_s, end_s)
            for n in core.nodes
        }
        order = list(range(part.node_count - 1, -1, -1))
        free = [n for n in order if n not in taken]
        chosen = (free + [n for n in order if n in taken])[:count]
        return Reservation(
            resv.name, start_s, end_s, tuple(sorted(chosen)), 0, resv.account, part_ix
        )

    def _paused(self, account: str) -> bool:
        limits = self.book.limits_of(account)
        return limits is not None and limits.paused

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
        self._meta[job_id] = _Meta(
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

    def _background_chunk(self, start_s: int, end_s: int) -> None:
        """Charge the background arrivals of [start, end) to awards, as of ``start``.

        Deciding a whole hour at its start (rooms shrink as jobs are assigned) keeps the
        engine running in long strides; live and replay both decide at the same boundaries,
        so they agree.
        """
        stream = self._stream
        assert stream is not None
        candidates = self._candidates()
        largest = self.inventory.partition(self.inventory.default).gpus
        batch: list[CoreJob] = []
        while stream.peek_s() < end_s:
            job = stream.pop()
            draw = stream.rng.random()
            need = job.gpus * job.time_limit_s
            pick = choose_account(candidates, need, draw) if job.gpus <= largest else None
            if pick is None:
                self.background_dropped += 1
                continue
            chosen = candidates[pick]
            candidates[pick] = replace(chosen, room_gpu_s=chosen.room_gpu_s - need)
            data = {
                "account": chosen.account,
                "user": chosen.users[int(draw * 1_000_003) % len(chosen.users)],
                "name": "train",
                "partition": self.inventory.default,
                "base": self.inventory.default,
                "gpus": job.gpus,
                "limit_min": max(1, -(-job.time_limit_s // 60)),
                "run_s": job.run_s,
            }
            batch.append(self._register(str(self._next_id), data, max(job.submit_s, start_s)))
        if batch:
            self.engine.submit_many(batch)

    def _candidates(self) -> list[Candidate]:
        use = self.engine.state.quota_use
        return [
            Candidate(name, users, budget, budget - use(name).committed_gpu_s)
            for name, users, budget in self._awardees
        ]

    def _list_awardees(self) -> list[tuple[str, tuple[str, ...], int]]:
        """Active award accounts with members: who background jobs may be charged to."""
        users: dict[str, list[str]] = {}
        for account, user in sorted(self.book.members):
            users.setdefault(account, []).append(user)
        out: list[tuple[str, tuple[str, ...], int]] = []
        for name, row in sorted(self.book.accounts.items()):
            limits = self.book.limits_of(name)
            if row.description != AWARD_DESCRIPTION or limits is None or limits.paused:
                continue
            if users.get(name):
                out.append((name, tuple(users[name]), limits.gpu_minutes * 60))
        return out

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

    def jobs(self, *, account: str | None = None) -> list[JobInfo]:
        with self._lock:
            self._sync()
            engine = self.engine
            statuses = engine.pending() + self._running()
            horizon = engine.now_s - self.recent_s
            while self._recent and self._recent[0][0] < horizon:
                self._recent.popleft()
            seen = {s.job_id for s in statuses}
            statuses += [engine.status(jid) for _, jid in self._recent if jid not in seen]
            out = [self._info(s) for s in statuses]
            out.sort(key=lambda j: int(j.job_id))
            return [j for j in out if account is None or j.account == account]

    def job(self, job_id: str) -> JobInfo:
        with self._lock:
            self._sync()
            if job_id not in self._meta:
                raise JobNotFound(f"the virtual cluster knows no job {job_id}", field="job_id")
            return self._info(self.engine.status(job_id))

    def _info(self, status: JobStatus) -> JobInfo:
        meta = self._meta[status.job_id]
        state = job_state(status.state, timed_out=meta.timed_out)
        if state is JobState.PENDING:
            raw, reason = slurm_reason(status.reason, paused=self._paused(meta.account))
        else:
            raw, reason = "None", PendingReason.NONE
        start = None if status.start_s is None else self._at(status.start_s)
        end = None
        if state.finished and meta.end_s >= 0:
            end = self._at(meta.end_s)
        accel = self._accelerators[meta.partition]
        return JobInfo(
            job_id=status.job_id,
            name=meta.name,
            account=meta.account,
            user=meta.user,
            partition=meta.partition,
            state=state,
            reason=raw,
            pending_reason=reason,
            gpus=status.gpus,
            gpu_type=accel,
            submit_time=self._at(meta.submit_s),
            start_time=start,
            end_time=end,
            time_limit_minutes=meta.time_limit_minutes,
            nodes=status.nodes,
            exit_code=0 if state is JobState.COMPLETED else None,
        )

    def _at(self, t_s: int) -> datetime:
        return from_epoch_seconds(self.origin_s + t_s)

    # -------------------------------------------------------------------------- inventory
    def _version(self) -> tuple[int, ...]:
        engine = self.engine
        return (engine.now_s, engine.passes, engine.finished, len(self._records), self._events)

    def _running(self) -> list[JobStatus]:
        """Running jobs, from the state's per-partition running lists, once per instant.

        (``Engine.running()`` scans every job ever submitted, which grows with the history;
        the portal reads jobs, nodes and partitions together, so the view is kept until the
        cluster changes.)
        """
        version = self._version()
        if self._running_view is None or self._running_view[0] != version:
            state = self.engine.state
            runs = [state.runs[ix] for part in state.running for _, ix in part]
            runs.sort(key=lambda r: (r.start, r.ix))
            statuses = [self.engine.status(r.job.job_id) for r in runs]
            self._running_view = (version, statuses)
        return self._running_view[1]

    def _node_use(self) -> dict[str, int]:
        used: dict[str, int] = {}
        for status in self._running():
            part = self.inventory.partition(status.partition)
            per_node = part.node_type.gpus_per_node
            share = status.gpus if len(status.nodes) == 1 else per_node
            for node in status.nodes:
                used[node] = used.get(node, 0) + min(share, per_node)
        return used

    def nodes(self) -> list[NodeInfo]:
        with self._lock:
            self._sync()
            used = self._node_use()
            overlays = {b: o for o, b in self.inventory.overlays.items()}
            out: list[NodeInfo] = []
            for part in self.inventory.spec.partitions:
                names = (part.name, *(o for b, o in overlays.items() if b == part.name))
                node_type = part.node_type
                for node in part.nodes():
                    busy = used.get(node.name, 0)
                    if busy == 0:
                        state = NodeState.IDLE
                    elif busy < node_type.gpus_per_node:
                        state = NodeState.MIXED
                    else:
                        state = NodeState.ALLOCATED
                    out.append(
                        NodeInfo(
                            name=node.name,
                            state=state,
                            raw_state=state.value,
                            partitions=names,
                            gpus=node_type.gpus_per_node,
                            gpus_used=busy,
                            gpu_type=node_type.accelerator.lower(),
                            cpus=node_type.cpu_cores,
                        )
                    )
            return out

    def partitions(self) -> list[PartitionInfo]:
        with self._lock:
            self._sync()
            used = self._node_use()
            out: list[PartitionInfo] = []
            for name in self.inventory.partition_names():
                base = self.inventory.base_of(name)
                assert base is not None
                part = self.inventory.partition(base)
                nodes = tuple(n.name for n in part.nodes())
                out.append(
                    PartitionInfo(
                        name=name,
                        up=True,
                        default=name == self.inventory.default,
                        nodes=nodes,
                        gpus=part.gpus,
                        gpus_used=sum(used.get(n, 0) for n in nodes),
                        gpu_types=(part.node_type.accelerator.lower(),),
                    )
                )
            return out

    # ------------------------------------------------------------------------- accounting
    def _add_record(self, rec: CoreRecord) -> None:
        meta = self._meta[rec.job_id]
        if rec.state is CoreState.PENDING:  # preempted: the attempt ends, the job requeues
            if (rec.job_id, rec.end_s) in self._preempted:
                return
            self._preempted.add((rec.job_id, rec.end_s))
            state = JobState.PREEMPTED
        else:
            state = job_state(rec.state, timed_out=meta.timed_out)
            meta.end_s = rec.end_s
            self._recent.append((rec.end_s, rec.job_id))
        submit_s = self._requeued_at.get(rec.job_id, rec.submit_s)
        if state is JobState.PREEMPTED:
            self._requeued_at[rec.job_id] = rec.end_s  # Slurm gives a requeue a new submit time
        elapsed = rec.end_s - rec.start_s
        self._records.append(
            AccountingRecord(
                cluster=self.cluster,
                job_id=rec.job_id,
                submit_time=self._at(submit_s),
                account=meta.account,
                user=meta.user,
                partition=meta.partition,
                gpus=rec.gpus,
                gpu_type=rec.gpu_type.lower(),
                start_time=self._at(rec.start_s),
                end_time=self._at(rec.end_s),
                state=state,
                exit_code=0,
                elapsed_seconds=elapsed,
                gpu_seconds=rec.gpus * elapsed,
                name=meta.name,
                qos=meta.account,
            )
        )
        self._record_ends.append(rec.end_s)

    def accounting(self, since: datetime, until: datetime) -> list[AccountingRecord]:
        with self._lock:
            self._sync()
            lo = bisect_left(self._record_ends, to_epoch_seconds(since) - self.origin_s)
            hi = bisect_left(self._record_ends, to_epoch_seconds(until) - self.origin_s)
            out = [r for r in self._records[lo:hi] if since <= r.end_time < until]
            out.sort(key=lambda r: (r.end_time, int(r.job_id)))
            return out

    # ----------------------------------------------------------------------------- journal
    def _record(self, kind: str, data: dict[str, Any]) -> None:
        """Do one outside action now and journal it (the journal first: replay must agree)."""
        event = Event(self.engine.now_s, kind, data)
        if not self._replaying:
            self.journal.append(self.cluster, event)
        self._apply_event(event)

    def _apply_event(self, event: Event) -> None:
        self._events += 1
        if event.kind == "provision":
            self.book = SimAccountBook.from_json(event.data["book"])
            self._refresh_quotas()
        elif event.kind == "submit":
            self._enqueue(str(event.data["job_id"]), event.data, event.t_s)
        elif event.kind == "cancel":
            self._cancel(str(event.data["job_id"]))

    def _replay(self, events: list[Event], position_s: int) -> None:
        self._replaying = True
        try:
            for event in events:
                if not event.data.get("initial"):  # the initial state precedes time itself
                    self._advance_to(event.t_s)
                self._apply_event(event)
            self._advance_to(max(position_s, self.engine.now_s))
        finally:
            self._replaying = False

    # ------------------------------------------------------------------------------- views
    @property
    def busy_gpus(self) -> int:
        return self.engine.busy_gpus

    def utilisation(self) -> float:
        """GPUs in use now over all GPUs."""
        with self._lock:
            self._sync()
            return self.engine.busy_gpus / self.inventory.spec.gpus
