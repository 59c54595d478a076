"""One scheduling pass with 50,000 pending jobs on 10,000 nodes (budget: median ≤ 50 ms).

The cluster (10,000 nodes × 8 GPUs) is filled by running jobs that leave 1–4 GPUs free on 2% of
the nodes ("steady", a busy centre) or on 30% of them ("burst", many jobs just ended). 50,000
jobs wait: a 64-GPU gang at the head, then a seeded mix of sizes and time limits. One pass is
timed: strict start, the head's reservation, EASY backfill. The state is rebuilt for each
repetition (the pass changes it). The queue-scanning reference path is timed too.

Guards against: a pass whose cost grows with the queue or the running jobs instead of with
the jobs it starts (the per-shape index, lazy queue removal, the whole-node index for gangs).

    .venv/bin/python benchmarks/bench_scheduling_pass.py [--repeat 7] [--pending 50000]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from rich.console import Console
from rich.table import Table

from computeport.scheduling import ClusterSpec, ClusterState, Job, PolicyConfig, Scheduler

NODES = 10_000
PER_NODE = 8


def build(pending: int, seed: int, scenario: str) -> ClusterState:
    rng = np.random.default_rng(seed)
    state = ClusterState(ClusterSpec.homogeneous(NODES * PER_NODE, PER_NODE), PolicyConfig())
    pool = state.pools[0]
    rank = 0
    # fill: most nodes full (8, 4+4, 4+2+2, 2+2+2+2, 4+2+1+1), a few with 1–4 GPUs free
    layouts = [(8,), (4, 4), (4, 2, 2), (2, 2, 2, 2), (4, 2, 1, 1), (4, 2, 1), (4, 2), (4,)]
    free_share = {"steady": 0.02, "burst": 0.3}[scenario]
    weights = np.array([0.4, 0.2, 0.2, 0.1, 0.1, 0.5, 0.3, 0.2])
    weights[:5] *= (1 - free_share) / weights[:5].sum()
    weights[5:] *= free_share / weights[5:].sum()
    choice = rng.choice(len(layouts), size=NODES, p=weights / weights.sum())
    for node in range(NODES):
        for g in layouts[choice[node]]:
            limit = int(rng.choice([3600, 7200, 14400, 28800, 86400]))
            job = Job(f"r{rank}", submit_s=0, gpus=g, run_s=limit, time_limit_s=limit)
            run = state.new_run(job, rank)
            run.rank = rank
            rank += 1
            state.enqueue(run, 0)
            state.start(run, (node,), 0)
    assert pool.free_total > 0
    sizes = rng.choice(
        [1, 2, 4, 8, 16, 32, 64], size=pending, p=[0.4, 0.15, 0.15, 0.15, 0.07, 0.05, 0.03]
    )
    sizes[0] = 64
    limits = rng.choice([900, 1800, 3600, 7200, 14400, 28800, 86400], size=pending)
    for i in range(pending):
        job = Job(
            f"q{i}",
            submit_s=1,
            gpus=int(sizes[i]),
            run_s=int(limits[i]),
            time_limit_s=int(limits[i]),
        )
        run = state.new_run(job, rank)
        run.rank = rank
        rank += 1
        state.enqueue(run, 1)
    return state


def time_pass(
    pending: int, repeat: int, indexed: bool, scenario: str
) -> tuple[list[float], int, int]:
    times: list[float] = []
    started = 0
    for r in range(repeat):
        state = build(pending, seed=r, scenario=scenario)
        free = state.pools[0].free_total
        scheduler = Scheduler(state, indexed=indexed, record=True)
        t0 = time.perf_counter()
        decisions = scheduler.run_pass(1)
        times.append(time.perf_counter() - t0)
        started = len(decisions)
    return times, started, free


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--pending", type=int, default=50_000)
    args = parser.parse_args()
    console = Console(width=160)
    table = Table(
        title=f"One pass: {args.pending:,} pending jobs, {NODES:,} nodes × {PER_NODE} GPUs"
    )
    for col in ("free GPUs", "backfill path", "median ms", "min ms", "max ms", "jobs started"):
        table.add_column(col, justify="right")
    for scenario in ("steady", "burst"):
        for indexed in (True, False):
            times, started, free = time_pass(args.pending, args.repeat, indexed, scenario)
            table.add_row(
                f"{scenario}: {free:,}",
                "per-shape index" if indexed else "queue scan (reference)",
                f"{statistics.median(times) * 1000:.1f}",
                f"{min(times) * 1000:.1f}",
                f"{max(times) * 1000:.1f}",
                str(started),
            )
    console.print(table)


if __name__ == "__main__":
    main()
