"""Mount the portal on the FastAPI app: sessions, static files, error pages and the page routers.

``create_app`` calls :func:`mount_portal` once; the API keeps its problem+json errors, while
requests tagged as pages (``request.state.web_page``) get HTML error pages and anonymous page
visits are redirected to the login page.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import cast
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ExceptionHandler

from computeport.kit.errors import DomainError, NotAuthenticated, NotFound, PermissionDenied
from computeport.settings import Settings
from computeport.web import assets
from computeport.web.deps import LoginRequired, mark_page
from computeport.web.errors import CsrfFailed
from computeport.web.routes import ROUTERS
from computeport.web.routes import metrics as metrics_routes
from computeport.web.security import SESSION_COOKIE
from computeport.web.templating import render

STATIC_DIR = Path(__file__).parent / "static"
SESSION_MAX_AGE_SECONDS = 12 * 3600


def _is_page(request: Request) -> bool:
    if getattr(request.state, "web_page", False):
        return True
    path = request.url.path
    wants_html = "text/html" in request.headers.get("accept", "")
    return wants_html and not path.startswith(("/api/", "/openapi", "/docs", "/metrics"))


def _error_page(request: Request, status: int, title: str, message: str) -> Response:
    return render(
        request,
        "error.html",
        {"title": title, "message": message},
        status_code=status,
    )


def _install_error_pages(app: FastAPI) -> None:
    api_domain = app.exception_handlers.get(DomainError)
    api_http = app.exception_handlers.get(StarletteHTTPException)
    api_server = app.exception_handlers.get(Exception)
    api_data = app.exception_handlers.get(DataError)

    async def login_required(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, LoginRequired)
        return RedirectResponse(f"/login?next={quote(exc.next_path, safe='/')}", status_code=303)

    async def domain_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, DomainError)
        if not _is_page(request):
            assert api_domain is not None
            return await _call(api_domain, request, exc)
        if isinstance(exc, NotAuthenticated):
            return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)
        if isinstance(exc, CsrfFailed):
            return _error_page(
                request,
                403,
                "Not allowed",
                "Your session expired or the form was stale; please try again.",
            )
        if isinstance(exc, NotFound):
            return _error_page(
                request,
                404,
                "Page not found",
                "The page does not exist, or you do not have access to it.",
            )
        if isinstance(exc, PermissionDenied):
            return _error_page(request, 403, "Not allowed", "Your role does not allow this page.")
        return _error_page(request, exc.status_code, "Something went wrong", exc.message)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if _is_page(request) and exc.status_code == 404:
            return _error_page(
                request,
                404,
                "Page not found",
                "The page does not exist, or you do not have access to it.",
            )
        assert api_http is not None
        return await _call(api_http, request, exc)

    def page_or_api(
        api_handler: ExceptionHandler | None, status: int, title: str, message: str
    ) -> Callable[[Request, Exception], Awaitable[Response]]:
        """A browser gets the error page; anything else the API's problem for ``exc``."""
        assert api_handler is not None

        async def handler(request: Request, exc: Exception) -> Response:
            if _is_page(request):
                return _error_page(request, status, title, message)
            return await _call(api_handler, request, exc)

        return handler

    server_error = page_or_api(
        api_server,
        500,
        "Something went wrong",
        "The server could not complete the request and saved nothing; please try again.",
    )
    data_error = page_or_api(
        api_data,
        422,
        "Invalid input",
        "The request holds a value that cannot be stored; nothing was saved.",
    )

    app.add_exception_handler(LoginRequired, login_required)
    app.add_exception_handler(DataError, data_error)
    app.add_exception_handler(Exception, server_error)
    app.add_exception_handler(DomainError, domain_error)
    app.add_exception_handler(StarletteHTTPException, http_error)


async def _call(handler: ExceptionHandler, request: Request, exc: Exception) -> Response:
    """Delegate to the API's own (async) problem+json handler."""
    api_handler = cast(Callable[[Request, Exception], Awaitable[Response]], handler)
    return await api_handler(request, exc)


def mount_portal(app: FastAPI, settings: Settings) -> None:
    """Add the portal to ``app`` (call after the API's problem handlers are installed)."""
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key,
        session_cookie=SESSION_COOKIE,
        max_age=SESSION_MAX_AGE_SECONDS,
        same_site="lax",
        https_only=settings.is_https,  # the cookie's Secure flag
    )
    _install_error_pages(app)
    app.include_router(assets.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for router in ROUTERS:
        app.include_router(router, dependencies=[Depends(mark_page)])
    app.include_router(metrics_routes.router)
