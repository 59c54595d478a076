"""``computeport lab``: replay the centre's own recent workload under another policy.

    computeport lab replay --from 2026-09-01 --to 2026-11-30 [--policy policy.toml] \
        --change reserve=government:10 --change half_life_days=7 \
        [--json study.json] [--csv study.csv] [--plot study.png] [--save]

The jobs come from the deployment's cluster: the virtual cluster's own history (``sim``), else
the usage records (``slurm``). Prints the baseline's error against what happened and, side by
side, wait and slowdown per category and organisation for each change. Bad input (an empty
window, an unknown category or organisation, a cluster smaller than the largest job, a policy
file with an unknown key) gets a message naming the option or line and exit code 2; nothing is
written or saved.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from computeport.cli.common import console, domain_errors, fail

if TYPE_CHECKING:
    from computeport.lab import History, Study

app = typer.Typer(
    help="The policy lab: what if the centre ran another policy?", no_args_is_help=True
)


def _day(value: str, option: str) -> dt.datetime:
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise fail(f"{option} must be a date (YYYY-MM-DD), not {value!r}") from None
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


@app.command("replay")
def replay_command(
    start: Annotated[str, typer.Option("--from", help="First day of the window (UTC).")],
    end: Annotated[str, typer.Option("--to", help="Day after the window (UTC, exclusive).")],
    changes: Annotated[
        list[str] | None,
        typer.Option("--change", help="A proposed change, e.g. reserve=government:10."),
    ] = None,
    policy: Annotated[
        Path | None, typer.Option("--policy", help="The policy as configured today (TOML).")
    ] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the study.")] = None,
    csv_out: Annotated[Path | None, typer.Option("--csv", help="Write the table.")] = None,
    plot: Annotated[Path | None, typer.Option("--plot", help="Draw waits (PNG).")] = None,
    save: Annotated[bool, typer.Option("--save", help="Keep the study in the database.")] = False,
) -> None:
    """Replay the window as it was (the baseline) and under each --change."""
    from computeport.kit.clock import to_epoch_seconds
    from computeport.lab import run_study
    from computeport.lab.policy_file import parse_policy

    lo, hi = _day(start, "--from"), _day(end, "--to")
    if hi <= lo:
        raise fail("--to must be after --from")
    config = None
    if policy is not None:
        if not policy.is_file():
            raise fail(f"--policy {policy}: no such file")
        with domain_errors():
            config = parse_policy(policy.read_text(encoding="utf-8"), str(policy))
    history = _history()
    from_s = to_epoch_seconds(lo) - history.origin_s
    to_s = to_epoch_seconds(hi) - history.origin_s
    with (
        Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                 console=console, transient=True) as bar,
        domain_errors(),
    ):  # fmt: skip
        task = bar.add_task("replaying", total=None)
        study = run_study(
            history,
            from_s,
            to_s,
            changes or [],
            policy=config,
            progress=lambda name: bar.update(task, description=f"replaying {name}"),
        )
    _print(study)
    if json_out is not None:
        json_out.write_text(json.dumps(study.to_dict(), indent=2), encoding="utf-8")
    if csv_out is not None:
        csv_out.write_text(study.to_csv(), encoding="utf-8")
    if plot is not None:
        from computeport.lab.plot import plot_study

        plot_study(study, plot)
        console.print(f"chart: {plot}")
    if save:
        _save(study, start, end, policy, changes or [])


def _history() -> History:
    """The deployment's history: the virtual cluster's log, else the usage records."""
    from computeport.award.desired import desired_state_reader
    from computeport.backends.factory import open_backend
    from computeport.db.engine import make_engine, make_session_factory
    from computeport.lab.service import history_for
    from computeport.settings import Settings

    settings = Settings()
    engine = make_engine(settings.database_url)
    try:
        sessions = make_session_factory(engine)
        backend = None
        if settings.backend == "sim":
            backend, _clock = open_backend(
                settings, sessions, desired=desired_state_reader(sessions)
            )
        with sessions() as session:
            return history_for(session, backend)
    finally:
        engine.dispose()


def _save(study: Study, start: str, end: str, policy: Path | None, changes: list[str]) -> None:
    from computeport.cli.common import command_session
    from computeport.lab.store import save_study

    with command_session() as session:
        saved = save_study(session, study, label=f"{start}..{end}", changes=changes)
    console.print(f"saved as study {saved}")


def _print(study: Study) -> None:
    b = study.baseline
    console.print(
        f"{study.jobs_in_window} jobs in the window; baseline vs what happened: "
        f"{b.exact}/{b.compared} starts exact, mean |error| {b.mean_abs_start_error_s:.0f} s, "
        f"mean wait {b.replayed_wait_mean_s / 3600:.2f} h replayed vs "
        f"{b.actual_wait_mean_s / 3600:.2f} h real"
    )
    table = Table(title="wait (hours) and slowdown by category")
    table.add_column("scenario")
    table.add_column("group")
    for name in ("jobs", "mean", "p50", "p95", "slowdown", "utilisation"):
        table.add_column(name, justify="right")
    for o in study.outcomes:
        for g in (o.overall, *o.by_category):
            table.add_row(
                o.name, g.group, str(g.jobs), f"{g.wait_mean_s / 3600:.2f}",
                f"{g.wait_p50_s / 3600:.2f}", f"{g.wait_p95_s / 3600:.2f}",
                f"{g.slowdown_mean:.2f}", f"{o.utilisation:.1%}" if g.group == "all" else "",
            )  # fmt: skip
    console.print(table)
