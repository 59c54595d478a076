"""The inventory file at a size far beyond a real centre's: check, first load, reload, one change.

A real inventory has a handful of clusters; this one has ``--sites`` × ``--clusters`` clusters of
``--partitions`` partitions, so a regression to per-row queries (an N+1 in the loader, a
history query per kept cluster) shows up as seconds.  A reload of the same file must write
nothing.

    .venv/bin/python benchmarks/bench_inventory.py --db sqlite
    .venv/bin/python benchmarks/bench_inventory.py \
        --db postgresql+psycopg://postgres@127.0.0.1:5432/bench_inventory
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from rich.console import Console
from rich.table import Table
from sqlalchemy import text

from computeport.db.engine import make_engine, make_session_factory, unit_of_work
from computeport.db.schema import create_schema
from computeport.inventory.declaration import InventoryDecl, parse_inventory
from computeport.inventory.loader import LoadReport, load_inventory

T = TypeVar("T")
AT = datetime(2026, 12, 4, tzinfo=UTC)


def inventory_text(sites: int, clusters: int, partitions: int, nodes: int = 40) -> str:
    """A valid file: two accelerator types, ``sites`` sites of ``clusters`` clusters each."""
    lines = [
        '[accelerators.h800]\nvendor = "NVIDIA"\nmodel = "H800"\nmemory_gb = 80\n'
        "peak_pflops = 0.99\n",
        '[accelerators.cn-a]\nvendor = "X"\nmodel = "A"\nmemory_gb = 96\npeak_pflops = 0.5\n',
    ]
    for s in range(sites):
        lines.append(f'[sites.site-{s}]\nname = "Site {s}"\n')
        for c in range(clusters):
            name = f"s{s}-c{c}"
            lines.append(
                f'[clusters.{name}]\nsite = "site-{s}"\nbackend = "slurm"\n'
                f'[clusters.{name}.slurm]\nslurm_conf = "/etc/slurm-{name}/slurm.conf"\n'
            )
            for p in range(partitions):
                kind = "h800" if p % 2 == 0 else "cn-a"
                lines.append(
                    f'[clusters.{name}.partitions.p{p}]\naccelerator = "{kind}"\n'
                    f"gpus_per_node = 8\nnodes = {nodes}\n"
                )
    return "\n".join(lines)


def timed(action: Callable[[], T]) -> tuple[T, float]:
    start = time.perf_counter()
    result = action()
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="sqlite", help="sqlite, or a PostgreSQL URL (emptied)")
    parser.add_argument("--sites", type=int, default=4)
    parser.add_argument("--clusters", type=int, default=50, help="clusters per site")
    parser.add_argument("--partitions", type=int, default=4, help="partitions per cluster")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}" if args.db == "sqlite" else args.db
        engine = make_engine(url)
        if engine.dialect.name == "postgresql":
            with engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        create_schema(engine)
        sessions = make_session_factory(engine)
        body = inventory_text(args.sites, args.clusters, args.partitions)
        changed = body.replace("nodes = 40", "nodes = 41", 1)

        def load(decl: InventoryDecl) -> LoadReport:
            with unit_of_work(sessions) as session:
                return load_inventory(session, decl, actor_id=None, at=AT, source="bench.toml")

        decl, check_s = timed(lambda: parse_inventory(body, "bench.toml"))
        first, first_s = timed(lambda: load(decl))
        again, again_s = timed(lambda: load(decl))
        one, one_s = timed(lambda: load(parse_inventory(changed, "bench.toml")))
        engine.dispose()

    clusters = args.sites * args.clusters
    table = Table(
        title=f"Inventory: {clusters} clusters, {clusters * args.partitions} partitions "
        f"({len(body.splitlines()):,} lines) on {engine.dialect.name}"
    )
    for column in ("step", "seconds", "created", "updated", "removed"):
        table.add_column(column, justify="left" if column == "step" else "right")
    table.add_row("check (parse + validate)", f"{check_s:.3f}", "", "", "")
    for step, report, seconds in (
        ("first load", first, first_s),
        ("reload, same file", again, again_s),
        ("reload, one field changed", one, one_s),
    ):
        table.add_row(
            step,
            f"{seconds:.3f}",
            str(len(report.created)),
            str(len(report.updated)),
            str(len(report.removed)),
        )
    Console().print(table)
    assert not again.changed, "a reload of the same file wrote something"
    assert (len(one.created), len(one.updated), len(one.removed)) == (0, 1, 0)


if __name__ == "__main__":
    main()
