"""``computeport capacity``: plan capacity from a scenario file.

    computeport capacity plan scenarios/cyberport.toml --out plan.json --plot plan.png \
        [--seeds N] [--workers N] [--no-recommend] [--traces DIR]
    computeport capacity approve scenarios/cyberport.toml [--db [--as-of 2026-03-14]]
    computeport capacity backtest scenarios/cyberport.toml [--history-days 365] \
        [--as-of 2026-05] [--horizon 6] [--out backtest.json]

Prints when the targets first break and what to build by when; a bad scenario file gets a
message naming the field (and line) and exit code 2.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from computeport.cli.common import console, domain_errors, fail
from computeport.kit.errors import ValidationFailed

if TYPE_CHECKING:
    from computeport.capacity.history import SchemeHistory
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
    from_db: Annotated[
        bool,
        typer.Option("--db", help="Fit the flows from the configured database's history."),
    ] = False,
    database: Annotated[
        str | None,
        typer.Option("--database", help="Fit the flows from this database (a URL)."),
    ] = None,
    today: Annotated[
        str | None,
        typer.Option("--today", help="The database's today (YYYY-MM-DD; default: the date)."),
    ] = None,
    inventory: Annotated[
        Path | None,
        typer.Option(
            "--inventory",
            help="The centre's inventory TOML: its clusters are the supply (the scenario's "
            "sites are not read). Default: COMPUTEPORT_INVENTORY_FILE, if set.",
        ),
    ] = None,
) -> None:
    """Simulate every month of SCENARIO_PATH's horizon and recommend what to build.

    With --db or --database the horizon starts at today's month, today's awards and open
    applications come from the database, and every flow rate the history can measure is
    measured (the rest stay the scenario's labelled assumptions; the plan lists which).
    """
    from computeport.capacity.fanout import LocalRunner
    from computeport.capacity.scenario import load_scenario
    from computeport.capacity.service import plan_capacity

    if not scenario_path.exists():
        raise fail(f"{scenario_path}: no such file")
    try:
        day = dt.date.fromisoformat(today) if today else dt.datetime.now(dt.UTC).date()
    except ValueError:
        raise fail(f"--today: not a date (YYYY-MM-DD): {today!r}") from None
    with domain_errors():
        scenario = load_scenario(scenario_path)
    use_db = from_db or database is not None
    scenario = _supply_from_inventory(scenario, inventory, database if use_db else None, use_db)
    sources: list[dict[str, object]] = []
    if use_db:
        scenario, sources = _fitted(scenario_path, scenario, database, day)
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
    if sources:
        data["rate_sources"] = sources  # which flow rates the database measured
    _summary(data)
    if out is not None:
        out.write_text(json.dumps(data, indent=1))
        console.print(f"plan written to [bold]{out}[/]")
    if plot is not None:
        from computeport.capacity.plot import plot_plan

        plot_plan(data, plot)
        console.print(f"plot written to [bold]{plot}[/]")


def _fitted(
    scenario_path: Path, scenario: Scenario, url: str | None, today: dt.date
) -> tuple[Scenario, list[dict[str, object]]]:
    """The scenario with its flows fitted from the database; prints where each rate came from."""
    from dataclasses import asdict

    from computeport.capacity.fitted_scenario import fit_scenario
    from computeport.capacity.history_source import history_from_db
    from computeport.cli.common import command_session
    from computeport.settings import Settings

    if scenario.demand.flows is None:
        raise fail(f"{scenario_path}: demand.flows: fitting from a database needs the flows")
    settings = Settings(database_url=url) if url is not None else None
    with console.status("Reading the history…"), command_session(settings) as session:
        history = history_from_db(session, scenario, today)
    with domain_errors():
        fitted = fit_scenario(scenario, history, today)
    table = Table(title=f"flow rates as of {today.replace(day=1).isoformat()}")
    for col in ("rate", "value", "from", "evidence"):
        table.add_column(col)
    for src in fitted.sources:
        table.add_row(src.name, src.value, "database" if src.fitted else "scenario", src.why)
    console.print(table)
    return fitted.scenario, [asdict(src) for src in fitted.sources]


def _supply_from_inventory(
    scenario: Scenario, path: Path | None, url: str | None, from_db: bool
) -> Scenario:
    """The scenario with the centre's clusters as its supply: an ``--inventory`` file's when
    given; else, with ``--db``/``--database``, the database's loaded inventory (the centre as it
    runs: dates and clusters changed since the file was loaded); else the file of
    ``COMPUTEPORT_INVENTORY_FILE``, if set; the scenario as it is otherwise."""
    from computeport.capacity.inventory_supply import scenario_from_inventory
    from computeport.cli.clusters import read_inventory
    from computeport.cli.common import command_session
    from computeport.inventory.export import declaration_of
    from computeport.settings import Settings

    if path is None and from_db:
        settings = Settings(database_url=url) if url is not None else None
        with command_session(settings) as session:
            decl = declaration_of(session)
        if decl is not None:
            with domain_errors():
                planned = scenario_from_inventory(scenario, decl, "the database")
            sites = ", ".join(s.name for s in planned.sites)
            console.print(f"supply: the clusters in the database ({sites})", highlight=False)
            return planned
    path = path if path is not None else Settings().inventory_file
    if path is None:
        return scenario
    decl = read_inventory(path)
    with domain_errors():
        planned = scenario_from_inventory(scenario, decl, path.name)
    sites = ", ".join(s.name for s in planned.sites)
    console.print(f"supply: the clusters of {path} ({sites})", highlight=False, soft_wrap=True)
    return planned


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
    _flow_table(months)
    console.print(f"[bold]{data['answer']}[/]")
    console.print(f"wall time {data['wall_s']} s")


def _flow_table(months: list[dict[str, Any]]) -> None:
    """Demand by flow, half-yearly (p50 with the p10–p90 band), where the plan has flows."""
    if not months or not months[0].get("flows"):
        return
    names = list(months[0]["flows"])
    table = Table(title="demand by flow, thousand GPU-hours a month: p50 (p10–p90)")
    table.add_column("month", justify="right")
    for name in names:
        table.add_column(name.replace("_", " "), justify="right")
    table.add_column("envelope left", justify="right")
    for m in months:
        if m["label"].endswith(("-01", "-07")):
            cells = [
                f"{b['p50'] / 1e3:,.0f} ({b['p10'] / 1e3:,.0f}–{b['p90'] / 1e3:,.0f})"
                for b in (m["flows"][n] for n in names)
            ]
            gone = m.get("exhausted_share", 0.0)
            table.add_row(m["label"], *cells, f"{1 - gone:.0%} of seeds")
    console.print(table)


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


@app.command("backtest")
def backtest_command(
    scenario_path: Annotated[Path, typer.Argument(help="A .toml or .yaml scenario file.")],
    history_days: Annotated[
        int | None,
        typer.Option(
            "--history-days",
            help="Backtest on a fresh demo centre with this much simulated history (1-365).",
        ),
    ] = None,
    as_of: Annotated[
        list[str] | None, typer.Option("--as-of", help="Only this month (YYYY-MM); repeatable.")
    ] = None,
    horizon: Annotated[int, typer.Option("--horizon", min=1, max=24, help="Months.")] = 6,
    seeds: Annotated[int, typer.Option("--seeds", min=10, max=5000, help="Seeds.")] = 200,
    out: Annotated[Path | None, typer.Option("--out", help="Write the backtest as JSON.")] = None,
    today: Annotated[
        str | None,
        typer.Option("--today", help="The database's today (YYYY-MM-DD; default: the date)."),
    ] = None,
) -> None:
    """Plan as of past months from what was known then; compare with what happened.

    The history is the configured database's (usage, awards, applications), or with
    --history-days a throwaway demo centre's.
    """
    from computeport.capacity.backtest import run_backtest
    from computeport.capacity.flow_inputs import flow_params
    from computeport.capacity.scenario import load_scenario

    if not scenario_path.exists():
        raise fail(f"{scenario_path}: no such file")
    if history_days is not None and not 1 <= history_days <= 365:
        raise fail("--history-days: from 1 to 365")
    try:
        day = dt.date.fromisoformat(today) if today else dt.datetime.now(dt.UTC).date()
    except ValueError:
        raise fail(f"--today: not a date (YYYY-MM-DD): {today!r}") from None
    with domain_errors():
        scenario = load_scenario(scenario_path)
    if scenario.demand.flows is None:
        raise fail(f"{scenario_path}: demand.flows: a backtest needs the scenario's flows")
    with console.status("Reading the history…"):
        history = _history(scenario, history_days, day)
    prior = flow_params(scenario, scenario.demand.flows, 0.0)
    try:
        result = run_backtest(history, prior, horizon=horizon, seeds=seeds, as_of=as_of)
    except ValidationFailed as exc:
        raise fail(f"--as-of: {exc}") from None
    table = Table(title=f"backtest over {len(result.as_of)} month(s), {seeds} seeds")
    for col in ("horizon", "cases", "demand error (p50)", "utilisation error", "p10-p90 coverage"):
        table.add_column(col, justify="right")
    for s in result.scores:
        table.add_row(
            f"{s.horizon} mo",
            str(s.cases),
            f"{s.demand_error:.1%}",
            f"{s.utilisation_error_points:.1f} pt",
            f"{s.coverage:.0%} of {s.tested}",
        )
    console.print(table)
    tested = sum(o.informative for o in result.outcomes)
    console.print(
        f"overall p10-p90 coverage {result.coverage:.0%} of {tested} outcomes that test the band "
        "(months with nothing forecast and nothing used are right by construction)"
    )
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        partial = out.with_name(out.name + ".partial")
        partial.write_text(json.dumps(result.to_dict(), indent=1))
        partial.replace(out)
        console.print(f"backtest written to [bold]{out}[/]")


def _history(scenario: Scenario, history_days: int | None, today: dt.date) -> SchemeHistory:
    """The configured database's history, or a throwaway demo centre's (``history_days``)."""
    from computeport.capacity.history_source import history_from_db

    if history_days is None:
        from computeport.cli.common import command_session

        with command_session() as session:
            return history_from_db(session, scenario, today)
    import tempfile
    from datetime import timedelta

    from computeport.cli.demo import demo_settings, open_state, prepare_database, seed
    from computeport.db.engine import make_session_factory
    from computeport.worker.main import build_worker

    with tempfile.TemporaryDirectory(prefix="computeport-backtest-") as tmp:
        settings = demo_settings(Path(tmp), 1440.0)
        prepare_database(settings)
        seed(settings)
        state = open_state(settings, timedelta(days=history_days))
        worker = build_worker(state, lease_seconds=settings.worker_lease_seconds)
        worker.open()
        worker.run_round()
        now = state.clock.now().date()
        with make_session_factory(state.engine)() as session:
            history = history_from_db(session, scenario, now)
        state.engine.dispose()
        return history
