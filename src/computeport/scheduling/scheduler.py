"""One scheduling pass, as a readable pipeline over the state of one instant.

For each partition whose state changed since its last pass:

1. **strict** — walk the queue in order: a job its project's quota blocks is *held* (taken out
   of the queue until that project's use changes: "waiting: budget" / "waiting: GPU cap"); a job
   that fits starts (best fit); a scavenger that does not fit is skipped; the first entitled job
   that does not fit is the *head*.
2. **preempt** — if the head would fit after stopping running scavenger jobs, they are stopped
   and requeued ("preempted by job 812"; their work so far is lost) and the head starts; the
   walk goes on.
3. **reserve** (EASY) — the blocked head gets a reservation at the shadow time: the earliest
   time enough GPUs free up with running jobs ending at their estimates. With placement ``node``
   the reservation pins the nodes best fit would give the head then; with ``pool`` it keeps
   the GPUs left over after the head.
4. **backfill** (EASY) — any later job starts now if it fits now and either ends (by its
   estimate) no later than the shadow time, or fits entirely on unpinned nodes (``pool``: needs
   no more than the left-over GPUs, which it then uses up).

With ``conservative`` backfill, steps 3–4 are replaced by
:func:`computeport.scheduling.conservative.conservative_backfill` (a reservation for every job).

Backfill takes the first admissible job in queue order, again and again. Without reservations
it asks the per-shape index of :class:`computeport.scheduling.queue.PendingQueue` instead of
scanning the queue; with reservations or drains it scans the queue (the reference path, also
used by the tests to check the index). Decisions for started, preempted and held jobs are
returned; the reasons of the other waiting jobs are read from the state
(:meth:`ClusterState.waiting_reason`).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Collection

from computeport.scheduling.conservative import conservative_backfill
from computeport.scheduling.decision import Action, Decision
from computeport.scheduling.job import Qos
from computeport.scheduling.policy import Backfill
from computeport.scheduling.pools import GpuPool, NodePool
from computeport.scheduling.queue import PendingQueue
from computeport.scheduling.reservation import FOREVER, Reservation
from computeport.scheduling.state import ClusterState, JobRun

__all__ = ["Scheduler"]

_SCAVENGER = Qos.SCAVENGER
STARTED = "started"
BACKFILLED = "started: backfilled"


class Scheduler:
    """Runs passes over a :class:`ClusterState`; ``started`` collects the jobs each pass starts.

    ``indexed=False`` forces the queue-scanning backfill everywhere (the reference path).
    """

    def __init__(self, state: ClusterState, *, indexed: bool = True, record: bool = True) -> None:
        self.state = state
        self.indexed = indexed
        self.record = record
        """``False``: starts are not returned as decisions (big replays; ``started`` has them)."""
        self.easy = state.policy.backfill is Backfill.EASY
        self.conservative = state.policy.backfill is Backfill.CONSERVATIVE
        self.next_backfill = [0] * len(state.pools)
        """Per partition: the earliest time conservative backfill plans again (bf_interval)."""
        self.wake_s = -1
        """When a plan was skipped for ``bf_interval``: the instant it is due (−1: none); the
        engine wakes then, as Slurm's backfill thread plans on its own timer once anything
        changed since its last plan, not only when the next job ends or arrives."""
        self.started: list[JobRun] = []

    def run_pass(self, now_s: int) -> list[Decision]:
        """One pass at ``now_s`` over every partition whose state changed."""
        state = self.state
        out: list[Decision] = []
        if (
            state.order.dynamic
            and now_s - state.last_recalc_s >= state.policy.weights.recalc_interval_s
        ):
            state.recalculate_priorities(now_s)
        dirty = state.dirty
        if len(dirty) == 1:  # one partition (the common case): no loop
            if dirty[0]:
                dirty[0] = False
                self._pass(0, now_s, out)
            return out
        for part in range(len(dirty)):
            if dirty[part]:
                dirty[part] = False
                self._pass(part, now_s, out)
        return out

    # -- the pipeline ------------------------------------------------------------------------
    def _pass(self, part: int, now: int, out: list[Decision]) -> None:
        state = self.state
        queue = state.queues[part]
        state.heads[part] = None
        if not len(queue):
            return
        reservations = state.active_reservations(part, now) if state.reservations else []
        head = self._strict(part, queue, reservations, now, out)
        if head is not None and self.conservative:
            state.heads[part] = (head.ix, -1, now)
            due = self.next_backfill[part]
            if now >= due:
                self.next_backfill[part] = now + state.policy.backfill_interval_s
                conservative_backfill(self, part, queue, reservations, now, out)
            elif self.wake_s < 0 or due < self.wake_s:
                self.wake_s = due
            return
        if head is None or not self.easy:
            return
        pool = state.pools[part]
        state.heads[part] = (head.ix, -1, now)  # shadow worked out only if someone asks
        if pool.free_total == 0:
            return  # nothing could start however the reservation falls
        if isinstance(pool, NodePool):
            maxfree = pool.maxfree()
            whole = len(pool.buckets[pool.G])
            for g, k in queue.shapes:
                if (k <= whole) if k else (g <= maxfree):
                    break
            else:
                return
        else:
            free_total = pool.free_total
            for g, _ in queue.shapes:
                if g <= free_total:
                    break
            else:
                return
        account = head.job.account
        running = state.running[part]
        if isinstance(pool, NodePool):
            excluded = state.excluded_nodes(reservations, account, now, 2**62)
            node_plan = pool.plan(head.g, head.k, running, state.runs, now, excluded)
            # None: only a reservation's end can let the head start; nothing to protect now
            shadow, pinned = node_plan if node_plan is not None else (FOREVER, ())
            state.heads[part] = (head.ix, shadow, now)
            if reservations or not self.indexed:
                self._backfill_scan(part, queue, head, shadow, pinned, 0, reservations, now, out)
            else:
                self._backfill_nodes(part, queue, pool, head, shadow, pinned, now, out)
        else:
            withheld = state.withheld_gpus(reservations, account, now, 2**62)
            pool_plan = pool.plan(head.g, running, state.runs, now, withheld)
            shadow, leftover = pool_plan if pool_plan is not None else (FOREVER, pool.total)
            state.heads[part] = (head.ix, shadow, now)
            if reservations or not self.indexed:
                self._backfill_scan(part, queue, head, shadow, (), leftover, reservations, now, out)
            else:
                self._backfill_pool(part, queue, pool, head, shadow, leftover, now, out)

    def _strict(
        self,
        part: int,
        queue: PendingQueue,
        reservations: list[Reservation],
        now: int,
        out: list[Decision],
    ) -> JobRun | None:
        """Start jobs in order while they fit; return the blocked head (``None``: none)."""
        state = self.state
        pool = state.pools[part]
        quotas = state.quotas
        scavengers = state.scavengers[part]
        entries = queue.entries
        i = queue.lo
        while i < len(queue.keys):
            entry = entries.get(queue.keys[i])
            i += 1
            if entry is None:
                continue  # a job that left the queue
            assert isinstance(entry, JobRun)
            run = entry
            if quotas and self._held(run, queue, now, out):
                continue
            nodes = self._fit(pool, run, reservations, now)
            if nodes is not None:
                self._start(run, nodes, now, STARTED, out)
                continue
            if run.job.qos is _SCAVENGER:
                continue
            if scavengers and self._preempt_for(part, run, reservations, now, out):
                nodes = self._fit(pool, run, reservations, now)
                if nodes is not None:
                    self._start(run, nodes, now, STARTED, out)
                    i = queue.lo  # requeued victims: walk again from the front
                    continue
            return run
        return None

    # -- helpers -----------------------------------------------------------------------------
    def _fit(
        self,
        pool: NodePool | GpuPool,
        run: JobRun,
        reservations: list[Reservation],
        now: int,
        pinned: Collection[int] = (),
    ) -> tuple[int, ...] | None:
        if not reservations:
            return pool.best_fit(run.g, run.k, pinned)
        account = run.job.account
        if isinstance(pool, GpuPool):
            withheld = self.state.withheld_gpus(reservations, account, now, now + run.est)
            return () if run.g <= pool.free_total - withheld else None
        excluded = self.state.excluded_nodes(reservations, account, now, now + run.est)
        return pool.best_fit(run.g, run.k, excluded | frozenset(pinned))

    def _held(self, run: JobRun, queue: PendingQueue, now: int, out: list[Decision]) -> bool:
        state = self.state
        quota = state.quotas.get(run.job.account)
        if quota is None:
            return False
        why = state.quota_block(run, quota)
        if not why:
            return False
        queue.remove(run)
        state.hold(run, why)
        out.append(Decision(run.job.job_id, Action.WAIT, why, now))
        return True

    def _start(
        self, run: JobRun, nodes: tuple[int, ...], now: int, why: str, out: list[Decision]
    ) -> None:
        self.state.start(run, nodes, now)
        self.started.append(run)
        if self.record:
            out.append(Decision(run.job.job_id, Action.START, why, now, nodes))

    # -- backfill ----------------------------------------------------------------------------
    def _backfill_scan(
        self,
        part: int,
        queue: PendingQueue,
        head: JobRun,
        shadow: int,
        pinned: tuple[int, ...],
        leftover: int,
        reservations: list[Reservation],
        now: int,
        out: list[Decision],
    ) -> None:
        """EASY backfill by scanning the queue after the head (the reference path)."""
        state = self.state
        pool = state.pools[part]
        quotas = state.quotas
        keys = queue.keys
        entries = queue.entries
        pos = bisect_left(keys, head.key, queue.lo) + 1
        while pos < len(keys):
            if pool.free_total == 0:
                return
            entry = entries.get(keys[pos])
            pos += 1
            if entry is None:
                continue
            assert isinstance(entry, JobRun)
            run = entry
            if quotas and self._held(run, queue, now, out):
                continue
            ends_in_time = now + run.est <= shadow
            if isinstance(pool, NodePool):
                nodes = self._fit(pool, run, reservations, now, () if ends_in_time else pinned)
            else:
                nodes = self._fit(pool, run, reservations, now)
                if nodes is not None and not ends_in_time:
                    if run.g <= leftover:
                        leftover -= run.g
                    else:
                        nodes = None
            if nodes is None:
                continue
            self._start(run, nodes, now, BACKFILLED, out)

    def _backfill_nodes(
        self,
        part: int,
        queue: PendingQueue,
        pool: NodePool,
        head: JobRun,
        shadow: int,
        pinned: tuple[int, ...],
        now: int,
        out: list[Decision],
    ) -> None:
        """EASY backfill on nodes through the per-shape index (no reservations)."""
        quotas = self.state.quotas
        entries = queue.entries
        shapes = queue.shapes
        window = shadow - now
        while pool.free_total:
            best = -1
            maxfree, whole, maxfree_out, whole_out = pool.caps(pinned)
            for (g, k), cls in shapes.items():
                if k:
                    if k > whole:
                        continue
                    outside = k <= whole_out
                elif g > maxfree:
                    continue
                else:
                    outside = g <= maxfree_out
                if outside:
                    key: int | None = cls.first()
                else:
                    key = cls.first_with_est_at_most(window, entries)
                if key is not None and (best < 0 or key < best) and key != head.key:
                    best = key
            if best < 0:
                return
            run = entries[best]
            assert isinstance(run, JobRun)
            if quotas and self._held(run, queue, now, out):
                continue
            nodes = pool.best_fit(run.g, run.k, () if run.est <= window else pinned)
            assert nodes is not None
            self._start(run, nodes, now, BACKFILLED, out)

    def _backfill_pool(
        self,
        part: int,
        queue: PendingQueue,
        pool: GpuPool,
        head: JobRun,
        shadow: int,
        leftover: int,
        now: int,
        out: list[Decision],
    ) -> None:
        """EASY backfill on a GPU pool through the per-shape index (no reservations)."""
        quotas = self.state.quotas
        entries = queue.entries
        shapes = queue.shapes
        window = shadow - now
        while pool.free_total:
            best = -1
            free = pool.free_total
            for (g, _k), cls in shapes.items():
                if g > free:
                    continue
                key = cls.first() if g <= leftover else cls.first_with_est_at_most(window, entries)
                if key is not None and (best < 0 or key < best) and key != head.key:
                    best = key
            if best < 0:
                return
            run = entries[best]
            assert isinstance(run, JobRun)
            if quotas and self._held(run, queue, now, out):
                continue
            if run.est > window:
                leftover -= run.g
            self._start(run, (), now, BACKFILLED, out)

    # -- preemption --------------------------------------------------------------------------
    def _preempt_for(
        self,
        part: int,
        run: JobRun,
        reservations: list[Reservation],
        now: int,
        out: list[Decision],
    ) -> bool:
        """Stop scavenger jobs so that ``run`` fits now; ``False`` (nothing stopped) if it can't."""
        state = self.state
        pool = state.pools[part]
        scavengers = state.scavengers[part]
        account = run.job.account
        # youngest first: the least work is lost
        victims_all = sorted(scavengers.values(), key=lambda r: (-r.start, -r.ix))
        chosen: list[JobRun] = []
        if isinstance(pool, GpuPool):
            withheld = state.withheld_gpus(reservations, account, now, now + run.est)
            avail = pool.free_total - withheld
            if avail + sum(v.g for v in victims_all) < run.g:
                return False
            for victim in victims_all:
                if avail >= run.g:
                    break
                chosen.append(victim)
                avail += victim.g
        else:
            excluded = state.excluded_nodes(reservations, account, now, now + run.est)
            G = pool.G
            on_node: dict[int, list[JobRun]] = {}
            held_on: dict[int, int] = {}
            for victim in victims_all:
                for node in victim.nodes:
                    on_node.setdefault(node, []).append(victim)
                    held_on[node] = held_on.get(node, 0) + (G if victim.k else victim.g)
            if run.k:
                clearable = sorted(
                    (n for n in range(pool.node_count) if n not in excluded),
                    key=lambda n: (pool.free[n] < G, n),
                )
                clearable = [n for n in clearable if pool.free[n] + held_on.get(n, 0) == G]
                if len(clearable) < run.k:
                    return False
                seen: set[int] = set()
                for n in clearable[: run.k]:
                    for victim in on_node.get(n, []):
                        if victim.ix not in seen:
                            seen.add(victim.ix)
                            chosen.append(victim)
            else:
                best: tuple[int, int] | None = None
                for n, extra in held_on.items():
                    cap = pool.free[n] + extra
                    if cap >= run.g and n not in excluded and (best is None or (cap, n) < best):
                        best = (cap, n)
                if best is None:
                    return False
                node = best[1]
                free = pool.free[node]
                for victim in on_node[node]:
                    if free >= run.g:
                        break
                    chosen.append(victim)
                    free += G if victim.k else victim.g
        why = f"preempted by job {run.job.job_id}"
        for victim in chosen:
            out.append(Decision(victim.job.job_id, Action.PREEMPT, why, now, victim.nodes))
            state.preempt(victim, now, run)
        return bool(chosen)
