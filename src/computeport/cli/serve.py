"""``computeport serve``: the API and the portal under uvicorn on 127.0.0.1:8000.

:func:`build_app` is where the two edges meet: the API from ``create_app`` with the portal
mounted on it (the CLI is the one layer allowed to import both).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from computeport.cli.common import console
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


def app_factory() -> FastAPI:
    """For ``uvicorn --factory computeport.cli.serve:app_factory`` (settings from the env)."""
    return build_app()


def run_server(app: FastAPI, host: str, port: int, *, log_level: str = "warning") -> None:
    """Serve ``app`` until interrupted (uvicorn, one process: SQLite allows one writer)."""
    import uvicorn

    uvicorn.run(app, host=host, port=port, log_level=log_level, proxy_headers=False)


def serve(
    host: str = typer.Option(DEFAULT_HOST, help="Address to listen on."),
    port: int = typer.Option(DEFAULT_PORT, help="Port to listen on."),
    log_level: str = typer.Option("info", help="uvicorn log level."),
) -> None:
    """Serve the REST API and the web portal (OpenAPI at /openapi.json, health at /healthz).

    The background duties run apart: ``computeport worker run`` (one or more processes).
    """
    settings = Settings()
    app = build_app(settings)
    console.print(f"computeport on [bold]http://{host}:{port}[/] (API docs at /docs)")
    console.print("background duties: run `computeport worker run` beside it")
    run_server(app, host, port, log_level=log_level)
