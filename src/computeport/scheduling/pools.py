"""Placement state of one partition: which GPUs are free, and where a job would go.

:class:`NodePool` (placement ``node``) keeps, per free-GPU count ``f``, the sorted indices of
the nodes with exactly ``f`` free GPUs, so best fit ("the fitting node with the fewest free
GPUs, then the lowest index") is a scan over at most ``G`` buckets, and whole nodes for a gang
are the front of the ``f = G`` bucket. :class:`GpuPool` (placement ``pool``) is one counter.

Both also answer the EASY question "when and where could this job start if running jobs end at
their estimates?" (:meth:`NodePool.plan`, :meth:`GpuPool.plan`), walking running jobs in
estimated-end order on a scratch copy of only the nodes they touch.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left, insort
from collections.abc import Collection, Sequence
from typing import Protocol

__all__ = ["GpuPool", "NodePool", "Pool", "RunningJob"]


class RunningJob(Protocol):
    """What a plan needs of a running job."""

    g: int
    k: int
    nodes: tuple[int, ...]


class NodePool:
    """Nodes of ``gpus_per_node`` GPUs with best-fit placement and whole-node gangs."""

    def __init__(self, node_count: int, gpus_per_node: int) -> None:
        self.node_count = node_count
        self.G = gpus_per_node
        self.total = node_count * gpus_per_node
        self.free_total = self.total
        self.free = [gpus_per_node] * node_count
        self.buckets: list[list[int]] = [[] for _ in range(gpus_per_node + 1)]
        self.buckets[gpus_per_node] = list(range(node_count))
        self.node_jobs: dict[int, dict[int, int]] = {}
        self.node_end = [-1] * node_count
        """Per node, the latest estimated end of its jobs (−1: idle or not tracked)."""
        self.by_end: list[tuple[int, int]] = []
        """``(node_end, node)`` of busy tracked nodes, sorted."""

    # -- shape ---------------------------------------------------------------------------
    def shape(self, gpus: int, nodes: int) -> tuple[int, int]:
        """``(g, k)``: ``k = 0`` for a one-node job, else the whole nodes a gang takes."""
        if nodes <= 1 and gpus <= self.G:
            return gpus, 0
        return gpus, max(nodes, -(-gpus // self.G))

    def capacity_for(self, g: int, k: int) -> bool:
        """Whether the job could ever fit (else it is rejected)."""
        return k <= self.node_count if k else g <= self.G

    def held(self, g: int, k: int) -> int:
        """GPUs a job occupies: a gang holds its nodes whole."""
        return k * self.G if k else g

    # -- queries ---------------------------------------------------------------------------
    def maxfree(self) -> int:
        b = self.buckets
        for f in range(self.G, 0, -1):
            if b[f]:
                return f
        return 0

    def fits(self, g: int, k: int) -> bool:
        if k:
            return len(self.buckets[self.G]) >= k
        b = self.buckets
        return any(b[f] for f in range(g, self.G + 1))

    def caps(self, pinned: Collection[int] = ()) -> tuple[int, int, int, int]:
        """``(max free on a node, whole free nodes)``, overall and outside ``pinned``.

        A one-node job of ``g`` fits iff ``g ≤ max free``; a gang of ``k`` iff ``k ≤ whole``.
        """
        b = self.buckets
        G = self.G
        maxfree = 0
        maxfree_out = 0
        n_pinned = len(pinned)
        for f in range(G, 0, -1):
            bucket = b[f]
            if bucket:
                if not maxfree:
                    maxfree = f
                if len(bucket) > n_pinned:
                    maxfree_out = f
                    break
                for n in bucket:
                    if n not in pinned:
                        maxfree_out = f
                        break
                if maxfree_out:
                    break
        whole = len(b[G])
        if not n_pinned:
            return maxfree, whole, maxfree_out, whole
        free = self.free
        whole_out = whole
        for n in pinned:
            if free[n] == G:
                whole_out -= 1
        return maxfree, whole, maxfree_out, whole_out

    def fits_outside(self, g: int, k: int, pinned: Collection[int]) -> bool:
        """Whether the job fits now on nodes not in ``pinned``."""
        b = self.buckets
        if k:
            whole = b[self.G]
            if len(whole) - len(pinned) >= k:
                return True
            return sum(1 for n in whole if n not in pinned) >= k
        for f in range(g, self.G + 1):
            bucket = b[f]
            if len(bucket) > len(pinned):
                return True
            if any(n not in pinned for n in bucket):
                return True
        return False

    def best_fit(
        self, g: int, k: int, excluded: Collection[int] | None = None
    ) -> tuple[int, ...] | None:
        """The nodes best fit gives the job now, or ``None`` if it does not fit."""
        b = self.buckets
        if k:
            whole = b[self.G]
            if not excluded:
                return tuple(whole[:k]) if len(whole) >= k else None
            chosen = [n for n in whole if n not in excluded][:k]
            return tuple(chosen) if len(chosen) == k else None
        for f in range(g, self.G + 1):
            bucket = b[f]
            if not bucket:
                continue
            if not excluded:
                return (bucket[0],)
            for n in bucket:
                if n not in excluded:
                    return (n,)
        return None

    # -- changes ---------------------------------------------------------------------------
    def _move(self, node: int, new_free: int) -> None:
        old = self.free[node]
        bucket = self.buckets[old]
        del bucket[bisect_left(bucket, node)]
        insort(self.buckets[new_free], node)
        self.free[node] = new_free

    def allocate(
        self, nodes: Sequence[int], g: int, k: int, ix: int = -1, est_end: int = 0
    ) -> None:
        """Take GPUs for a job; ``ix``/``est_end`` (when given) feed the whole-node index."""
        if k:
            for n in nodes:
                self._move(n, 0)
            self.free_total -= k * self.G
        else:
            # the one-node case inlined (_move): it runs once per job start
            n = nodes[0]
            free = self.free
            buckets = self.buckets
            old = free[n]
            bucket = buckets[old]
            del bucket[bisect_left(bucket, n)]
            insort(buckets[old - g], n)
            free[n] = old - g
            self.free_total -= g
        if ix >= 0:
            for n in nodes:
                self._track(n, ix, est_end)

    def release(self, nodes: Sequence[int], g: int, k: int, ix: int = -1) -> None:
        if k:
            for n in nodes:
                self._move(n, self.G)
            self.free_total += k * self.G
        else:
            n = nodes[0]
            free = self.free
            buckets = self.buckets
            old = free[n]
            bucket = buckets[old]
            del bucket[bisect_left(bucket, n)]
            insort(buckets[old + g], n)
            free[n] = old + g
            self.free_total += g
        if ix >= 0:
            for n in nodes:
                self._untrack(n, ix)

    # -- whole-node index: when each busy node is whole again, by estimates ------------------
    def _track(self, node: int, ix: int, est_end: int) -> None:
        jobs = self.node_jobs.get(node)
        if jobs is None:
            jobs = self.node_jobs[node] = {}
        old = self.node_end[node]  # −1 when the node was idle
        jobs[ix] = est_end
        if est_end > old:
            if old >= 0:
                by_end = self.by_end
                del by_end[bisect_left(by_end, (old, node))]
            insort(self.by_end, (est_end, node))
            self.node_end[node] = est_end

    def _untrack(self, node: int, ix: int) -> None:
        jobs = self.node_jobs[node]
        est_end = jobs.pop(ix)
        old = self.node_end[node]  # the latest estimated end, maybe of another job
        if est_end != old:
            return
        new = max(jobs.values()) if jobs else -1
        if new != old:
            by_end = self.by_end
            del by_end[bisect_left(by_end, (old, node))]
            if new >= 0:
                insort(by_end, (new, node))
            self.node_end[node] = new

    def _plan_gang(
        self, k: int, now_s: int, excluded: Collection[int]
    ) -> tuple[int, tuple[int, ...]] | None:
        """The gang plan from the whole-node index: O(k + ties), not O(running jobs)."""
        whole = self.buckets[self.G]
        if excluded:
            whole = [x for x in whole if x not in excluded]
        need = k - len(whole)
        if need <= 0:
            return now_s, tuple(whole[:k])
        later: list[int] = []
        at = -1
        for end, node in self.by_end:
            if at >= 0 and end > at:
                break
            if node in excluded:
                continue
            later.append(node)
            if at < 0 and len(later) >= need:
                at = end if end > now_s else now_s
        if at < 0:
            return None
        return at, tuple(sorted(heapq.nsmallest(k, [*whole[:k], *later])))

    # -- EASY ------------------------------------------------------------------------------
    def plan(
        self,
        g: int,
        k: int,
        running: Sequence[tuple[int, int]],
        runs: Sequence[RunningJob],
        now_s: int,
        excluded: Collection[int] = (),
    ) -> tuple[int, tuple[int, ...]] | None:
        """``(shadow time, pinned nodes)`` for a blocked job, or ``None`` if it never fits.

        ``running`` is ``(estimated end, run index)`` sorted; jobs past their estimate are
        taken to end now. The pinned nodes are those best fit would give the job at the shadow
        time.
        """
        if k:
            return self._plan_gang(k, now_s, excluded)
        G = self.G
        free = self.free
        scratch: dict[int, int] = {}
        i, n = 0, len(running)
        if k:
            whole = self.buckets[G]
            if excluded:
                whole = [x for x in whole if x not in excluded]
            have = len(whole)
            newly: list[int] = []
        while i < n:
            # one instant; every job past its estimate is taken to end now
            at = running[i][0]
            if at < now_s:
                at = now_s
            touched: list[int] = []
            while i < n and (running[i][0] <= at):
                r = runs[running[i][1]]
                add = G if r.k else r.g
                for node in r.nodes:
                    scratch[node] = scratch.get(node, free[node]) + add
                    touched.append(node)
                i += 1
            if k:
                for node in touched:
                    if scratch[node] == G and node not in excluded:
                        scratch[node] = G + 1  # counted once
                        newly.append(node)
                if have + len(newly) >= k:
                    return at, tuple(sorted(heapq.nsmallest(k, [*whole[:k], *newly])))
            else:
                best: tuple[int, int] | None = None
                for node in touched:
                    f = scratch[node]
                    if f >= g and node not in excluded and (best is None or (f, node) < best):
                        best = (f, node)
                if best is not None:
                    return at, (best[1],)
        return None


class GpuPool:
    """A partition's GPUs as one fungible pool (placement ``pool``)."""

    def __init__(self, gpus: int) -> None:
        self.total = gpus
        self.free_total = gpus

    def shape(self, gpus: int, nodes: int) -> tuple[int, int]:
        return gpus, 0

    def capacity_for(self, g: int, k: int) -> bool:
        return g <= self.total

    def held(self, g: int, k: int) -> int:
        return g

    def maxfree(self) -> int:
        return self.free_total

    def fits(self, g: int, k: int) -> bool:
        return g <= self.free_total

    def best_fit(
        self, g: int, k: int, excluded: Collection[int] | None = None
    ) -> tuple[int, ...] | None:
        return () if g <= self.free_total else None

    def allocate(
        self, nodes: Sequence[int], g: int, k: int, ix: int = -1, est_end: int = 0
    ) -> None:
        self.free_total -= g

    def release(self, nodes: Sequence[int], g: int, k: int, ix: int = -1) -> None:
        self.free_total += g

    def plan(
        self,
        g: int,
        running: Sequence[tuple[int, int]],
        runs: Sequence[RunningJob],
        now_s: int,
        withheld: int = 0,
    ) -> tuple[int, int] | None:
        """``(shadow time, GPUs left over at the shadow time after the job)``."""
        f = self.free_total - withheld
        i, n = 0, len(running)
        while i < n:
            at = running[i][0]
            if at < now_s:
                at = now_s  # jobs past their estimate are taken to end now
            while i < n and running[i][0] <= at:
                f += runs[running[i][1]].g
                i += 1
            if f >= g:
                return at, f - g
        return None


Pool = NodePool | GpuPool
