"""``computeport capacity``: plan capacity from a scenario file.

    computeport capacity plan scenarios/cyberport.toml --out plan.json --plot plan.png \
        [--seeds N] [--workers N] [--no-recommend] [--traces DIR]
    computeport capacity approve scenarios/cyberport.toml [--db [--as-of 2026-03-14]]

Prints when the targets first break and what to build by when; a bad scenario file gets a
message naming the field (and line) and exit code 2.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from computeport.cli.common import console, domain_errors, fail

if TYPE_CHECKING:
    from computeport.capacity.scenario import Scenario

# The planner pulls in numpy and matplotlib: each command imports what it needs when it runs,
# so registering ``capacity`` (every ``computeport`` start) imports nothing heavy.

app = typer.Typer(help="Capacity planning: will supply keep up with demand?", no_args_is_help=True)


@app.command("plan")
def plan_command(
    scenario_path: Annotated[Path, typer.Argument(help="A .toml or .yaml scenario file.")],
    out: Annotated[Path | None, typer.Option("--out", help="Write the plan as JSON.")] = None,
    plot: Annotated[Path | None, typer.Option("--plot", help="Draw the plan as a PNG.")] = None,
    seeds: Annotated[int | None, typer.Option("--seeds", min=1, help="Seeds.")] = None,
    workers: Annotated[int | None, typer.Option("--workers", min=1, help="Processes.")] = None,
    recommend: Annotated[
        bool, typer.Option("--recommend/--no-recommend", help="Search the build.")
    ] = True,
    traces: Annotated[
        Path | None, typer.Option("--traces", help="Folder for relative trace paths.")
    ] = None,
) -> None:
    """Simulate every month of SCENARIO_PATH's horizon and recommend what to build."""
    from computeport.capacity.fanout import LocalRunner
    from computeport.capacity.scenario import load_scenario
    from computeport.capacity.service import plan_capacity

    if not scenario_path.exists():
        raise fail(f"{scenario_path}: no such file")
    with domain_errors():
        scenario = load_scenario(scenario_path)
    traces_dir = str(traces) if traces is not None else _traces_for(scenario_path, scenario)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as bar:
        tasks: dict[str, TaskID] = {}

        def progress(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                name = {
                    "plan": "simulating months",
                    "search": "searching the build",
                    "verify": "checking the build",
                }.get(phase, phase)
                tasks[phase] = bar.add_task(name, total=total or None)
            bar.update(tasks[phase], completed=done, total=total or None)

        with domain_errors():
            plan = plan_capacity(
                scenario,
                seeds=seeds,
                runner=LocalRunner(workers),
                recommend=recommend,
                traces_dir=traces_dir,
                progress=progress,
            )
    data = plan.to_dict()
    _summary(data)
    if out is not None:
        out.write_text(json.dumps(data, indent=1))
        console.print(f"plan written to [bold]{out}[/]")
    if plot is not None:
        from computeport.capacity.plot import plot_plan

        plot_plan(data, plot)
        console.print(f"plot written to [bold]{plot}[/]")


def _traces_for(scenario_path: Path, scenario: Scenario) -> str | None:
    """A relative trace is looked up beside the scenario, then in the project's shared traces."""
    from computeport.capacity.service import default_traces_dir

    if (scenario_path.resolve().parent / scenario.demand.workload.trace).exists():
        return str(scenario_path.resolve().parent)
    return default_traces_dir()


def _summary(data: dict[str, object]) -> None:
    months = data["months"]
    assert isinstance(months, list)
    table = Table(title=f"{data['scenario']}: yearly view (p50 over {data['seeds']} seeds)")
    for col in ("month", "GPUs", "demand/supply", "utilisation", "median wait h", "broken"):
        table.add_column(col, justify="right")
    first = _first(months)
    for m in months:
        if m["label"].endswith(("-01", "-07")) or m is first:
            ratio = m["demand_gpu_hours"]["p50"] / max(1.0, m["supply_gpu_hours"])
            table.add_row(
                m["label"],
                f"{m['gpus']:,}",
                f"{ratio:.2f}",
                f"{m['utilisation']['p50']:.0%}",
                f"{m['wait_p50_h']['p50']:.1f}",
                "yes" if m["broken"] else "",
            )
    console.print(table)
    console.print(f"[bold]{data['answer']}[/]")
    console.print(f"wall time {data['wall_s']} s")


def _first(months: list[dict[str, object]]) -> dict[str, object] | None:
    return next((m for m in months if m["broken"]), None)


@app.command("approve")
def approve_command(
    scenario_path: Annotated[Path, typer.Argument(help="A .toml or .yaml scenario file.")],
    from_db: Annotated[
        bool, typer.Option("--db", help="Awards and pending applications from the database.")
    ] = False,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Pending applications start the month after.")
    ] = None,
) -> None:
    """Capacity-aware approval: GPU-hours the pending batch commits vs what can be delivered."""
    from computeport.capacity.demand import awards_from_scenario
    from computeport.capacity.recommend import approval_check, first_unfit
    from computeport.capacity.scenario import load_scenario
    from computeport.capacity.supply import supply_plan

    if not scenario_path.exists():
        raise fail(f"{scenario_path}: no such file")
    with domain_errors():
        scenario = load_scenario(scenario_path)
        if from_db:
            from computeport.capacity.awards_source import awards_from_db
            from computeport.cli.common import command_session

            day = dt.date.fromisoformat(as_of) if as_of else dt.datetime.now(dt.UTC).date()
            with command_session() as session:
                awards = awards_from_db(session, day)
        else:
            awards = awards_from_scenario(scenario)
    batch = [a for a in awards if a.pending]
    months = approval_check(scenario, supply_plan(scenario), batch, awards, demand_seeds=20)
    table = Table(title=f"{len(batch)} pending award(s) against deliverable GPU-hours")
    for col in (
        "month",
        "deliverable",
        "committed",
        "batch",
        "headroom",
        "other demand p50",
        "headroom after it",
    ):
        table.add_column(col, justify="right")
    for m in months:
        if m.batch or not m.fits:
            style = "red" if not m.fits else ("yellow" if m.headroom_with_demand < 0 else "")
            table.add_row(
                m.label,
                f"{m.deliverable:,.0f}",
                f"{m.committed:,.0f}",
                f"{m.batch:,.0f}",
                f"{m.headroom:,.0f}",
                f"{m.other:,.0f}",
                f"{m.headroom_with_demand:,.0f}",
                style=style,
            )
    console.print(table)
    unfit = first_unfit(months)
    tight = next((m for m in months if m.batch and m.headroom_with_demand < 0), None)
    if unfit is None:
        console.print("[bold]The batch fits the deliverable capacity in every month.[/]")
        if tight is not None:
            console.print(
                f"[yellow]With the expected unawarded demand it does not from "
                f"{tight.label}[/] (short by {-tight.headroom_with_demand:,.0f} "
                "GPU-hours that month)."
            )
    else:
        console.print(
            f"[bold red]The batch does not fit from {unfit.label}[/] "
            f"(short by {-unfit.headroom:,.0f} GPU-hours that month)."
        )
