"""The embedded virtual cluster at Cyberport scale: history replay, live speed, restart.

    .venv/bin/python benchmarks/bench_sim_cluster.py --history-days 90 --live-days 60

Cyberport inventory (380 nodes × 8 H800 = 3,040 GPUs), the Philly-fitted background workload
at 0.95 offered load, 20 awards with budgets large enough for the whole run.  Reports:

* the history replay (a new cluster whose time 0 is ``--history-days`` before now: what
  ``computeport serve`` does on its first start so the charts are full);
* live speed: simulated days per wall second when the worker advances the cluster one tick
  (1,440 simulated seconds = one wall second at a day a minute) at a time, with and without a
  portal read (``jobs()`` + ``partitions()``) per tick — the headroom over ``Settings.sim_speed``;
* a restart: replaying the journal back to the same instant;
* utilisation over the history (finished jobs' GPU-seconds / capacity) and live (GPUs busy).
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from computeport.backends import AwardAllocation, DesiredState
from computeport.backends.sim import MemoryJournal, SimBackend, cyberport_inventory
from computeport.backends.sim.workload import BackgroundConfig, workload_model
from computeport.kit.clock import ManualClock

NOW = datetime(2026, 6, 1, tzinfo=UTC)
TICK = timedelta(seconds=1440)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--history-days", type=int, default=90)
    parser.add_argument("--live-days", type=int, default=60)
    parser.add_argument("--load", type=float, default=0.95)
    parser.add_argument(
        "--traces",
        type=Path,
        default=Path(__file__).resolve().parents[1] / ".." / "shared" / "traces",
    )
    args = parser.parse_args()

    model, source = workload_model(args.traces)
    inventory = cyberport_inventory()
    gpus = inventory.spec.gpus
    days = args.history_days + args.live_days + 30
    awards = tuple(
        AwardAllocation(
            f"aw{i:02d}", f"org{i % 7}", frozenset({f"user{i}"}), gpus * 60 * 24 * days // 20
        )
        for i in range(20)
    )
    clock = ManualClock(NOW)
    journal = MemoryJournal()
    t0 = time.perf_counter()
    cluster = SimBackend(
        inventory,
        clock,
        epoch=NOW - timedelta(days=args.history_days),
        background=BackgroundConfig(model=model, load=args.load),
        journal=journal,
        initial=DesiredState(awards),
    )
    cluster.advance()
    history_s = time.perf_counter() - t0
    records = cluster.accounting(cluster.epoch, NOW)
    used = sum(r.gpu_seconds for r in records)
    print(f"workload model: {source}")
    print(
        f"history: {args.history_days} simulated days in {history_s:.2f} s "
        f"({len(records)} jobs, {len(records) / history_s:,.0f} jobs/s), "
        f"utilisation {used / (gpus * args.history_days * 86400):.1%}"
    )

    ticks = args.live_days * 60
    busy: list[float] = []
    t0 = time.perf_counter()
    for _ in range(ticks // 2):
        clock.advance(TICK)
        cluster.advance()
        busy.append(cluster.busy_gpus / gpus)
    bare_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in range(ticks - ticks // 2):
        clock.advance(TICK)
        cluster.advance()
        cluster.jobs()
        cluster.partitions()
        busy.append(cluster.busy_gpus / gpus)
    read_s = time.perf_counter() - t0
    half = args.live_days / 2
    print(
        f"live: {half / bare_s:,.1f} simulated days per wall second advancing only, "
        f"{half / read_s:,.1f} with a portal read per tick "
        f"(a day a minute, sim_speed 1440, needs 0.017); "
        f"mean GPUs busy {statistics.mean(busy):.1%}, "
        f"queued now {cluster.engine.queued}"
    )

    t0 = time.perf_counter()
    again = SimBackend(inventory, clock, journal=journal)
    restart_s = time.perf_counter() - t0
    assert again.now == cluster.now
    print(
        f"restart: journal of {len(journal.states[inventory.cluster].events)} events replayed "
        f"to {again.now:%Y-%m-%d} ({args.history_days + args.live_days} simulated days) "
        f"in {restart_s:.2f} s"
    )


if __name__ == "__main__":
    main()
