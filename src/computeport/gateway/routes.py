"""The OpenAI-compatible routes under ``/v1`` and how the app holds one :class:`Gateway`.

The routes are thin: every request goes through :meth:`Gateway.handle`.  They are left out of
the OpenAPI document (``include_in_schema=False``): their contract is OpenAI's, not ours, and
the house's schema tests fuzz only our own API.  The three relay routes (chat, completions,
embeddings: the requests that come by the hundred a second) are :data:`RELAY_ROUTES`, served
ahead of FastAPI's stack (:mod:`computeport.http.direct_routes`); the rest are a router.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, FastAPI, Request
from starlette.responses import JSONResponse, Response

from computeport.gateway.counters import open_counters
from computeport.gateway.errors import GatewayError
from computeport.gateway.lookups import Lookups
from computeport.gateway.meter import Meter
from computeport.gateway.privacy import may_serve
from computeport.gateway.quotas import Quotas
from computeport.gateway.relay import Gateway
from computeport.gateway.speech import handle_speech
from computeport.http.direct_routes import DirectHandler
from computeport.http.state import AppState
from computeport.kit.clock import Clock, SystemClock

log = logging.getLogger(__name__)

router = APIRouter(prefix="/v1", tags=["inference"], include_in_schema=False)


def open_gateway(state: AppState, clock: Clock | None = None) -> Gateway:
    """The gateway of one API process, on the app's database and the configured counters.

    Its clock is the wall clock (limits are per real minute), not the simulated cluster's.
    """
    from computeport.db.engine import unit_of_work

    settings = state.settings
    clock = clock or SystemClock()
    lookups = Lookups(state.read_sessions, settings)
    meter = Meter(lambda: unit_of_work(state.sessions), clock, settings.gateway_flush_seconds)
    quotas = Quotas(open_counters(settings), settings, prefix=f"{settings.rate_limit_prefix}:gw")
    return Gateway(settings, lookups, quotas, meter, clock)


def gateway_of(request: Request) -> Gateway:
    gateway: Gateway | None = getattr(request.app.state, "gateway", None)
    if gateway is None:
        gateway = request.app.state.gateway = open_gateway(request.app.state.cp)
    return gateway


@router.get("/models")
async def list_models(request: Request) -> Response:
    gateway = gateway_of(request)
    try:
        key = await gateway.authenticate(request)
    except GatewayError as exc:
        return exc.response()
    found = await gateway.deployments()
    data = [
        {"id": d.name, "object": "model", "created": d.created, "owned_by": d.owned_by}
        for d in found.values()
        if may_serve(key, d)
    ]
    return JSONResponse({"object": "list", "data": data})


def _relay(endpoint: str) -> DirectHandler:
    """The direct handler of one relay route: its method, its errors, then the gateway."""

    async def relay(request: Request) -> Response:
        if request.method != "POST":
            return GatewayError(
                405,
                f"{request.url.path} takes POST.",
                "invalid_request_error",
                "method_not_allowed",
                headers={"Allow": "POST"},
            ).response()
        try:
            return await gateway_of(request).handle(request, endpoint)
        except Exception:  # no error middleware above a direct route: answer it here
            log.exception("gateway: %s failed", endpoint)
            return GatewayError(
                500, "The gateway failed on this request.", "api_error", "internal_error"
            ).response()

    return relay


RELAY_ROUTES: dict[str, DirectHandler] = {
    "/v1/chat/completions": _relay("chat.completions"),
    "/v1/completions": _relay("completions"),
    "/v1/embeddings": _relay("embeddings"),
}


@router.post("/audio/transcriptions")
async def audio_transcriptions(request: Request) -> Response:
    return await handle_speech(gateway_of(request), request, "audio.transcriptions")


@router.post("/audio/translations")
async def audio_translations(request: Request) -> Response:
    return await handle_speech(gateway_of(request), request, "audio.translations")


async def close_gateway(app: FastAPI) -> None:
    """Flush the meter and close the upstream connections (the app's shutdown)."""
    gateway: Gateway | None = getattr(app.state, "gateway", None)
    if gateway is not None:
        await gateway.close()


__all__ = ["RELAY_ROUTES", "close_gateway", "gateway_of", "open_gateway", "router"]
