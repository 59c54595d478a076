"""The policy lab at Cyberport scale: replay 90 days of the demo's history under one change.

    .venv/bin/python benchmarks/bench_lab_replay.py [--days 90] [--change reserve=government:10]

Builds the demo's virtual cluster as ``computeport demo`` does (Cyberport inventory, 380 nodes
× 8 H800, the Philly-fitted background at 0.95 offered load, 20 awards in four categories) with
``--days`` of history, then runs the study the portal runs: the baseline (checked exact against
the cluster's own starts) and one change, over the whole window. Budget (issue 14): ≤ 5 s for
the replay under one change. Prints a table: jobs, wall seconds per replay, and the answer.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rich.console import Console
from rich.table import Table

from computeport.backends import AwardAllocation, DesiredState
from computeport.backends.sim import MemoryJournal, SimBackend, cyberport_inventory
from computeport.backends.sim.workload import BackgroundConfig, workload_model
from computeport.kit.clock import ManualClock
from computeport.lab import Member, run_study
from computeport.lab.changes import Variant
from computeport.lab.replay import replay
from computeport.lab.virtual import history_of_virtual_cluster

NOW = datetime(2026, 12, 1, tzinfo=UTC)
CATEGORIES = ("government", "enterprise", "university", "rd_centre")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--change", default="reserve=government:10")
    parser.add_argument(
        "--traces",
        type=Path,
        default=Path(__file__).resolve().parents[1] / ".." / "shared" / "traces",
    )
    args = parser.parse_args()
    console = Console()
    model, source = workload_model(args.traces)
    inventory = cyberport_inventory()
    gpus = inventory.spec.gpus
    awards = tuple(
        AwardAllocation(
            f"aw{i:02d}",
            f"org{i % 7}",
            frozenset({f"user{i}"}),
            gpus * 60 * 24 * (args.days + 30) // 20,
        )
        for i in range(20)
    )
    members = {f"aw{i:02d}": Member(f"org{i % 7}", CATEGORIES[i % 4]) for i in range(20)}
    t0 = time.perf_counter()
    cluster = SimBackend(
        inventory,
        ManualClock(NOW),
        epoch=NOW - timedelta(days=args.days),
        background=BackgroundConfig(model=model),
        journal=MemoryJournal(),
        initial=DesiredState(awards),
    )
    cluster.advance()
    build_s = time.perf_counter() - t0
    history = history_of_virtual_cluster(cluster, members)
    jobs = history.jobs()
    console.print(
        f"workload model: {source}; {args.days} days of history built in {build_s:.1f} s "
        f"({len(jobs):,} jobs)"
    )

    t0 = time.perf_counter()
    study = run_study(history, 0, history.end_s, [args.change])
    study_s = time.perf_counter() - t0
    base = Variant("baseline", history.cluster, history.policy)
    t0 = time.perf_counter()
    replay(history, base, 0, history.end_s)
    one_s = time.perf_counter() - t0

    table = Table(title=f"policy lab: {args.days} days, one change ({args.change})")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("jobs in the window", f"{study.jobs_in_window:,}")
    table.add_row("one replay (s)", f"{one_s:.2f}")
    table.add_row("study: baseline + change (s)", f"{study_s:.2f}")
    table.add_row("budget: replay under one change", "≤ 5 s")
    b = study.baseline
    table.add_row("baseline starts exact", f"{b.exact:,}/{b.compared:,}")
    for o in study.outcomes:
        gov = next((g for g in o.by_category if g.group == "government"), o.overall)
        table.add_row(
            f"{o.name}: mean wait all / government (h)",
            f"{o.overall.wait_mean_s / 3600:.2f} / {gov.wait_mean_s / 3600:.2f}",
        )
        table.add_row(f"{o.name}: utilisation", f"{o.utilisation:.1%}")
    console.print(table)


if __name__ == "__main__":
    main()
