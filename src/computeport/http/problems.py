"""RFC 9457 problem+json for every error: domain errors, validation errors and HTTP errors.

One handler renders them all so clients see one shape: ``type``, ``title``, ``status``,
``detail`` and, where the input was wrong, ``errors`` naming each field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from sqlalchemy.exc import DataError
from starlette.background import BackgroundTasks
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from computeport.http.deferred import deferred_tasks
from computeport.kit.errors import DomainError, TooManyAttempts

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_BASE = "https://computeport.dev/problems/"


def problem(
    status: int,
    title: str,
    detail: str,
    type_slug: str,
    *,
    headers: Mapping[str, str] | None = None,
    background: BackgroundTasks | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + type_slug,
        "title": title,
        "status": status,
        "detail": detail,
    }
    body.update({k: v for k, v in extra.items() if v is not None})
    return JSONResponse(
        body,
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=dict(headers or {}),
        background=background,
    )


def _field_path(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def _domain_headers(exc: DomainError) -> dict[str, str]:
    if isinstance(exc, TooManyAttempts):
        return {"Retry-After": str(exc.retry_after)}
    if exc.status_code == 401:
        # HTTP requires a 401 to say how to authenticate (RFC 9110 §11.6.1, RFC 6750).
        return {"WWW-Authenticate": "Bearer"}
    return {}


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    """The problem for ``exc``; work the failed request deferred (an audit row of a refused
    token, ``http.deferred``) runs once the answer is sent."""
    assert isinstance(exc, DomainError)
    errors = [{"field": exc.field, "message": exc.message}] if exc.field else None
    return problem(
        exc.status_code,
        exc.title,
        exc.message,
        exc.type_slug,
        headers=_domain_headers(exc),
        background=deferred_tasks(request),
        field=exc.field,
        errors=errors,
        **{k: v for k, v in exc.extra.items() if isinstance(v, str | int | float | bool)},
    )


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {
            # A body that does not parse is located by character offset: name the body.
            "field": "body"
            if err.get("type") == "json_invalid"
            else _field_path(err.get("loc", ())),
            "message": err.get("msg", "invalid"),
        }
        for err in exc.errors()
    ]
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    status = 400 if any(err.get("type") == "json_invalid" for err in exc.errors()) else 422
    return problem(status, "Invalid input", detail, "validation-failed", errors=errors)


def allowed_methods(request: Request) -> str:
    """Every method some route serves at the request's path, for a 405's ``Allow``.

    Starlette answers a 405 from the first route whose path matched, so a path served by two
    routes (GET here, POST there) said only one; RFC 9110 §15.5.6 wants every method.
    """
    path = request.scope["path"]
    methods: set[str] = set()
    # FastAPI keeps included routers as branches; iter_route_contexts flattens them as its own
    # OpenAPI generation does, so every documented operation is seen.
    for route in iter_route_contexts(request.app.routes):
        if route.path and route.methods and compile_path(route.path)[0].fullmatch(path):
            methods.update(route.methods)
    return ", ".join(sorted(methods))


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    headers = dict(exc.headers or {})
    if exc.status_code == 405 and (allow := allowed_methods(request)):
        headers["Allow"] = allow
    return problem(
        exc.status_code,
        str(exc.detail),
        str(exc.detail),
        f"http-{exc.status_code}",
        headers=headers,
    )


async def _data_error(_request: Request, _exc: Exception) -> JSONResponse:
    """The database refused a value the request carried (e.g. a NUL in a path segment, which
    PostgreSQL cannot hold, or a number beyond its column): the request's fault, and the
    transaction has been rolled back."""
    return problem(
        422,
        "Invalid input",
        "a value in the request cannot be stored or compared by the database",
        "value-not-storable",
    )


async def _server_error(_request: Request, _exc: Exception) -> JSONResponse:
    """An unexpected failure (a bug, a lost database): the same shape, nothing internal shown.

    Starlette still logs the exception after this answer is sent.  The request's unit of work
    has been rolled back by then (it ends before the answer, see ``http.deps``), so "nothing was
    saved" is true.
    """
    return problem(
        500,
        "Internal server error",
        "The server could not complete the request and saved nothing; the error was logged.",
        "internal-error",
    )


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(DataError, _data_error)
    app.add_exception_handler(Exception, _server_error)
