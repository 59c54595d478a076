"""Security headers on every response: API, portal pages, static files, errors (500s included).

One pure ASGI middleware (no per-request objects; every response pays for it, see
``http.deps``) adds a fixed list of headers to each ``http.response.start``:

- ``Content-Security-Policy``: scripts only from this origin (``script-src 'self'``: no inline
  ``<script>``, no ``onclick=``; the portal's charts read their data from
  ``<script type="application/json">`` blocks, which are data, not script), nothing framed
  (``frame-ancestors 'none'``), forms only posted here.  Styles allow ``'unsafe-inline'``:
  templates size bars with ``style="width: …"`` and plotly.js injects its own ``<style>``; an
  inline style cannot run code.
- ``X-Frame-Options: DENY`` for browsers that predate ``frame-ancestors``;
  ``X-Content-Type-Options: nosniff``; ``Referrer-Policy: strict-origin-when-cross-origin``.
- ``Strict-Transport-Security`` only when ``Settings.base_url`` is https: sent over plain http
  it would be ignored, and on a development server it would pin ``localhost`` to https.

FastAPI's own API docs (``/docs``, ``/redoc``) load Swagger UI and ReDoc from a CDN and start
them with an inline script; those two pages get a policy that allows exactly that, every other
response the strict one.

:func:`install_security_headers` wraps the app's *whole* middleware stack, outside Starlette's
``ServerErrorMiddleware``: that middleware sends the 500 answer itself, so a middleware added
the usual way (inside it) would never see an unexpected error's response.
"""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from computeport.settings import Settings

STRICT_CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
DOCS_CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net",
        "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com",
        "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly",
        "font-src 'self' https://fonts.gstatic.com",
        "worker-src 'self' blob:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "frame-ancestors 'none'",
    ]
)
DOCS_PATHS = frozenset({"/docs", "/redoc", "/docs/oauth2-redirect"})
HSTS = "max-age=31536000; includeSubDomains"

Headers = list[tuple[bytes, bytes]]


def security_headers(settings: Settings, csp: str = STRICT_CSP) -> Headers:
    """The headers every response carries under ``settings`` (with ``csp`` as its policy)."""
    headers = {
        "content-security-policy": csp,
        "x-content-type-options": "nosniff",
        "x-frame-options": "DENY",
        "referrer-policy": "strict-origin-when-cross-origin",
    }
    if settings.is_https:
        headers["strict-transport-security"] = HSTS
    return [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()]


class SecurityHeaders:
    """Adds :func:`security_headers` to every HTTP response (replacing a same-named one)."""

    def __init__(self, app: ASGIApp, headers: Headers, docs_headers: Headers) -> None:
        self.app = app
        self.headers = headers
        self.docs_headers = docs_headers
        self._names = frozenset(name for name, _ in headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = self.docs_headers if scope.get("path") in DOCS_PATHS else self.headers

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = _merged(message.get("headers", ()), extra, self._names)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _merged(
    existing: Iterable[tuple[bytes, bytes]], extra: Headers, names: frozenset[bytes]
) -> Headers:
    return [(k, v) for k, v in existing if k.lower() not in names] + extra


def install_security_headers(app: FastAPI, settings: Settings) -> None:
    """Wrap ``app``'s whole middleware stack (built on its first request) in
    :class:`SecurityHeaders`, so that even a 500 from ``ServerErrorMiddleware`` carries them."""
    build = app.build_middleware_stack
    headers = security_headers(settings)
    docs_headers = security_headers(settings, DOCS_CSP)

    def build_with_headers() -> ASGIApp:
        return SecurityHeaders(build(), headers, docs_headers)

    app.build_middleware_stack = build_with_headers  # type: ignore[method-assign]
