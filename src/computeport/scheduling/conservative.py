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

With the policy's ``backfill_resolution_s`` (Slurm's ``bf_resolution``) the profile is kept as
Slurm's node-space map is (``_attempt_backfill`` and ``_add_reservation`` in
``plugins/sched/backfill/backfill.c``, measured against a real cluster in benchmarks/README.md):

* a job that cannot start now is planned at its exact earliest start but held from that start
  rounded down to the grid (on the wall clock) until its end rounded down, at least one step:
  a job after it fits before it only if it ends before the rounded start;
* it holds its node(s) *whole* there, whatever share of their GPUs it will use: the map is a
  bitmap of nodes, so a planned 1-GPU job keeps every other job's plan off its node;
* a job starting now must end before the next planned job on its node begins (Slurm's test is
  ``begin <= end``, one second stricter than exact), while a job planned later is tested for
  overlap with its end on the grid, so it may run up to a step into the next plan.

With ``start_window_s`` (Slurm's will-run test) the running jobs are released in batches, not
at their own estimated ends: :func:`batched_ends`.
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

__all__ = ["MAX_JOBS", "batched_ends", "conservative_backfill"]

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

    def earliest(
        self, g: int, k: int, G: int, est: int, step: int = 0, origin: int = 0
    ) -> tuple[int, tuple[int, ...]] | None:
        """The earliest row start where the job fits throughout ``est`` seconds, and where."""
        times, rows = self.times, self.rows
        width = len(rows[0])
        for i, t in enumerate(times):
            e = t + est
            if not step:  # exact: a row that begins as the job ends is no conflict
                hi = bisect_left(times, e, i + 1)
            elif i == 0:  # starting now, Slurm also refuses a reservation from its end on
                hi = bisect_right(times, e, 1)
            else:  # a planned start: Slurm tests its overlap with the end on the grid
                hi = max(i + 1, bisect_left(times, on_grid(e, step, origin), i + 1))
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


def on_grid(t: int, step: int, origin: int) -> int:
    """``t`` rounded down to a multiple of ``step`` seconds of the clock (``origin`` + ``t``)."""
    return t - (t + origin) % step


def batched_ends(ends: list[int], origin: int, window: int, growth: int = 0) -> list[int]:
    """Estimated ends (ascending) as Slurm's will-run test releases them: in batches, each at
    its last end (see ``PolicyConfig.start_window_s``; ``origin`` puts them on the clock)."""
    out: list[int] = []
    anchor = ends[0] + window - (ends[0] + origin) % window
    i, n = 0, len(ends)
    while i < n:
        j = i + 1
        while j < n and ends[j] <= anchor + window:
            j += 1
        out.extend([ends[j - 1]] * (j - i))
        window = window + growth if growth else window * 2
        while j < n and ends[j] > anchor + window:
            window = window + growth if growth else window * 2
        i = j
    return out


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
    policy = state.policy
    running = state.running[part]
    ends = [max(est_end, now + 1) for est_end, _ in running]
    if policy.start_window_s and ends:
        ends = batched_ends(
            ends, state.origin_s, policy.start_window_s, policy.start_window_growth_s
        )
    for at, (_, ix) in zip(ends, running, strict=True):
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
    step = policy.backfill_resolution_s
    origin = state.origin_s
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
        plan = profile.earliest(g, k, G, run.est, step, origin)
        if plan is None:
            continue
        at, where = plan
        if at == now:
            # on the node(s) the plan found free throughout, not any that is free now: another
            # could be promised to an earlier job's reservation within this job's estimate
            others = [n for n in range(len(current)) if n not in where] if node else []
            nodes = scheduler._fit(pool, run, reservations, now, others)
            if nodes is not None:
                scheduler._start(run, nodes, now, BACKFILLED, out)
                profile.take(nodes if node else (0,), per_node if node else g, now, now + run.est)
                continue
            # a reservation keeps it off those GPUs now: plan it at the next instant
            at = profile.times[1] if len(profile.times) > 1 else now + 1
        start, end = at, at + run.est
        if step:  # on the wall clock's grid (engine time + origin), as Slurm rounds
            start = max(on_grid(start, step, origin), now)
            end = max(on_grid(end, step, origin), start + step)
            # Slurm's node-space map holds a planned job's nodes whole, whatever it uses of them
            per_node = G
        profile.take(where if node else (0,), per_node if node else g, start, end)
