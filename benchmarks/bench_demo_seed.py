"""What the demo's drawn history costs its start: the seed without it, the history alone.

``computeport demo`` seeds the Cyberport scenario, then the two years of applications,
decisions, awards and follow-ons before its today (:mod:`computeport.seed.demo_history`), each
through the domain services. This prints both times per run on a fresh SQLite file, so a
regression (a slower decision path, a query per row) shows up as seconds.

    .venv/bin/python benchmarks/bench_demo_seed.py --runs 3

Measured 2026-12-05 on the 2-core machine shared with five other helpers (under load): the
seed without the history 1.4–4.2 s, the history 2.7–3.7 s (147 records: 51 applications, 33
approved); a backtest of the demo's year (``capacity backtest --history-days 365``) 51–77 s wall.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from computeport.cli.demo import demo_settings, prepare_database, seed
from computeport.db.engine import make_engine, make_session_factory, unit_of_work
from computeport.seed import demo_history

TODAY = dt.date(2026, 12, 5)


def one_run() -> tuple[float, float, int]:
    """(seed without the history, the history alone, rows the history made) on a fresh file."""
    with tempfile.TemporaryDirectory(prefix="bench-demo-seed-") as tmp:
        settings = demo_settings(Path(tmp), 1440.0)
        prepare_database(settings)
        real = demo_history.seed_demo_history
        demo_history.seed_demo_history = lambda session, today: 0
        try:
            started = time.perf_counter()
            seed(settings)
            base = time.perf_counter() - started
        finally:
            demo_history.seed_demo_history = real
        engine = make_engine(settings.database_url)
        try:
            started = time.perf_counter()
            with unit_of_work(make_session_factory(engine)) as session:
                rows = real(session, TODAY)
            history = time.perf_counter() - started
        finally:
            engine.dispose()
    return base, history, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    table = Table(title="demo seed (fresh SQLite each run)")
    for col in ("run", "seed without history (s)", "history (s)", "rows"):
        table.add_column(col, justify="right")
    for n in range(1, args.runs + 1):
        base, history, rows = one_run()
        table.add_row(str(n), f"{base:.1f}", f"{history:.1f}", str(rows))
    Console().print(table)


if __name__ == "__main__":
    main()
