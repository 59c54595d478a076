"""A brute-force reference simulator for tiny cases, written straight from DESIGN.md.

No indexes, no incremental state: at every instant it rebuilds the free GPUs per node, sorts
the queue, and finds the shadow time by trying every candidate end time. It covers FIFO and SJF,
strict and EASY backfill, pool and node placement (no quotas, reservations or preemption), and
returns ``{job_id: (start, end)}``.
"""

from __future__ import annotations

from computeport.scheduling import Backfill, Job, Placement, PolicyConfig, estimate_s


def _best_fit(free: list[int], g: int, k: int, G: int, avoid: set[int]) -> tuple[int, ...] | None:
    if k:
        whole = [n for n in range(len(free)) if free[n] == G and n not in avoid]
        return tuple(whole[:k]) if len(whole) >= k else None
    fitting = [(free[n], n) for n in range(len(free)) if free[n] >= g and n not in avoid]
    return (min(fitting)[1],) if fitting else None


def reference(
    jobs: list[Job], gpus: int, per_node: int, policy: PolicyConfig
) -> dict[str, tuple[int | None, int | None]]:
    node = policy.placement is Placement.NODE
    nodes = gpus // per_node if node else 1
    G = per_node if node else gpus

    def shape(job: Job) -> tuple[int, int]:
        if not node or job.gpus <= G:
            return job.gpus, 0
        return job.gpus, -(-job.gpus // G)

    est = {j.job_id: estimate_s(j, policy.estimates) for j in jobs}
    order = sorted(range(len(jobs)), key=lambda i: (jobs[i].submit_s, i))
    rank = {jobs[i].job_id: r for r, i in enumerate(order)}
    by_id = {j.job_id: j for j in jobs}

    def key(job: Job) -> tuple[int, int]:
        if policy.order == "sjf":
            return (est[job.job_id], rank[job.job_id])
        return (0, rank[job.job_id])

    result: dict[str, tuple[int | None, int | None]] = {j.job_id: (None, None) for j in jobs}
    pending: list[Job] = []
    running: dict[str, tuple[int, int, tuple[int, ...]]] = {}  # id -> (end, est_end, nodes)
    arrivals = [jobs[i] for i in order]
    a = 0
    while True:
        candidates = [e for e, _, _ in running.values()]
        if a < len(arrivals):
            candidates.append(arrivals[a].submit_s)
        if not candidates:
            break
        now = min(candidates)
        for jid in [j for j, (e, _, _) in running.items() if e == now]:
            del running[jid]
        while a < len(arrivals) and arrivals[a].submit_s == now:
            job = arrivals[a]
            a += 1
            g, k = shape(job)
            if (k and k > nodes) or (not k and g > G):
                continue  # rejected
            pending.append(job)
        pending.sort(key=key)

        def free_at(t: int | None, now: int = now) -> list[int]:
            free = [G] * nodes
            for jid, (_, est_end, ns) in running.items():
                if t is not None and max(est_end, now) <= t:
                    continue
                g, k = shape(by_id[jid])
                for n in ns:
                    free[n] -= G if k else g
            return free

        def start(job: Job, ns: tuple[int, ...], now: int = now) -> None:
            pending.remove(job)
            running[job.job_id] = (now + job.run_s, now + est[job.job_id], ns)
            result[job.job_id] = (now, now + job.run_s)

        head = None
        for job in list(pending):
            g, k = shape(job)
            ns = _best_fit(free_at(None), g, k, G, set())
            if ns is None:
                head = job
                break
            start(job, ns)
        if head is None or policy.backfill is Backfill.NONE:
            continue
        g, k = shape(head)
        shadow = None
        pinned: tuple[int, ...] = ()
        for t in sorted({max(e, now) for _, e, _ in running.values()}):
            ns = _best_fit(free_at(t), g, k, G, set())
            if ns is not None:
                shadow, pinned = t, ns
                break
        assert shadow is not None
        leftover = sum(free_at(shadow)) - g if not node else 0
        for job in list(pending[pending.index(head) + 1 :]):
            jg, jk = shape(job)
            in_time = now + est[job.job_id] <= shadow
            free = free_at(None)
            if node:
                ns = _best_fit(free, jg, jk, G, set() if in_time else set(pinned))
            else:
                ns = (0,) if jg <= free[0] else None
                if ns is not None and not in_time:
                    if jg <= leftover:
                        leftover -= jg
                    else:
                        ns = None
            if ns is not None:
                start(job, ns)
    return result
