"""``computeport simulate``: replay a trace under a policy (DESIGN.md "Simulator input and output").

Writes ``result.json`` (metrics, ``wall_s`` for the whole command, parsing included, and
``jobs_per_s``) and ``jobs.csv`` (``job_id,submit_s,start_s,end_s,gpus`` in input order), and
with ``--plot`` a PNG of utilisation and queue length over time and the wait distribution.
Bad input (a malformed trace line, an unknown option value) → a message naming the line or
option, exit code 2.
"""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from computeport.cli.common import console, fail
from computeport.kit.errors import DomainError

if TYPE_CHECKING:
    from computeport.simulator import SimulationResult

# The simulator pulls in numpy: the command imports it when it runs, so registering
# ``simulate`` (every ``computeport`` start) imports nothing heavy.

POLICIES = ("fifo", "sjf", "multifactor")


def _choice(value: str, allowed: tuple[str, ...], option: str) -> str:
    if value not in allowed:
        raise fail(f"{option} must be one of {', '.join(allowed)}, not {value!r}")
    return value


def simulate_command(
    trace: Annotated[Path, typer.Option("--trace", help="The workload trace to replay.")],
    fmt: Annotated[str, typer.Option("--format", help="swf, philly, alibaba or csv.")],
    gpus: Annotated[int, typer.Option("--gpus", help="GPUs in the cluster.")],
    gpus_per_node: Annotated[int, typer.Option("--gpus-per-node", help="GPUs per node.")] = 8,
    placement: Annotated[str, typer.Option("--placement", help="pool or node.")] = "node",
    policy: Annotated[str, typer.Option("--policy", help="fifo, sjf or multifactor.")] = "fifo",
    backfill: Annotated[
        str, typer.Option("--backfill", help="none, easy or conservative.")
    ] = "easy",
    estimates: Annotated[str, typer.Option("--estimates", help="exact or limit.")] = "limit",
    out: Annotated[Path, typer.Option("--out", help="Where to write result.json.")] = Path(
        "result.json"
    ),
    jobs_out: Annotated[Path, typer.Option("--jobs-out", help="Where to write jobs.csv.")] = Path(
        "jobs.csv"
    ),
    plot: Annotated[
        Path | None, typer.Option("--plot", help="Draw utilisation, queue and waits (PNG).")
    ] = None,
) -> None:
    """Replay a workload trace on a simulated cluster and write its metrics."""
    t0 = time.perf_counter()
    from computeport.scheduling import Backfill, ClusterSpec, Estimates, Placement, PolicyConfig
    from computeport.simulator import simulate
    from computeport.simulator.readers import FORMATS, read_trace

    _choice(fmt, FORMATS, "--format")
    _choice(placement, tuple(p.value for p in Placement), "--placement")
    _choice(policy, POLICIES, "--policy")
    _choice(backfill, tuple(b.value for b in Backfill), "--backfill")
    _choice(estimates, tuple(e.value for e in Estimates), "--estimates")
    if gpus < 1:
        raise fail(f"--gpus must be ≥ 1, not {gpus}")
    if gpus_per_node < 1:
        raise fail(f"--gpus-per-node must be ≥ 1, not {gpus_per_node}")
    if placement == "node" and gpus % gpus_per_node:
        raise fail(f"--gpus ({gpus}) must be a multiple of --gpus-per-node ({gpus_per_node})")
    if not trace.is_file():
        raise fail(f"--trace: no such file {trace}")
    per_node = gpus_per_node if gpus % gpus_per_node == 0 else 1
    cluster = ClusterSpec.homogeneous(gpus, per_node)
    config = PolicyConfig(
        order=policy,
        backfill=Backfill(backfill),
        placement=Placement(placement),
        estimates=Estimates(estimates),
    )
    try:
        workload = read_trace(trace, fmt)
    except DomainError as exc:
        raise fail(exc.message) from None
    with Progress(
        TextColumn("simulating"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("simulate", total=len(workload.jobs))
        result = simulate(
            workload.jobs,
            cluster,
            config,
            progress=lambda done, _total: progress.update(task, completed=done),
        )
    write_jobs_csv(result, jobs_out)
    if plot is not None:
        draw_report(result, plot)
    wall = time.perf_counter() - t0
    body = result.metrics.to_dict()
    body["skipped"] = workload.skipped
    body["wall_s"] = round(wall, 3)
    body["jobs_per_s"] = round(len(workload.jobs) / wall, 1) if wall > 0 else 0.0
    out.write_text(json.dumps(body, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    m = result.metrics
    console.print(
        f"{m.jobs} jobs ({len(m.rejected)} rejected, {workload.skipped} skipped) on {gpus} GPUs: "
        f"utilisation {m.utilisation:.3f}, mean wait {m.wait_s.mean:.0f} s, "
        f"{body['jobs_per_s']} jobs/s → {out}, {jobs_out}",
        highlight=False,
    )


def write_jobs_csv(result: SimulationResult, path: Path) -> None:
    """``job_id,submit_s,start_s,end_s,gpus`` in input order (byte-identical for equal runs)."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(("job_id", "submit_s", "start_s", "end_s", "gpus"))
        writer.writerows(result.jobs_csv_rows())


def draw_report(result: SimulationResult, path: Path) -> None:
    """Utilisation and queue length per hour, and the distribution of waits."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    m = result.metrics
    hours = np.arange(len(m.series_utilisation))
    fig, (ax_u, ax_q, ax_w) = plt.subplots(3, 1, figsize=(10, 9), constrained_layout=True)
    ax_u.plot(hours, m.series_utilisation, linewidth=0.8)
    ax_u.set(title=f"Utilisation (overall {m.utilisation:.3f})", xlabel="hour", ylabel="GPUs busy")
    ax_u.set_ylim(0, 1.05)
    ax_q.plot(hours, m.series_queued, linewidth=0.8, color="tab:orange")
    ax_q.set(title="Jobs waiting (hourly mean)", xlabel="hour", ylabel="jobs")
    waits = np.array([r.start_s - r.submit_s for r in result.jobs if r.start_s is not None])
    ax_w.hist(np.log10(np.maximum(waits, 0) + 1), bins=50, color="tab:green")
    ax_w.set(
        title=f"Wait (mean {m.wait_s.mean:.0f} s, p95 {m.wait_s.p95:.0f} s)",
        xlabel="log10(wait seconds + 1)",
        ylabel="jobs",
    )
    fig.savefig(path, dpi=100)
    plt.close(fig)
