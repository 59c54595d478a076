"""``computeport worker run`` (the background duties as their own process) and ``worker status``.

Any number of ``worker run`` processes may share one PostgreSQL: each duty is leased to one of
them at a time (``computeport.worker.leases``).  SQLite allows one.  SIGTERM or Ctrl-C stop a
worker gracefully: the duty in progress finishes (or rolls back), the leases are released.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import FrameType

import typer
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from computeport.backends import ClusterBackend
from computeport.cli.common import INSECURE_DEV_HELP, console, fail, require_secret
from computeport.kit.clock import Clock, SystemClock
from computeport.settings import Settings
from computeport.worker.start import WorkerContext

app = typer.Typer(help="The background duties' worker process.", no_args_is_help=True)


@dataclass
class _LedgerOnly:
    """The state of a worker without a cluster: posting, closing, expiry and mail only."""

    settings: Settings
    sessions: sessionmaker[Session]
    clock: Clock
    backend: ClusterBackend | None = None


@app.command("run")
def run(
    metrics_port: int | None = typer.Option(
        None, help="Serve Prometheus metrics on this port (127.0.0.1); off by default."
    ),
    metrics_addr: str = typer.Option("127.0.0.1", help="Address for --metrics-port."),
    interval: float = typer.Option(1.0, min=0.05, help="Wall seconds between rounds."),
    cluster: bool = typer.Option(
        True,
        "--cluster/--no-cluster",
        help="Open the cluster back end (advance, reconcile, ingest); --no-cluster runs only "
        "the ledger's duties (post, close, expire, mail), e.g. on a host without Slurm.",
    ),
    pace: float | None = typer.Option(
        None,
        help="Run every periodic duty at least this often, in seconds of the centre's time "
        "(default: each duty's own period, e.g. usage every 6 h, month-end daily).",
    ),
    duty: list[str] = typer.Option(  # noqa: B008 - Typer reads the default at definition
        [], "--duty", help="Run only this duty (repeatable); default: all."
    ),
    insecure_dev: bool = typer.Option(False, "--insecure-dev", help=INSECURE_DEV_HELP),
) -> None:
    """Run the background duties until SIGTERM or Ctrl-C.

    Leases last COMPUTEPORT_WORKER_LEASE_SECONDS (default 30) without a heartbeat.
    """
    from computeport.kit.errors import ValidationFailed
    from computeport.worker.leases import SecondWorker
    from computeport.worker.main import build_worker
    from computeport.worker.metrics import WorkerMetrics

    settings = Settings()
    require_secret(settings, insecure_dev)
    state: WorkerContext
    if cluster:
        from computeport.api.app import open_app_state

        state = open_app_state(settings)
    else:
        from computeport.db.engine import make_engine, make_session_factory

        state = _LedgerOnly(
            settings, make_session_factory(make_engine(settings.database_url)), SystemClock()
        )
    metrics = WorkerMetrics() if metrics_port is not None else None
    try:
        worker = build_worker(
            state,
            lease_seconds=settings.worker_lease_seconds,
            interval=interval,
            metrics=metrics,
            duties=duty,
            pace=None if pace is None else timedelta(seconds=pace),
        )
    except ValidationFailed as exc:
        raise fail(f"{exc.field}: {exc}") from exc

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        # Only set the flag: a handler may interrupt anything (even an import), so it does
        # no I/O.  A second signal stops at once; the duty's unit of work rolls back.
        if worker.stopping.is_set():
            raise KeyboardInterrupt
        worker.stopping.set()

    # The handlers go in before the worker registers: once its row is visible, a supervisor
    # (or the chaos test) may send SIGTERM, and it must stop gracefully, not die by default.
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        worker.open()
    except SecondWorker as exc:
        raise fail(str(exc)) from exc
    except ValidationFailed as exc:
        raise fail(f"{exc.field}: {exc}") from exc
    if metrics is not None and metrics_port is not None:
        metrics.serve(metrics_port, metrics_addr)
    console.print(
        f"worker {worker.leases.worker_id}: duties {', '.join(worker.duties) or '(none)'}; "
        f"lease {settings.worker_lease_seconds:g} s"
    )
    worker.run()
    console.print(f"worker {worker.leases.worker_id}: stopped, leases released")


def _when(value: datetime | None, now: datetime) -> str:
    if value is None:
        return "-"
    ago = (now - value).total_seconds()
    text = value.strftime("%Y-%m-%d %H:%M:%SZ")
    return f"{text} ({ago:.0f} s ago)" if ago >= 0 else f"{text} (in {-ago:.0f} s)"


@app.command("status")
def status(
    all_workers: bool = typer.Option(False, "--all", help="Also list stopped workers."),
) -> None:
    """Each worker (id, host, pid, started, last heartbeat), its duties, last run, last error."""
    from computeport.db.engine import make_engine, make_session_factory
    from computeport.models.worker import DutyLease, WorkerProcess

    settings = Settings()
    sessions = make_session_factory(make_engine(settings.database_url))
    now = datetime.now(UTC)
    ttl = timedelta(seconds=settings.worker_lease_seconds)
    with sessions() as session:
        query = select(WorkerProcess).order_by(WorkerProcess.started_at.desc())
        if not all_workers:
            query = query.where(WorkerProcess.stopped_at.is_(None))
        workers = list(session.scalars(query))
        leases = list(session.scalars(select(DutyLease).order_by(DutyLease.duty)))
    held: dict[str, list[str]] = {}
    for lease in leases:
        if lease.holder is not None and lease.expires_at is not None and lease.expires_at > now:
            held.setdefault(lease.holder, []).append(lease.duty)

    table = Table(title="Workers")
    for column in ("id", "host", "pid", "started", "last heartbeat", "state", "duties"):
        table.add_column(column)
    for w in workers:
        if w.stopped_at is not None:
            state = "stopped"
        elif w.heartbeat_at > now - ttl:
            state = "[green]live[/]"
        else:
            state = "[red]lost[/]"
        table.add_row(
            w.id,
            w.host,
            str(w.pid),
            _when(w.started_at, now),
            _when(w.heartbeat_at, now),
            state,
            ", ".join(held.get(w.id, [])) or "-",
        )
    console.print(table)

    duties = Table(title="Duties")
    for column in ("duty", "holder", "token", "lease until", "last run", "last ok", "last error"):
        duties.add_column(column)
    for lease in leases:
        live = lease.expires_at is not None and lease.expires_at > now
        duties.add_row(
            lease.duty,
            (lease.holder or "-") if live else "[yellow]free[/]",
            str(lease.token),
            _when(lease.expires_at, now),
            _when(lease.last_run_at, now),
            _when(lease.last_ok_at, now),
            (lease.last_error or "-")[:80],
        )
    console.print(duties)
