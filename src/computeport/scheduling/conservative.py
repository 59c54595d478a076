"""Conservative backfill: every pending job gets a reservation, not only the head.

What Slurm's ``sched/backfill`` does (DESIGN.md "Scheduling semantics"): walk the queue in
order; each job gets the earliest start at which it fits, given the running jobs (ending at
their estimates) and the reservations of the jobs before it; a job starts now only if that
earliest start is now. So a later job never delays any earlier one's planned start — stricter
than EASY, which protects only the head, and what the policy lab's Slurm fidelity check found
closest to Slurm.

The plan is a step profile of free GPUs per node (placement ``node``; one row of the pool's
GPUs for ``pool``) at the instants running jobs are expected to end; a job needs the *same*
node(s) free over its whole estimated run, as on Slurm. Jobs past their estimate are taken to
end one second from now. The walk looks at ``max_jobs`` pending jobs per pass (Slurm's
``bf_max_job_test``). Reservations and drains are respected when a job starts now (through the
scheduler's fit); the profile itself ignores them.

With the policy's ``backfill_resolution_s`` (Slurm's ``bf_resolution``), a job that cannot start
now is planned at its exact earliest start but held in the profile from that start rounded down
to the grid until its end rounded down (at least one step), as Slurm stores it: a job after it
fits before it only if it ends before the rounded start, so small jobs wait up to one step
longer than exact planning would let them.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from typing import TYPE_CHECKING

from computeport.scheduling.pools import NodePool
from computeport.scheduling.state import JobRun

if TYPE_CHECKING:
    from computeport.scheduling.decision import Decision
    from computeport.scheduling.queue import PendingQueue
    from computeport.scheduling.reservation import Reservation
    from computeport.scheduling.scheduler import Scheduler

__all__ = ["MAX_JOBS", "conservative_backfill"]

MAX_JOBS = 500
BACKFILLED = "started: backfilled"


class _Profile:
    """Free GPUs per node (columns) over time (rows start at ``times``)."""

    def __init__(self, times: list[int], rows: list[list[int]]) -> None:
        self.times = times
        self.rows = rows

    def split(self, t: int) -> int:
        """The row index starting at ``t`` (made by copying the row in force then)."""
        i = bisect_right(self.times, t) - 1
        if self.times[i] == t:
            return i
        self.times.insert(i + 1, t)
        self.rows.insert(i + 1, list(self.rows[i]))
        return i + 1

    def take(self, nodes: tuple[int, ...], per_node: int, start: int, end: int) -> None:
        lo = self.split(start)
        hi = self.split(end)
        for row in self.rows[lo:hi]:
            for n in nodes:
                row[n] -= per_node

    def earliest(self, g: int, k: int, G: int, est: int) -> tuple[int, tuple[int, ...]] | None:
        """The earliest row start where the job fits throughout ``est`` seconds, and where."""
        times, rows = self.times, self.rows
        width = len(rows[0])
        for i, t in enumerate(times):
            hi = bisect_left(times, t + est, i + 1)
            span = rows[i:hi]
            if k:
                whole = [n for n in range(width) if all(r[n] >= G for r in span)]
                if len(whole) >= k:
                    return t, tuple(whole[:k])
                continue
            best = -1
            for n in range(width):
                free = min(r[n] for r in span)
                if free >= g and (best < 0 or rows[i][n] < rows[i][best]):
                    best = n
            if best >= 0:
                return t, (best,)
        return None


def conservative_backfill(
    scheduler: Scheduler,
    part: int,
    queue: PendingQueue,
    reservations: list[Reservation],
    now: int,
    out: list[Decision],
    max_jobs: int = MAX_JOBS,
) -> None:
    """Plan every pending job of ``part`` in order; start those whose plan is now."""
    state = scheduler.state
    pool = state.pools[part]
    runs = state.runs
    node = isinstance(pool, NodePool)
    G = pool.G if isinstance(pool, NodePool) else pool.total
    current = list(pool.free) if isinstance(pool, NodePool) else [pool.free_total]
    times, rows = [now], [current]
    row = list(current)
    for est_end, ix in state.running[part]:
        at = max(est_end, now + 1)
        r = runs[ix]
        if node:
            for n in r.nodes:
                row[n] += G if r.k else r.g
        else:
            row[0] += r.g
        if times[-1] == at:
            rows[-1] = list(row)
        else:
            times.append(at)
            rows.append(list(row))
    profile = _Profile(times, rows)
    step = state.policy.backfill_resolution_s
    keys = queue.keys
    entries = queue.entries
    quotas = state.quotas
    pos = queue.lo
    seen = 0
    while pos < len(keys) and seen < max_jobs:
        entry = entries.get(keys[pos])
        pos += 1
        if entry is None:
            continue
        seen += 1
        assert isinstance(entry, JobRun)
        run = entry
        if quotas and scheduler._held(run, queue, now, out):
            continue
        g, k = run.g, run.k
        per_node = G if k else g
        plan = profile.earliest(g, k, G, run.est)
        if plan is None:
            continue
        at, where = plan
        if at == now:
            nodes = scheduler._fit(pool, run, reservations, now)
            if nodes is not None:
                scheduler._start(run, nodes, now, BACKFILLED, out)
                profile.take(nodes if node else (0,), per_node if node else g, now, now + run.est)
                continue
            # a reservation keeps it off those GPUs now: plan it at the next instant
            at = profile.times[1] if len(profile.times) > 1 else now + 1
        start, end = at, at + run.est
        if step:
            start = max(start - start % step, now)
            end = max(end - end % step, start + step)
        profile.take(where if node else (0,), per_node if node else g, start, end)
