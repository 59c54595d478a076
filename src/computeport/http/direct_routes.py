"""Routes answered ahead of the framework's middleware stack, by exact path.

Why: the inference gateway's relay routes answer hundreds of requests a second per process,
and each request through FastAPI's stack (error and exception middleware, the exit-stack
middleware, route matching over every route of the API, dependency solving) cost a tenth of
the gateway's CPU and, on a busy core, a few event-loop turns of latency.  Those routes
declare no dependencies, parameters or schema (their contract is OpenAI's, their errors are
their own), so nothing of the stack serves them.  A direct route sits *inside*
:class:`~computeport.http.security_headers.SecurityHeaders` (install this first), so its
answers carry the house's headers like every other.

A direct handler takes the :class:`~starlette.requests.Request` and returns the
:class:`~starlette.responses.Response`; it answers its own errors (the stack's handlers are
not above it) and its own methods (it sees every request to its path).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

DirectHandler = Callable[[Request], Awaitable[Response]]


class DirectRoutes:
    """Pure ASGI: a request to one of ``routes``' paths goes to its handler, any other
    request to ``app`` (the framework's stack)."""

    def __init__(self, app: ASGIApp, routes: Mapping[str, DirectHandler]) -> None:
        self.app = app
        self.routes = dict(routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            handler = self.routes.get(_route_path(scope))
            if handler is not None:
                response = await handler(Request(scope, receive))
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _route_path(scope: Scope) -> str:
    """The path as the app's routes see it: without the ``root_path`` a proxy mounts it at."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


def install_direct_routes(app: FastAPI, routes: Mapping[str, DirectHandler]) -> None:
    """Put :class:`DirectRoutes` around ``app``'s middleware stack (built on its first
    request); call before :func:`~computeport.http.security_headers.install_security_headers`
    so that the headers wrap these routes too."""
    build = app.build_middleware_stack

    def build_with_direct_routes() -> ASGIApp:
        return DirectRoutes(build(), routes)

    app.build_middleware_stack = build_with_direct_routes  # type: ignore[method-assign]


__all__ = ["DirectHandler", "DirectRoutes", "install_direct_routes"]
