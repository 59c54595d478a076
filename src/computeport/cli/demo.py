"""``computeport demo``: a live centre on this machine in one command.

It creates (or upgrades) a SQLite database under ``var/demo/``, seeds the Cyberport scenario,
opens the embedded virtual cluster (a few months of history replayed from a workload fitted to
the Philly trace, then live in accelerated time), starts the background worker (advance the
cluster, ingest and rate usage, post to the ledger, expire awards), serves the portal and the
API at http://127.0.0.1:8000 and prints the ready-made demo logins for each role.

It also runs the centre's inference service (:mod:`computeport.cli.demo_gateway`): a served
model, a government department with an award, and its application's gateway key, printed with
the lines that call the demo's gateway with the ``openai`` client — chat, and transcription
through a speech server (faster-whisper-server) started beside the model server.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from sqlalchemy import inspect

from computeport.cli.common import console, fail
from computeport.cli.demo_gateway import (
    EXTERNAL_SPEECH_UPSTREAM,
    EXTERNAL_UPSTREAM,
    LocalModel,
    gateway_panel,
    setup_gateway,
    start_local_model,
    start_local_speech,
)
from computeport.cli.serve import DEFAULT_HOST, DEFAULT_PORT, build_app, run_server
from computeport.db.engine import make_engine, make_session_factory, unit_of_work
from computeport.gateway.routes import open_gateway
from computeport.gateway.whisper_server import WhisperServer
from computeport.http.state import AppState
from computeport.kit.child_process import lowest_priority_dying_with_parent
from computeport.seed.gateway_demo import DEMO_MODEL
from computeport.settings import Settings
from computeport.web.views.capacity_plan import SCENARIO, plan_path

DEMO_DIR = Path("var/demo")
"""The scheme's start: the assumed price applies to all of the demo's usage."""
DEMO_DB = DEMO_DIR / "computeport.sqlite3"


@dataclass(frozen=True)
class DemoLoginRow:
    """What the login page and the terminal show of one demo login."""

    role: str
    email: str
    password: str


DEMO_CLOSE_GRACE_DAYS = 2
"""The demo closes each month two simulated days after it ends, so its invoices, subsidy
statements and billing desk fill in as the centre lives (a real centre may close by hand)."""


def demo_settings(directory: Path, speed: float) -> Settings:
    """Settings of the demo deployment: SQLite under ``directory``, the virtual cluster."""
    return Settings(
        database_url=f"sqlite:///{directory / DEMO_DB.name}",
        backend="sim",
        sim_speed=speed,
        auto_close_grace_days=DEMO_CLOSE_GRACE_DAYS,
        attachments_dir=directory / "attachments",
        secret_key="computeport-demo-only-not-secret",  # noqa: S106 - a public demo
    )


def prepare_database(settings: Settings) -> str:
    """Create or upgrade the schema; returns what was done (for the terminal)."""
    from computeport.db.migrate import current_revision, upgrade

    engine = make_engine(settings.database_url)
    try:
        tables = set(inspect(engine).get_table_names())
        if tables and current_revision(engine) is None:
            raise fail(
                f"{settings.database_url} holds tables no migration made; start again with --fresh"
            )
        upgrade(engine)
        return "schema upgraded" if tables else "database created"
    finally:
        engine.dispose()


def seed(settings: Settings) -> str:
    """Seed the Cyberport scenario (idempotent), its assumed rate card included, so usage can
    be rated, and the year of applications and awards before today (the demo's history,
    :mod:`computeport.seed.demo_history`); returns a summary."""
    from computeport.kit.clock import SystemClock
    from computeport.seed.cyberport import seed_cyberport
    from computeport.seed.demo_centre import seed_demo_centre
    from computeport.seed.demo_history import seed_demo_history

    engine = make_engine(settings.database_url)
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            result = seed_cyberport(session)
            made = sum(result.created.values())
        with unit_of_work(make_session_factory(engine)) as session:
            made += seed_demo_centre(session, SystemClock())
        with unit_of_work(make_session_factory(engine)) as session:
            made += seed_demo_history(session, SystemClock().now().date())
    finally:
        engine.dispose()
    return f"seeded {made} records" if made else "scenario already seeded"


def demo_logins() -> list[DemoLoginRow]:
    from computeport.seed.demo import demo_logins as seeded

    return [DemoLoginRow(d.role.value, d.email, d.password) for d in seeded()]


def department_row() -> DemoLoginRow:
    """The department admin's login (the gateway's customer), shown with the others."""
    from computeport.seed.demo import department_login

    login = department_login()
    return DemoLoginRow("department_admin", login.email, login.password)


def logins_table(rows: list[DemoLoginRow], url: str) -> Table:
    table = Table(title=f"computeport demo — open {url}", title_style="bold", show_lines=False)
    table.add_column("role", style="cyan")
    table.add_column("email")
    table.add_column("password", style="green")
    for row in rows:
        table.add_row(row.role.replace("_", " "), row.email, row.password)
    return table


def open_state(settings: Settings, history: timedelta) -> AppState:
    """The app's state with the virtual cluster opened on ``history`` of simulated past."""
    from computeport.award.desired import desired_state_reader
    from computeport.backends.registry import build_backend
    from computeport.backends.types.connection import ClusterConnection
    from computeport.seed.demo_centre import demo_cluster_name

    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    with sessions() as session:
        name = demo_cluster_name(session)
    # Cyberport's virtual cluster under its inventory name (``aisc`` on a demo from before
    # sites); no partitions given: the Cyberport shape with its scavenger overlay.
    connection = ClusterConnection(name, "sim", {"speed": settings.sim_speed})
    backend, clock = build_backend(
        connection, sessions, desired=desired_state_reader(sessions), history=history
    )
    return AppState(settings, engine, sessions, clock, backend)


def start_worker(state: Any) -> Any:
    """The worker (``computeport worker run``'s code) on a thread beside the server.

    The same :class:`~computeport.worker.main.Worker` as the worker process, with its lease
    (SQLite allows one worker: a second demo on the same database is refused).  The first
    round runs here, before the server starts, so the replayed history is ingested and rated
    (the charts are full) by the time the logins are printed.
    """
    from computeport.worker.leases import SecondWorker
    from computeport.worker.main import build_worker

    worker = build_worker(state, lease_seconds=state.settings.worker_lease_seconds)
    try:
        worker.open()
    except SecondWorker as exc:
        raise fail(str(exc)) from exc
    worker.run_round()
    return worker.start()


DEMO_PLAN_SEEDS = 3
"""Enough for bands on the page; the full 20-seed plan with the build search takes far longer."""


def start_capacity_plan(
    settings: Settings,
    scenario: Path = SCENARIO,
    today: date | None = None,
    inventory: Path | None = None,
) -> threading.Thread | None:
    """Write a small capacity plan for the capacity page in the background.

    The plan runs in a child process (``computeport capacity plan``, one worker, lowest CPU
    priority, no build search) so it neither holds the server's GIL nor starves the live
    cluster; a thread waits for it and moves the finished plan into place, so the page never
    reads a half-written file. An existing plan is kept; no scenario file, no plan. Given the
    cluster's ``today``, the plan's flows are fitted from the demo's own history as of that day
    (``capacity plan --db --today``: the page lists each rate with its source), and the
    backtest of that history follows (``computeport capacity backtest --today``: the virtual
    cluster's clock runs ahead of the wall clock), so the page shows how well the flows
    forecast that history beside the plan. Given the demo's
    ``inventory``, the plan's supply is its clusters (``capacity plan --inventory``).
    """
    target = plan_path(settings)
    if target.exists() or not scenario.is_file():
        return None
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    command = [
        sys.executable,
        "-c",
        "from computeport.cli.main import app; app()",
        "capacity",
        "plan",
        str(scenario),
        "--seeds",
        str(DEMO_PLAN_SEEDS),
        "--workers",
        "1",
        "--no-recommend",
        "--out",
        str(partial),
        *(["--inventory", str(inventory)] if inventory is not None else []),
        *(["--db", "--today", today.isoformat()] if today is not None else []),
    ]

    def run() -> None:
        done = subprocess.run(  # noqa: S603 - our own CLI, arguments built above
            command,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=lowest_priority_dying_with_parent if os.name == "posix" else None,
            env=os.environ | {"COMPUTEPORT_DATABASE_URL": settings.database_url},
            check=False,
        )
        if done.returncode == 0 and partial.exists():
            partial.replace(target)
            if today is not None:
                _backtest(settings, scenario, today, target.with_name("backtest.json"))

    thread = threading.Thread(target=run, name="capacity-plan", daemon=True)
    thread.start()
    return thread


def _backtest(settings: Settings, scenario: Path, today: date, out: Path) -> None:
    command = [
        sys.executable,
        "-c",
        "from computeport.cli.main import app; app()",
        "capacity",
        "backtest",
        str(scenario),
        "--today",
        today.isoformat(),
        "--out",
        str(out),
    ]
    subprocess.run(  # noqa: S603 - our own CLI, arguments built above
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=lowest_priority_dying_with_parent if os.name == "posix" else None,
        env=os.environ | {"COMPUTEPORT_DATABASE_URL": settings.database_url},
        check=False,
    )


def demo(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = DEFAULT_HOST,
    port: Annotated[int, typer.Option(help="Port to listen on.")] = DEFAULT_PORT,
    speed: Annotated[
        float, typer.Option(help="Simulated seconds per wall second (1440: a day a minute).")
    ] = 1440.0,
    directory: Annotated[
        Path, typer.Option("--dir", help="Where the demo keeps its database.")
    ] = DEMO_DIR,
    fresh: Annotated[bool, typer.Option(help="Start again from an empty database.")] = False,
    history_days: Annotated[
        int, typer.Option(help="Simulated past a new cluster starts with, in days.")
    ] = 90,
    model_upstream: Annotated[
        str | None,
        typer.Option(
            help="An OpenAI-compatible server (base URL ending in /v1) for the demo's model, "
            "instead of starting llama.cpp here."
        ),
    ] = None,
    model: Annotated[str, typer.Option(help="The model name the department calls.")] = DEMO_MODEL,
    model_port: Annotated[
        int, typer.Option(help="Port of the local model server (default: --port + 1).")
    ] = 0,
    speech_upstream: Annotated[
        str | None,
        typer.Option(
            help="A transcription server (base URL ending in /v1) for whisper-1, instead of "
            "starting faster-whisper-server here."
        ),
    ] = None,
    speech_port: Annotated[
        int, typer.Option(help="Port of the local speech server (default: --port + 2).")
    ] = 0,
) -> None:
    """Seed the Cyberport scenario, start the virtual cluster and serve the portal."""
    if speed <= 0:
        raise fail("--speed: must be positive")
    if not 0 <= history_days <= 365:
        raise fail("--history-days: from 0 to 365")
    started = time.monotonic()
    directory.mkdir(parents=True, exist_ok=True)
    settings = demo_settings(directory, speed)
    if fresh:
        for suffix in ("", "-wal", "-shm"):
            (directory / (DEMO_DB.name + suffix)).unlink(missing_ok=True)
    with console.status("Preparing the database…"):
        console.print(f"• {prepare_database(settings)} ({directory / DEMO_DB.name})")
        console.print(f"• {seed(settings)}")
    local, upstream = _model_server(directory, model_upstream, model, model_port or port + 1)
    speech, speech_url = _speech_server(directory, speech_upstream, speech_port or port + 2)
    gateway = setup_gateway(settings, [upstream], model, speech_upstreams=[speech_url])
    with console.status("Opening the virtual cluster and replaying its history…"):
        state = open_state(settings, timedelta(days=history_days))
        worker = start_worker(state)
    app = build_app(settings, state)
    # The gateway now, not at the first request: the department's and the operator's pages
    # read its (wall) clock for the month, not the simulated cluster's, which runs ahead.
    app.state.gateway = open_gateway(state)
    # The plan runs with --db: its supply is the centre in the database (Sandy Ridge on the
    # day the demo commissions it), not the inventory file's planning date.
    if start_capacity_plan(settings, today=state.clock.now().date()) is not None:
        console.print(
            f"• writing a {DEMO_PLAN_SEEDS}-seed capacity plan in the background "
            f"({plan_path(settings)}; the capacity page fills in when it is done)"
        )
    rows = [*demo_logins(), department_row()]
    app.state.demo_logins = rows
    url = f"http://{host}:{port}"
    console.print(f"• ready in {time.monotonic() - started:.0f} s")
    console.print(logins_table(rows, url))
    console.print(
        gateway_panel(gateway, url, local=local is not None, local_speech=speech is not None)
    )
    console.print("Press Ctrl+C to stop. The centre lives a simulated day a minute.", style="dim")
    try:
        run_server(app, host, port)
    finally:
        if worker is not None:
            worker.stop()
        if local is not None:
            local.stop()
        if speech is not None:
            speech.stop()


def _model_server(
    directory: Path, upstream: str | None, model: str, port: int
) -> tuple[LocalModel | None, str]:
    """The local model server (started here) and the upstream URL the deployment gets."""
    if upstream is not None:
        return None, upstream
    with console.status(f"Starting the model server ({model}, llama.cpp on port {port})…"):
        started = start_local_model(directory, port, model)
    if isinstance(started, LocalModel):
        console.print(f"• model server {started.base_url} (log: {started.log})")
        return started, started.base_url
    console.print(
        f"• no local model server: {started}; the deployment points at {EXTERNAL_UPSTREAM}",
        style="yellow",
    )
    return None, EXTERNAL_UPSTREAM


def _speech_server(
    directory: Path, upstream: str | None, port: int
) -> tuple[WhisperServer | None, str]:
    """The local speech server (started here) and the URL the speech deployment gets."""
    if upstream is not None:
        return None, upstream
    with console.status(f"Starting the speech server (whisper-1, port {port})…"):
        started = start_local_speech(directory, port)
    if isinstance(started, WhisperServer):
        console.print(f"• speech server {started.base_url} (log: {started.log})")
        return started, started.base_url
    console.print(
        f"• no local speech server: {started}; whisper-1 points at {EXTERNAL_SPEECH_UPSTREAM}",
        style="yellow",
    )
    return None, EXTERNAL_SPEECH_UPSTREAM
