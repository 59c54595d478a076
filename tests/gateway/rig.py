"""The gateway tests' rig: real llama.cpp upstreams, a real database, the app under uvicorn.

Upstreams are processes (:mod:`computeport.gateway.llama_server`); the gateway is the
application ``computeport serve`` builds (``create_app``), served by uvicorn in a thread on a
free port, on its own database (SQLite file or a fresh PostgreSQL database: the data is
committed, as in production).  Its gateway clock is a
:class:`~computeport.kit.clock.ManualClock`, so minute windows and months are the test's to
move.
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import uvicorn
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from computeport.api.app import create_app
from computeport.db.engine import make_session_factory
from computeport.gateway import llama_server
from computeport.gateway.keys import issue_key, register_deployment, set_allowance
from computeport.gateway.local_process import answers_health
from computeport.gateway.routes import open_gateway
from computeport.http.state import AppState
from computeport.kit.clock import ManualClock
from computeport.models.identity import OrganisationCategory
from computeport.models.inference import TokenUsage
from computeport.settings import Settings
from tests.factories import award as award_factory
from tests.factories import identity as identity_factory
from tests.support.processes import free_port

NOW = datetime(2026, 12, 4, 9, 30, tzinfo=UTC)


@dataclass
class Upstream:
    alias: str
    port: int
    process: subprocess.Popen[bytes]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"


def start_upstream(alias: str, log: Path, parallel: int = 1) -> Upstream:
    port = free_port()
    process = llama_server.start(port, alias, log, parallel=parallel)
    upstream = Upstream(alias, port, process)
    poll(
        f"upstream {alias} ready",
        lambda: answers_health(upstream.base_url),
        process=process,
        log=log,
    )
    return upstream


def poll(
    what: str,
    ok: Callable[[], bool],
    *,
    timeout_s: float = 60,
    process: subprocess.Popen[bytes] | None = None,
    log: Path | None = None,
) -> None:
    """Wait, bounded, for something another process or thread does (a real server)."""
    deadline = time.monotonic() + timeout_s
    while not ok():
        if process is not None and process.poll() is not None:
            raise AssertionError(f"{what}: process exited:\n{log.read_text() if log else ''}")
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not reached in {timeout_s:.0f} s")
        time.sleep(0.05)


@dataclass
class Department:
    """A government department with an award, an allowance and a key."""

    organisation_id: Any
    award_id: Any
    key: str
    key_id: Any


@dataclass
class GatewayRig:
    url: str
    engine: Engine
    sessions: sessionmaker[Session]
    clock: ManualClock
    app: Any
    server: uvicorn.Server
    thread: threading.Thread
    departments: dict[str, Department] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return self.url + "/v1"

    @property
    def gateway(self) -> Any:
        return self.app.state.gateway

    def usage(self) -> list[TokenUsage]:
        with self.sessions() as s:
            return list(s.scalars(select(TokenUsage).order_by(TokenUsage.id)))

    def wait_for_usage(self, count: int) -> list[TokenUsage]:
        """The usage rows once ``count`` exist (the meter writes in the server's thread)."""

        def enough() -> bool:
            with self.sessions() as s:
                return (s.scalar(select(func.count()).select_from(TokenUsage)) or 0) >= count

        poll(f"{count} usage rows", enough, timeout_s=30)
        return self.usage()

    def row(self, request_id: str | None) -> TokenUsage:
        """The usage row of one request (by the ``x-request-id`` the gateway answered with)."""
        assert request_id is not None

        def stored() -> bool:
            with self.sessions() as s:
                return (
                    s.scalar(select(TokenUsage.id).where(TokenUsage.request_id == request_id))
                    is not None
                )

        poll(f"usage of {request_id}", stored, timeout_s=30)
        with self.sessions() as s:
            found = s.scalar(select(TokenUsage).where(TokenUsage.request_id == request_id))
            assert found is not None
            return found

    def settle(self) -> list[TokenUsage]:
        """Every usage row, once the gateway's background work (a token count after an answer
        without usage meters its request only when done) is over and the meter has written
        all it was handed."""
        gateway, meter = self.gateway, self.gateway.meter
        poll(
            "meter settled",
            lambda: gateway.background_pending == 0 and meter.stored == meter.recorded,
            timeout_s=30,
        )
        return self.usage()

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


def add_department(
    sessions: sessionmaker[Session],
    clock: ManualClock,
    *,
    rate: str = "1",
    monthly_tokens: int = 10_000_000,
    key_rpm: int | None = None,
    key_tpm: int | None = None,
) -> Department:
    """A government department with an award (``rate`` subsidised), an allowance and a key."""
    with sessions.begin() as s:
        sch = award_factory.scheme(s)
        org = identity_factory.organisation(s, category=OrganisationCategory.GOVERNMENT)
        a = award_factory.award(s, clock, sch, org, f"acct-{org.id.hex[-12:]}", rate=rate)
        set_allowance(s, clock, a.id, monthly_tokens)
        issued = issue_key(
            s, clock, org.id, "assistant", requests_per_minute=key_rpm, tokens_per_minute=key_tpm
        )
        return Department(org.id, a.id, issued.plaintext, issued.key.id)


def serve(
    engine: Engine,
    clock: ManualClock,
    settings: dict[str, Any] | None = None,
    build: Callable[[Settings, AppState], Any] = create_app,
) -> tuple[str, Any, uvicorn.Server, threading.Thread]:
    """The app on ``engine`` under uvicorn in a thread: (url, app, server, thread); ``build``
    makes the app (the API alone, or ``build_app``'s API and portal)."""
    port = free_port()
    config = Settings(
        database_url=str(engine.url.render_as_string(hide_password=False)),
        gateway_flush_seconds=0.05,
        **(settings or {}),
    )
    state = AppState(config, engine, make_session_factory(engine), clock, None)
    app = build(config, state)
    app.state.gateway = open_gateway(state, clock)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="on",
            timeout_graceful_shutdown=2,
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    poll("gateway serving", lambda: server.started, timeout_s=30)
    return f"http://127.0.0.1:{port}", app, server, thread


def build_rig(
    engine: Engine,
    upstreams: list[str],
    *,
    settings: dict[str, Any] | None = None,
    extra_deployments: dict[str, list[str]] | None = None,
    speech_deployments: dict[str, list[str]] | None = None,
) -> GatewayRig:
    """Seed deployments (``speech_deployments``: transcription models) and two departments,
    then serve the app on a free port."""
    clock = ManualClock(NOW)
    sessions = make_session_factory(engine)
    with sessions.begin() as s:
        owner = identity_factory.organisation(s, category=OrganisationCategory.RD_CENTRE)
        for name, urls in {"smollm2": upstreams, **(extra_deployments or {})}.items():
            register_deployment(
                s,
                clock,
                name=name,
                organisation_id=owner.id,
                accelerator_type="h800",
                upstreams=urls,
            )
        for name, urls in (speech_deployments or {}).items():
            register_deployment(
                s,
                clock,
                name=name,
                organisation_id=owner.id,
                accelerator_type="h800",
                upstreams=urls,
                modality="speech",
            )
    departments = {
        "dept": add_department(sessions, clock, rate="1"),
        "other": add_department(sessions, clock, rate="0.7"),
    }
    url, app, server, thread = serve(engine, clock, settings)
    return GatewayRig(url, engine, sessions, clock, app, server, thread, departments)
