"""The FastAPI application factory: settings in, app out; no module-level state."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session, sessionmaker

from computeport import __version__
from computeport.http.openapi_problems import install_problem_openapi
from computeport.http.problems import install_problem_handlers
from computeport.http.security_headers import install_security_headers
from computeport.http.state import AppState
from computeport.kit.clock import Clock, SystemClock
from computeport.settings import Settings


def create_app(settings: Settings | None = None, state: AppState | None = None) -> FastAPI:
    """Build the API (and, once mounted, the web portal) for one deployment."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        from computeport.gateway.routes import close_gateway

        await close_gateway(app)  # the meter's last batch is written before the process ends

    app = FastAPI(
        title="computeport",
        version=__version__,
        description="Subsidised AI compute: applications, awards, jobs, usage, ledger, reports.",
        lifespan=lifespan,
    )
    app.state.cp = state or open_app_state(settings)
    install_problem_handlers(app)
    install_problem_openapi(app)
    install_gateway_relay(app)  # inside the security headers: its answers get them too
    install_security_headers(app, settings)  # the portal's pages, when mounted, get them too

    @app.get("/healthz", tags=["ops"])
    async def healthz() -> dict[str, str]:  # async: no thread-pool hop for a constant
        return {"status": "ok", "version": __version__}

    @app.get("/readyz", tags=["ops"], responses={503: {"description": "Not ready"}})
    def readyz() -> JSONResponse:
        """Database reachable, schema not behind, back end answering: 200, else 503.

        A plain ``def``: the checks block (a database round trip, maybe a Slurm command), so
        they run in the thread pool, never on the event loop.
        """
        from computeport.http.health import readiness

        state: AppState = app.state.cp
        result = readiness(state.engine, state.backend)
        body: dict[str, Any] = {**result.body(), "version": __version__}
        return JSONResponse(body, status_code=200 if result.ready else 503)

    for router in _routers():
        app.include_router(router)
    return app


def install_gateway_relay(app: FastAPI) -> None:
    """The gateway's relay routes, served ahead of FastAPI's stack (see
    :mod:`computeport.http.direct_routes`)."""
    from computeport.gateway.routes import RELAY_ROUTES
    from computeport.http.direct_routes import install_direct_routes

    install_direct_routes(app, RELAY_ROUTES)


def open_app_state(settings: Settings, clock: Clock | None = None) -> AppState:
    """Engine, sessions and the back end; with ``sim`` the clock is the cluster's own.

    Assembled here, at the edge, because the back end needs the award domain's desired state
    (``desired(now)``) and ``http`` sits below the domains: it holds the state, never builds it.
    """
    from computeport.award.desired import desired_state_reader
    from computeport.backends.factory import open_backend
    from computeport.db.engine import make_engine, make_session_factory

    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    if settings.inventory_file is not None:
        try:
            refuse_bad_inventory(sessions, settings.inventory_file, clock)
        except BaseException:
            engine.dispose()
            raise
    backend, clock = open_backend(settings, sessions, clock, desired=desired_state_reader(sessions))
    return AppState(settings, engine, sessions, clock, backend)


def refuse_bad_inventory(
    sessions: sessionmaker[Session], path: Path, clock: Clock | None = None
) -> None:
    """A server with an inventory file configured starts only on a good one.

    The same checks and message as ``computeport clusters check FILE --database-url``: the
    file's shape and references, and a GPU-hour price in force (in this deployment's rate card)
    for every accelerator type a cluster runs; :class:`InventoryInvalid` otherwise, before any
    back end is opened.
    """
    from computeport.billing.inventory_prices import check_inventory_file

    today = (clock or SystemClock()).now().date()
    with sessions() as session:
        check_inventory_file(session, path, today)


def _routers() -> list[APIRouter]:
    """Each domain's router; added here as domains land."""
    from computeport.gateway.routes import router as gateway_router
    from computeport.identity.endpoints import router as identity_router

    # The OpenAI-compatible /v1 routes first: they take the most requests, and a request is
    # matched against the routes in order (measured: ~45 route checks per request when last).
    routers: list[APIRouter] = [gateway_router, identity_router]
    from computeport.application.endpoints import router as application_router
    from computeport.review.endpoints import router as review_router
    from computeport.scheme.endpoints import router as scheme_router

    routers += [scheme_router, application_router, review_router]
    from computeport.award.endpoints import router as award_router
    from computeport.award.report_endpoints import router as report_router
    from computeport.award.reservation_endpoints import router as reservation_router
    from computeport.award.share_endpoints import router as share_router
    from computeport.envelope.endpoints import router as envelope_router

    routers += [award_router, envelope_router, report_router, reservation_router, share_router]
    from computeport.jobs.endpoints import router as jobs_router

    routers.append(jobs_router)
    from computeport.billing.endpoints import router as billing_router
    from computeport.invoicing.endpoints import router as invoicing_router

    routers += [billing_router, invoicing_router]
    from computeport.inventory.endpoints import router as inventory_router

    routers.append(inventory_router)
    from computeport.pricing.endpoints import router as pricing_router

    routers.append(pricing_router)
    from computeport.lab.endpoints import router as lab_router

    routers.append(lab_router)
    from computeport.gateway.endpoints import router as gateway_api_router
    from computeport.gateway.policy_endpoints import router as data_policy_router

    routers.append(gateway_api_router)  # /v1: the OpenAI-compatible inference gateway
    routers.append(data_policy_router)
    return routers
