"""The discrete-event engine: one cluster, stepped through time, driven by the scheduler.

A heap of ``(time, priority, sequence, …)`` events (after SimPy's ``core.py``): at one instant
completions come first, then arrivals, then wake-ups (reservation and drain boundaries), then
one scheduling pass. Arrivals of a replay are a sorted list merged with the heap, so a million
jobs cost no heap operations to arrive. Deterministic: the same input gives the same results.

The engine is steppable, for the embedded virtual cluster and for capacity planning::

    engine = Engine(ClusterSpec.homogeneous(64, 8), PolicyConfig(order="multifactor"))
    engine.submit(Job("812", submit_s=0, gpus=16, run_s=3600, time_limit_s=7200))
    engine.run_until(600)              # process every instant ≤ 600 s
    engine.pending()                   # [JobStatus(..., reason="waiting: resources, …")]
    engine.running()                   # [JobStatus(..., nodes=("gpu-0000", …))]
    engine.cancel("812")
    engine.take_accounting()           # ended attempts since the last call (sacct)
    engine.run()                       # to the end of the workload
    engine.results()                   # JobResult per job, in submission order

Time is integer seconds; ``origin_s`` maps it to the wall clock for readable reasons only. The
virtual cluster advances it with an injected clock (``run_until(seconds since origin)``).
"""

from __future__ import annotations

import heapq
from bisect import bisect_right
from collections.abc import Callable, Iterable

from computeport.kit.errors import NotFound, ValidationFailed
from computeport.scheduling.decision import CoreJobState, Decision
from computeport.scheduling.inventory import ClusterSpec
from computeport.scheduling.job import Job
from computeport.scheduling.policy import Fifo, PolicyConfig
from computeport.scheduling.quota import ProjectQuota
from computeport.scheduling.reservation import FOREVER, Reservation
from computeport.scheduling.scheduler import Scheduler
from computeport.scheduling.state import ClusterState, JobRun
from computeport.simulator.records import CoreRecord, JobResult, JobStatus

__all__ = ["Engine"]

_COMPLETION = 0
_WAKE = 2


class Engine:
    """A cluster running a scheduling policy over integer-second time.

    Args:
        cluster: the cluster's partitions and nodes.
        policy: queue order, backfill, placement and estimates.
        quotas: per-project budgets and GPU caps (account → quota).
        origin_s: epoch seconds of time 0 (only for readable reasons).
        keep_accounting: keep an :class:`CoreRecord` per ended attempt (off for big
            replays, where only :meth:`results` matter).
        keep_decisions: keep every pass's decisions in :attr:`decisions`.
        indexed: use the per-shape backfill index (``False``: the reference queue scan).
    """

    def __init__(
        self,
        cluster: ClusterSpec,
        policy: PolicyConfig | None = None,
        *,
        quotas: dict[str, ProjectQuota] | None = None,
        origin_s: int = 0,
        keep_accounting: bool = True,
        keep_decisions: bool = False,
        indexed: bool = True,
    ) -> None:
        self.cluster = cluster
        self.policy = policy or PolicyConfig()
        self.state = ClusterState(cluster, self.policy, quotas, origin_s)
        self.scheduler = Scheduler(self.state, indexed=indexed, record=keep_decisions)
        self.keep_accounting = keep_accounting
        self.keep_decisions = keep_decisions
        self.decisions: list[Decision] = []
        self._accounting: list[CoreRecord] = []
        self._heap: list[tuple[int, int, int, int, int]] = []
        self._seq = 0
        self._arr_t: list[int] = []
        self._arr_ix: list[int] = []
        self._arr_next = 0
        self._rank = 0
        self._by_id: dict[str, int] = {}
        self.now_s = 0
        self.passes = 0
        self.finished = 0
        self.rejected = 0
        self.on_instant: Callable[[Engine], None] | None = None
        """Called after each instant (progress bars, live series); keep it cheap."""
        self.direct_starts = True
        """Start an arriving job at once when that is what the pass would do (see
        :meth:`run_until`); ``False``: every arrival goes through the queue (tests)."""

    # -- input -------------------------------------------------------------------------------
    def submit(self, job: Job) -> None:
        """Submit one job; it arrives at ``max(job.submit_s, now)``."""
        self.submit_many((job,))

    def submit_many(self, jobs: Iterable[Job]) -> None:
        """Submit jobs (a replay): they arrive at their submit times, ties in input order."""
        state = self.state
        start_ix = len(state.runs)
        state.new_runs(jobs)
        runs = state.runs
        new = range(start_ix, len(runs))
        if not new:
            return
        by_id = self._by_id
        for ix in new:
            by_id[runs[ix].job.job_id] = ix
        now = self.now_s
        pairs = sorted((max(runs[ix].job.submit_s, now), ix) for ix in new)
        pending_t = self._arr_t[self._arr_next :]
        if not pending_t or pairs[0][0] >= pending_t[-1]:
            self._arr_t.extend(t for t, _ in pairs)
            self._arr_ix.extend(ix for _, ix in pairs)
        else:
            for t, ix in pairs:
                at = bisect_right(self._arr_t, t, lo=self._arr_next)
                self._arr_t.insert(at, t)
                self._arr_ix.insert(at, ix)

    def cancel(self, job_id: str) -> bool:
        """Cancel a job: a pending one leaves the queue, a running one stops now.

        Returns ``False`` when the job had already ended. Raises :class:`NotFound` if unknown.
        """
        run = self._run(job_id)
        now = self.now_s
        if run.state is CoreJobState.FUTURE:
            at = self._arr_ix.index(run.ix, self._arr_next)
            del self._arr_ix[at]
            del self._arr_t[at]
        elif run.state is CoreJobState.PENDING:
            self.state.dequeue(run)
        elif run.state is CoreJobState.RUNNING:
            self.state.stop(run, now, CoreJobState.CANCELLED)
            self._account(run)
        else:
            return False
        run.state = CoreJobState.CANCELLED
        run.reason = "cancelled"
        return True

    def set_quota(self, account: str, quota: ProjectQuota) -> None:
        """Set (or change) a project's budget and GPU cap; held jobs are re-examined."""
        self.state.set_quota(account, quota, self.now_s)

    def add_reservation(self, reservation: Reservation) -> None:
        """Withhold nodes (or pool GPUs) over a window; a drain is ``project=None``."""
        if not 0 <= reservation.partition < len(self.cluster.partitions):
            raise ValidationFailed("no such partition", field="partition")
        self.state.add_reservation(reservation)
        for t in (reservation.start_s, reservation.end_s):
            if self.now_s <= t < FOREVER:
                self._push(t, _WAKE, -1, 0)

    def drain(
        self, nodes: tuple[int, ...], start_s: int, end_s: int = FOREVER, partition: int = 0
    ) -> None:
        """Drain nodes for maintenance from ``start_s`` (running jobs go on)."""
        self.add_reservation(
            Reservation(f"drain-{start_s}", start_s, end_s, nodes, 0, None, partition)
        )

    # -- time --------------------------------------------------------------------------------
    def next_event_s(self) -> int | None:
        """When the next instant is, ``None`` when nothing is left to happen."""
        t: int | None = self._heap[0][0] if self._heap else None
        if self._arr_next < len(self._arr_t):
            a = self._arr_t[self._arr_next]
            t = a if t is None or a < t else t
        return t

    def run(self) -> None:
        """Run until nothing is left to happen."""
        self.run_until(FOREVER)

    def run_until(self, t_s: int) -> None:
        """Process every instant at or before ``t_s``; afterwards ``now_s == t_s`` (if finite)."""
        state = self.state
        runs = state.runs
        heap = self._heap
        arr_t = self._arr_t
        arr_ix = self._arr_ix
        n_arr = len(arr_t)
        scheduler = self.scheduler
        started = scheduler.started
        pop = heapq.heappop
        push = heapq.heappush
        RUNNING = CoreJobState.RUNNING
        FINISHED = CoreJobState.FINISHED
        dirty = state.dirty
        keep_acc = self.keep_accounting
        keep_decisions = self.keep_decisions
        enqueue = state.enqueue
        stop = state.stop
        run_pass = scheduler.run_pass
        queues = state.queues
        pools = state.pools
        # Direct starts: under FIFO (key = arrival rank), an arrival that finds its partition's
        # queue empty and fits now is exactly what the pass's strict phase would start next,
        # in the same order and on the same nodes (best fit, no reservations); starting it
        # here saves a trip through the queue. Quotas (holds), reservations (excluded nodes)
        # and recorded decisions keep the full path. The partition is still marked dirty, so
        # the pass (and the pass count) is unchanged.
        direct = self.direct_starts and isinstance(state.order, Fifo) and not scheduler.record
        launch = state.launch
        # one partition and a static order (no periodic re-keying inside the pass)
        lone_static = len(queues) == 1 and not state.order.dynamic
        queue0 = queues[0] if lone_static else None
        heads = state.heads
        p = self._arr_next
        if True in dirty and self.now_s <= t_s and (p >= n_arr or arr_t[p] > self.now_s):
            # a change made between instants (set_quota, cancel, a reservation): pass now
            scheduler.run_pass(self.now_s)
            for run in started:
                self._push(run.end, _COMPLETION, run.ix, run.attempts)
            started.clear()
            self._wake_when_asked()
        while True:
            if heap:
                t = heap[0][0]
                if p < n_arr and arr_t[p] < t:
                    t = arr_t[p]
            elif p < n_arr:
                t = arr_t[p]
            else:
                break
            if t > t_s:
                break
            self.now_s = t
            # 1. completions
            if heap and heap[0][0] == t:
                while heap and heap[0][0] == t and heap[0][1] == _COMPLETION:
                    _, _, _, ix, attempt = pop(heap)
                    run = runs[ix]
                    if run.state is RUNNING and run.attempts == attempt:
                        stop(run, t, FINISHED)
                        self.finished += 1
                        if keep_acc:
                            self._account(run)
            # 2. arrivals
            if p < n_arr and arr_t[p] == t:
                rank = self._rank
                while p < n_arr and arr_t[p] == t:
                    run = runs[arr_ix[p]]
                    p += 1
                    if run.part < 0:
                        run.state = CoreJobState.REJECTED
                        run.reason = self._rejection(run)
                        self.rejected += 1
                        continue
                    run.rank = rank
                    rank += 1
                    part = run.part
                    if (
                        direct
                        and not queues[part].entries
                        and not state.quotas
                        and not state.reservations
                    ):
                        nodes = pools[part].best_fit(run.g, run.k)
                        if nodes is not None:
                            run.key = run.rank
                            launch(run, nodes, t)
                            started.append(run)
                            dirty[part] = True
                            continue
                    enqueue(run, t)
                self._rank = rank
            # 3. wake-ups
            while heap and heap[0][0] == t:
                pop(heap)
                for part in range(len(dirty)):
                    dirty[part] = True
            self._arr_next = p
            # 4. one pass
            if True in dirty:
                self.passes += 1
                if queue0 is not None and not queue0.entries:
                    # the pass over an empty queue, inlined: it only forgets the blocked head
                    dirty[0] = False
                    heads[0] = None
                else:
                    decisions = run_pass(t)
                    if keep_decisions:
                        self.decisions.extend(decisions)
                if started:
                    seq = self._seq
                    for run in started:
                        seq += 1
                        push(heap, (run.end, _COMPLETION, seq, run.ix, run.attempts))
                    self._seq = seq
                    started.clear()
                if scheduler.wake_s >= 0:
                    self._wake_when_asked()
            if self.on_instant is not None:
                self.on_instant(self)
            n_arr = len(arr_t)
        self._arr_next = p
        if t_s < FOREVER and t_s > self.now_s:
            self.now_s = t_s

    def _wake_when_asked(self) -> None:
        """A pass that skipped a backfill plan (``bf_interval``) asked to be woken when due."""
        scheduler = self.scheduler
        if scheduler.wake_s >= 0:
            self._push(scheduler.wake_s, _WAKE, -1, 0)
            scheduler.wake_s = -1

    def _push(self, t: int, kind: int, ix: int, attempt: int) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (t, kind, self._seq, ix, attempt))

    # -- reading -----------------------------------------------------------------------------
    def _run(self, job_id: str) -> JobRun:
        ix = self._by_id.get(job_id)
        if ix is None:
            raise NotFound(f"no job {job_id!r}", field="job_id")
        return self.state.runs[ix]

    def _rejection(self, run: JobRun) -> str:
        job = run.job
        if self.cluster.route(job.partition, job.gpu_type) is None:
            return f"rejected: no partition for {job.partition or job.gpu_type}"
        return "rejected: larger than the cluster"

    def _nodes(self, run: JobRun) -> tuple[str, ...]:
        if run.part < 0 or not run.nodes:
            return ()
        name = self.cluster.partitions[run.part].name
        return tuple(f"{name}-{n:04d}" for n in run.nodes)

    def status(self, job_id: str) -> JobStatus:
        """The live view of one job."""
        return self._status(self._run(job_id))

    def _status(self, run: JobRun) -> JobStatus:
        running = run.state is CoreJobState.RUNNING
        reason = self.state.waiting_reason(run) if run.state is CoreJobState.PENDING else run.reason
        part = self.cluster.partitions[run.part].name if run.part >= 0 else ""
        return JobStatus(
            job_id=run.job.job_id,
            state=run.state,
            reason=reason,
            submit_s=run.job.submit_s,
            gpus=run.job.gpus,
            partition=part,
            start_s=run.start if run.start >= 0 else None,
            expected_end_s=run.est_end if running else None,
            nodes=self._nodes(run) if running else (),
            attempts=run.attempts,
        )

    def running(self) -> list[JobStatus]:
        """Running jobs, by start time."""
        state = self.state
        runs = [state.runs[ix] for part in state.running for _, ix in part]
        runs.sort(key=lambda r: (r.start, r.ix))
        return [self._status(r) for r in runs]

    def pending(self) -> list[JobStatus]:
        """Pending jobs in queue order (held jobs last), each with the reason it waits."""
        out: list[JobStatus] = []
        for queue in self.state.queues:
            for entry in queue:
                assert isinstance(entry, JobRun)
                out.append(self._status(entry))
        for held in self.state.held.values():
            out.extend(self._status(r) for r in sorted(held, key=lambda r: r.rank))
        return out

    def _account(self, run: JobRun) -> None:
        if not self.keep_accounting:
            return
        job = run.job
        part = self.cluster.partitions[run.part]
        self._accounting.append(
            CoreRecord(
                job_id=job.job_id,
                org=job.org,
                project=job.project,
                user=job.user,
                qos=str(job.qos),
                partition=part.name,
                gpu_type=part.node_type.accelerator,
                gpus=job.gpus,
                nodes=self._nodes(run),
                submit_s=job.submit_s,
                start_s=run.start,
                end_s=run.end,
                state=run.state,
            )
        )

    def take_accounting(self) -> list[CoreRecord]:
        """Ended attempts since the last call (finished, preempted, cancelled)."""
        out, self._accounting = self._accounting, []
        return out

    @property
    def busy_gpus(self) -> int:
        """GPUs held by running jobs now (gangs hold whole nodes)."""
        return self.state.busy_gpus

    @property
    def queued(self) -> int:
        """Jobs waiting now (in queues or held by quotas)."""
        return sum(len(q) for q in self.state.queues) + sum(
            len(h) for h in self.state.held.values()
        )

    @property
    def preemptions(self) -> int:
        return self.state.preemptions

    def starts(self) -> list[int]:
        """When each submitted job started (−1: not started), in submission order.

        The start :meth:`results` reports (``None`` there is −1 here), without building a
        result and a waiting reason per job: capacity planning reads only starts, on tens of
        thousands of jobs per simulated month.
        """
        started = (CoreJobState.FINISHED, CoreJobState.RUNNING, CoreJobState.CANCELLED)
        return [r.start if r.start >= 0 and r.state in started else -1 for r in self.state.runs]

    def results(self) -> list[JobResult]:
        """One result per submitted job, in submission order."""
        out: list[JobResult] = []
        append = out.append
        finished = CoreJobState.FINISHED
        for run in self.state.runs:
            job = run.job
            state = run.state
            if state is finished:
                start: int | None = run.start
                end: int | None = run.end
                reason = run.reason
            else:
                started = run.start >= 0 and state in (CoreJobState.RUNNING, CoreJobState.CANCELLED)
                start = run.start if started else None
                end = run.end if started and state is CoreJobState.CANCELLED else None
                pending = state is CoreJobState.PENDING
                reason = self.state.waiting_reason(run) if pending else run.reason
            append(
                JobResult(
                    job.job_id,
                    job.submit_s,
                    start,
                    end,
                    job.gpus,
                    job.run_s,
                    state,
                    reason,
                    job.group,
                    job.qos.value,
                    run.attempts,
                    run.lost_gpu_s,
                )
            )
        return out
