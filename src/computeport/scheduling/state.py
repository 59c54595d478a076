"""The cluster state a scheduling pass works on: pools, queues, running jobs, quota use.

The engine owns one :class:`ClusterState` and changes it only through its methods (start,
finish, preempt, cancel, enqueue); a pass (:class:`computeport.scheduling.Scheduler`) reads it
as the snapshot of one instant and decides. Everything is integer seconds and integer GPUs.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterable
from typing import cast

from computeport.scheduling.decision import CoreJobState, format_instant
from computeport.scheduling.fairshare import DecayedUsage
from computeport.scheduling.inventory import ClusterSpec
from computeport.scheduling.job import Estimates, Job, Qos, estimate_s
from computeport.scheduling.policy import Placement, PolicyConfig, QueueOrder, make_order
from computeport.scheduling.pools import GpuPool, NodePool
from computeport.scheduling.queue import PendingQueue, QueueEntry
from computeport.scheduling.quota import ProjectQuota, QuotaUse
from computeport.scheduling.reservation import FOREVER, Reservation

__all__ = ["ClusterState", "JobRun"]

# Enum members as module constants: ``Qos.SCAVENGER`` is a descriptor lookup on every access
# in Python 3.11, and these are read once per job event.
_FUTURE = CoreJobState.FUTURE
_PENDING = CoreJobState.PENDING
_RUNNING = CoreJobState.RUNNING
_SCAVENGER = Qos.SCAVENGER


class JobRun(QueueEntry):
    """The engine's mutable record of one job (its queue entry while pending)."""

    __slots__ = (
        "attempts",
        "charged",
        "end",
        "est_end",
        "ix",
        "job",
        "lost_gpu_s",
        "nodes",
        "part",
        "rank",
        "reason",
        "start",
        "state",
    )

    def __init__(self, ix: int, job: Job, rank: int, part: int, g: int, k: int, est: int) -> None:
        # QueueEntry's fields set here, not through super().__init__: one call fewer per job
        self.key = 0
        self.g = g
        self.k = k
        self.est = est
        self.ix = ix
        self.job = job
        self.rank = rank
        self.part = part
        self.state = _FUTURE
        self.start = -1
        self.end = -1
        self.est_end = -1
        self.nodes: tuple[int, ...] = ()
        self.attempts = 0
        self.charged = -1
        """Until when fair share has charged this job's current attempt."""
        self.lost_gpu_s = 0
        self.reason = ""


class ClusterState:
    """Pools, pending queues, running jobs, quota use and reservations of one cluster."""

    def __init__(
        self,
        spec: ClusterSpec,
        policy: PolicyConfig,
        quotas: dict[str, ProjectQuota] | None = None,
        origin_s: int = 0,
    ) -> None:
        self.spec = spec
        self.policy = policy
        self.origin_s = origin_s
        self.node_placement = policy.placement is Placement.NODE
        self.pools: list[NodePool | GpuPool] = [
            NodePool(p.node_count, p.node_type.gpus_per_node)
            if self.node_placement
            else GpuPool(p.gpus)
            for p in spec.partitions
        ]
        self.queues = [PendingQueue() for _ in spec.partitions]
        self.running: list[list[tuple[int, int]]] = [[] for _ in spec.partitions]
        self.scavengers: list[dict[int, JobRun]] = [{} for _ in spec.partitions]
        self.runs: list[JobRun] = []
        self.quotas: dict[str, ProjectQuota] = dict(quotas or {})
        self.use: dict[str, QuotaUse] = {}
        self.held: dict[str, list[JobRun]] = {}
        self.reservations: list[Reservation] = []
        self.usage = DecayedUsage(policy.weights.half_life_s, dict(policy.shares))
        self.order: QueueOrder = make_order(policy, self.usage, spec.gpus)
        self.dirty = [False] * len(spec.partitions)
        self.last_recalc_s = 0
        self.busy_gpus = 0
        self.preemptions = 0
        self.heads: list[tuple[int, int, int] | None] = [None] * len(spec.partitions)
        """Per partition, the blocked head of the last pass, its shadow time (−1: not worked
        out, the pass had no use for it) and the pass's time (EASY)."""

    # -- admission ---------------------------------------------------------------------------
    def new_run(self, job: Job, rank: int) -> JobRun:
        """Register a job; its partition is ``-1`` when no partition can ever run it."""
        part = self.spec.route(job.partition, job.gpu_type)
        est = estimate_s(job, self.policy.estimates)
        if part is None:
            run = JobRun(len(self.runs), job, rank, -1, job.gpus, 0, est)
        else:
            pool = self.pools[part]
            g, k = pool.shape(job.gpus, job.nodes)
            run = JobRun(len(self.runs), job, rank, part, g, k, est)
            if not pool.capacity_for(g, k):
                run.part = -1
        self.runs.append(run)
        return run

    def new_runs(self, jobs: Iterable[Job]) -> None:
        """Register many jobs (a replay) exactly as :meth:`new_run` does, one by one.

        The route and shape of each distinct request are worked out once: a replay repeats a
        handful of them over tens of thousands of jobs (capacity planning registers every
        simulated month's jobs this way).
        """
        runs = self.runs
        pools = self.pools
        route = self.spec.route
        limit = self.policy.estimates is Estimates.LIMIT
        routes: dict[tuple[str | None, str | None], int | None] = {}
        shapes: dict[tuple[int, int, int], tuple[int, int, int]] = {}
        for job in jobs:
            where = (job.partition, job.gpu_type)
            if where in routes:
                part = routes[where]
            else:
                part = routes[where] = route(*where)
            est = job.time_limit_s if limit and job.time_limit_s > 0 else max(1, job.run_s)
            if part is None:
                runs.append(JobRun(len(runs), job, 0, -1, job.gpus, 0, est))
                continue
            request = (part, job.gpus, job.nodes)
            shape = shapes.get(request)
            if shape is None:
                pool = pools[part]
                g, k = pool.shape(job.gpus, job.nodes)
                shape = shapes[request] = (g, k, part if pool.capacity_for(g, k) else -1)
            runs.append(JobRun(len(runs), job, 0, shape[2], shape[0], shape[1], est))

    def enqueue(self, run: JobRun, now_s: int) -> None:
        """Put a job in its partition's queue (arrival or requeue)."""
        run.state = _PENDING
        run.key = self.order.key(run.job, run.est, run.rank, now_s)
        run.reason = ""
        quota = self.quotas.get(run.job.account)
        if quota is not None:
            blocked = self.quota_block(run, quota)
            if blocked:
                self.hold(run, blocked)
                return
        self.queues[run.part].add(run)
        self.dirty[run.part] = True

    # -- quotas ------------------------------------------------------------------------------
    def quota_use(self, account: str) -> QuotaUse:
        use = self.use.get(account)
        if use is None:
            use = self.use[account] = QuotaUse()
        return use

    def quota_block(self, run: JobRun, quota: ProjectQuota) -> str:
        """``""`` if the job may start under its project's quota, else the waiting reason."""
        use = self.quota_use(run.job.account)
        if not quota.budget_gpu_s.allows(use.committed_gpu_s + run.g * run.est):
            return "waiting: budget"
        if not quota.gpu_cap.allows(use.gpus_in_use + run.g):
            return "waiting: GPU cap"
        return ""

    def hold(self, run: JobRun, reason: str) -> None:
        """Take a job out of the queue until its project's use changes."""
        run.reason = reason
        self.held.setdefault(run.job.account, []).append(run)

    def set_quota(self, account: str, quota: ProjectQuota, now_s: int) -> None:
        self.quotas[account] = quota
        self._release_held(account, now_s)

    def _release_held(self, account: str, now_s: int) -> None:
        runs = self.held.pop(account, None)
        if runs:
            for run in sorted(runs, key=lambda r: r.rank):
                self.enqueue(run, now_s)

    # -- running -----------------------------------------------------------------------------
    def start(self, run: JobRun, nodes: tuple[int, ...], now_s: int) -> None:
        """Start a pending job on ``nodes`` (it leaves its queue)."""
        self.queues[run.part].remove(run)
        self.launch(run, nodes, now_s)

    def launch(self, run: JobRun, nodes: tuple[int, ...], now_s: int) -> None:
        """Start a job that is in no queue (the engine's direct start of an arrival)."""
        part = run.part
        pool = self.pools[part]
        est_end = run.est_end = now_s + run.est
        g = run.g
        k = run.k
        ix = run.ix
        pool.allocate(nodes, g, k, ix, est_end)
        self.busy_gpus += pool.held(g, k)
        job = run.job
        run.state = _RUNNING
        run.nodes = nodes
        run.start = now_s
        run.end = now_s + job.run_s
        run.attempts += 1
        run.reason = ""
        running = self.running[part]
        entry = (est_end, ix)
        if not running or entry > running[-1]:
            running.append(entry)
        else:
            insort(running, entry)
        if job.qos is _SCAVENGER:
            self.scavengers[part][run.ix] = run
        if self.quotas:
            use = self.quota_use(job.account)
            use.reserved_gpu_s += run.g * run.est
            use.gpus_in_use += run.g

    def stop(self, run: JobRun, now_s: int, state: CoreJobState) -> None:
        """End the running attempt of a job (finished, preempted or cancelled)."""
        part = run.part
        pool = self.pools[part]
        g = run.g
        k = run.k
        ix = run.ix
        pool.release(run.nodes, g, k, ix)
        self.busy_gpus -= pool.held(g, k)
        running = self.running[part]
        entry = (run.est_end, ix)
        if running[0] == entry:
            del running[0]
        else:
            del running[bisect_left(running, entry)]
        job = run.job
        if job.qos is _SCAVENGER:
            del self.scavengers[part][run.ix]
        run.state = state
        run.end = now_s
        used = run.g * (now_s - run.start)
        if self.order.dynamic:
            since = run.charged if run.charged > run.start else run.start
            self.usage.decay_to(now_s)
            self.usage.add(job.account, float(run.g * (now_s - since)))
        if self.quotas:
            use = self.quota_use(job.account)
            use.reserved_gpu_s -= run.g * run.est
            use.gpus_in_use -= run.g
            use.used_gpu_s += used
            if job.account in self.held:
                self._release_held(job.account, now_s)
        self.dirty[part] = True

    def preempt(self, run: JobRun, now_s: int, by: JobRun) -> None:
        """Stop a scavenger job for ``by`` and requeue it; its work so far is lost."""
        self.stop(run, now_s, CoreJobState.PENDING)
        run.lost_gpu_s += run.g * (now_s - run.start)
        self.preemptions += 1
        self.enqueue(run, now_s)
        if run.state is CoreJobState.PENDING and not run.reason:
            run.reason = f"preempted by job {by.job.job_id}"

    def dequeue(self, run: JobRun) -> None:
        """Remove a pending job (cancelled) from its queue or from the held list."""
        held = self.held.get(run.job.account)
        if held is not None and run in held:
            held.remove(run)
            return
        self.queues[run.part].remove(run)
        self.dirty[run.part] = True

    # -- reservations ------------------------------------------------------------------------
    def add_reservation(self, reservation: Reservation) -> None:
        self.reservations.append(reservation)
        if 0 <= reservation.partition < len(self.dirty):
            self.dirty[reservation.partition] = True

    def remove_reservation(self, name: str) -> bool:
        """Drop a reservation by name (the virtual cluster's unreserve); True if it was held."""
        kept = [r for r in self.reservations if r.name != name]
        for r in self.reservations:
            if r.name == name and 0 <= r.partition < len(self.dirty):
                self.dirty[r.partition] = True
        removed = len(kept) != len(self.reservations)
        self.reservations = kept
        return removed

    def active_reservations(self, part: int, now_s: int) -> list[Reservation]:
        """Reservations of a partition that are not over yet (pruning the ended ones)."""
        if not self.reservations:
            return []
        self.reservations = [r for r in self.reservations if r.end_s > now_s]
        return [r for r in self.reservations if r.partition == part]

    def excluded_nodes(
        self, reservations: Iterable[Reservation], account: str, start_s: int, end_s: int
    ) -> frozenset[int]:
        nodes: set[int] = set()
        for r in reservations:
            if r.overlaps(start_s, end_s) and not r.admits(account):
                nodes.update(r.nodes)
        return frozenset(nodes)

    def withheld_gpus(
        self, reservations: Iterable[Reservation], account: str, start_s: int, end_s: int
    ) -> int:
        return sum(
            r.gpus for r in reservations if r.overlaps(start_s, end_s) and not r.admits(account)
        )

    # -- dynamic order ----------------------------------------------------------------------
    def recalculate_priorities(self, now_s: int) -> None:
        """Re-key every pending job (multifactor's periodic recalculation)."""
        self.last_recalc_s = now_s
        order = self.order
        if self.order.dynamic:
            # running jobs are charged as they go (as Slurm does), not only when they end
            self.usage.decay_to(now_s)
            runs = self.runs
            for running in self.running:
                for _, ix in running:
                    run = runs[ix]
                    since = run.charged if run.charged > run.start else run.start
                    self.usage.add(run.job.account, float(run.g * (now_s - since)))
                    run.charged = now_s
        for part, queue in enumerate(self.queues):
            if not len(queue):
                continue
            key = order.key
            new_keys = {
                old: key(run.job, run.est, run.rank, now_s)
                for old, run in cast(dict[int, JobRun], queue.entries).items()
            }
            queue.rekey(new_keys)
            self.dirty[part] = True

    def shadow_of(self, run: JobRun, now_s: int) -> int | None:
        """When a blocked job could start if running jobs end at their estimates."""
        pool = self.pools[run.part]
        reservations = self.active_reservations(run.part, now_s)
        account = run.job.account
        if isinstance(pool, NodePool):
            excluded = self.excluded_nodes(reservations, account, now_s, 2**62)
            node_plan = pool.plan(run.g, run.k, self.running[run.part], self.runs, now_s, excluded)
            return None if node_plan is None else node_plan[0]
        withheld = self.withheld_gpus(reservations, account, now_s, 2**62)
        pool_plan = pool.plan(run.g, self.running[run.part], self.runs, now_s, withheld)
        return None if pool_plan is None else pool_plan[0]

    # -- reading -----------------------------------------------------------------------------
    def waiting_reason(self, run: JobRun) -> str:
        """The reason a pending job waits, in words a user can read."""
        if run.reason:
            return run.reason
        head = self.heads[run.part] if run.part >= 0 else None
        if head is not None and head[0] == run.ix:
            shadow = head[1] if head[1] >= 0 else self.shadow_of(run, head[2])
            if shadow is None or shadow >= FOREVER:  # only a reservation's end can help
                return "waiting: resources (a reservation or drain)"
            return f"waiting: resources, reserved for {format_instant(shadow, self.origin_s)}"
        if self.queues[run.part].first() is run:
            return "waiting: resources"
        return "waiting: priority"
