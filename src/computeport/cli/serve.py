"""``computeport serve``: the API and the portal under uvicorn on 127.0.0.1:8000.

:func:`build_app` is where the two edges meet: the API from ``create_app`` with the portal
mounted on it (the CLI is the one layer allowed to import both).

``--workers N`` runs N API processes under uvicorn's supervisor, each building its app from the
environment (:func:`app_factory`), for load and so that one process can be restarted while the
others answer.  N > 1 needs PostgreSQL: SQLite has one writer, and N processes queueing on its
lock would only add latency.  Under systemd or another process manager, run several
single-process ``serve`` units on different ports behind the reverse proxy instead
(docs/deploy.md).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import typer

from computeport.cli.common import INSECURE_DEV_HELP, console, fail, require_secret
from computeport.settings import Settings

if TYPE_CHECKING:
    from fastapi import FastAPI

    from computeport.http.state import AppState

# FastAPI, the API routers and the portal are imported when an app is built, not when the
# command is registered: ``computeport --help`` should not pay for the whole web stack.

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def build_app(settings: Settings | None = None, state: AppState | None = None) -> FastAPI:
    """The whole web application: REST API (OpenAPI at /openapi.json), /healthz and the portal."""
    from computeport.api.app import create_app
    from computeport.web.portal import mount_portal

    settings = settings or (state.settings if state is not None else Settings())
    app = create_app(settings, state)
    mount_portal(app, settings)
    return app


def preflight_inventory(settings: Settings) -> None:
    """With ``COMPUTEPORT_INVENTORY_FILE`` set, exit 2 before serving on a bad file, with every
    problem and its line: the message ``computeport clusters check FILE --database-url`` prints.

    The app checks again when it opens its state (so does every ``--workers`` process); this
    check first keeps a bad file from starting a supervisor whose processes would all die.
    """
    if settings.inventory_file is None:
        return
    from computeport.api.app import refuse_bad_inventory as check
    from computeport.cli.clusters import problems_message
    from computeport.db.engine import make_engine, make_session_factory
    from computeport.inventory.errors import InventoryInvalid

    engine = make_engine(settings.database_url)
    try:
        check(make_session_factory(engine), settings.inventory_file)
    except InventoryInvalid as exc:
        raise fail(f"refusing to start: {problems_message(exc)}") from None
    finally:
        engine.dispose()


def app_factory() -> FastAPI:
    """For ``uvicorn --factory computeport.cli.serve:app_factory`` (settings from the env).

    Refuses the published secret key as ``serve`` does (``COMPUTEPORT_INSECURE_DEV=1`` is the
    ``--insecure-dev`` of a process started this way).
    """
    from computeport.settings import require_production_secret

    settings = Settings()
    insecure_dev = os.environ.get("COMPUTEPORT_INSECURE_DEV", "").lower() in ("1", "true", "yes")
    require_production_secret(settings, insecure_dev=insecure_dev)
    app = build_app(settings)
    freeze_startup_heap()
    return app


def freeze_startup_heap() -> None:
    """Move every object alive now (modules, the app, its routes, SQLAlchemy's mappers) out of
    the cyclic garbage collector's reach, once a serving process has built its app.

    Why: those quarter-million objects live as long as the process, yet each full collection
    walked them all: under the gateway's load one came about every 20 seconds and stopped the
    event loop for 110-160 ms, every request in flight waiting (the p99).  Frozen
    (:func:`gc.freeze`), they are never scanned again; what requests allocate is collected as
    before.  Only serving processes call this: a test process builds and drops apps by the
    hundred, and frozen garbage cycles would never be freed.
    """
    import gc

    gc.collect()
    gc.freeze()


def run_server(app: FastAPI, host: str, port: int, *, log_level: str = "warning") -> None:
    """Serve ``app`` until interrupted (uvicorn, one process: SQLite allows one writer)."""
    import uvicorn

    freeze_startup_heap()
    uvicorn.run(app, host=host, port=port, log_level=log_level, proxy_headers=False)


FACTORY = "computeport.cli.serve:app_factory"

PROCESS_HEALTHCHECK_S = 60
"""How long uvicorn's supervisor waits for a process to answer its health ping and, in a
rolling restart (SIGHUP), for a replacement to be serving.  uvicorn's default (5 s) is shorter
than a process takes to import the whole application on a busy machine: the supervisor then
kills every process before it starts, forever, and a rolling restart gives up."""


def refuse_workers(settings: Settings, workers: int) -> str | None:
    """Why ``--workers`` cannot be honoured here, or ``None``."""
    if workers < 1:
        return f"--workers must be at least 1, not {workers}"
    if workers > 1 and settings.database_url.startswith("sqlite"):
        return (
            f"--workers {workers} needs PostgreSQL: the embedded SQLite database "
            f"({settings.database_url}) has a single writer, so serve it with one process, or "
            "set COMPUTEPORT_DATABASE_URL=postgresql+psycopg://user@host/dbname "
            "(docs/deploy.md)"
        )
    return None


def run_workers(host: str, port: int, workers: int, *, log_level: str = "warning") -> None:
    """``workers`` API processes on one socket, each from :data:`FACTORY` (settings from the
    environment, which the processes inherit); uvicorn restarts one that dies."""
    import uvicorn

    uvicorn.run(
        FACTORY,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        proxy_headers=False,
        timeout_worker_healthcheck=PROCESS_HEALTHCHECK_S,
    )


def serve(
    host: str = typer.Option(DEFAULT_HOST, help="Address to listen on."),
    port: int = typer.Option(DEFAULT_PORT, help="Port to listen on."),
    log_level: str = typer.Option("info", help="uvicorn log level."),
    insecure_dev: bool = typer.Option(False, "--insecure-dev", help=INSECURE_DEV_HELP),
    workers: int = typer.Option(
        1, "--workers", help="API processes (more than 1 needs PostgreSQL).", show_default=True
    ),
) -> None:
    """Serve the REST API and the web portal (OpenAPI at /openapi.json, health at /healthz,
    readiness at /readyz).

    The background duties run apart: ``computeport worker run`` (one or more processes).
    """
    settings = Settings()
    require_secret(settings, insecure_dev)
    refusal = refuse_workers(settings, workers)
    if refusal is not None:
        raise typer.BadParameter(refusal, param_hint="--workers")
    preflight_inventory(settings)
    if workers > 1:
        # The background duties are not run by API processes: `computeport worker run`.
        console.print(
            f"computeport on [bold]http://{host}:{port}[/] with {workers} API processes "
            "(background duties: `computeport worker run`)"
        )
        if insecure_dev:  # the processes start from the factory, which reads it from the env
            os.environ["COMPUTEPORT_INSECURE_DEV"] = "1"
        run_workers(host, port, workers, log_level=log_level)
        return
    app = build_app(settings)
    console.print(f"computeport on [bold]http://{host}:{port}[/] (API docs at /docs)")
    console.print("background duties: run `computeport worker run` beside it")
    run_server(app, host, port, log_level=log_level)
