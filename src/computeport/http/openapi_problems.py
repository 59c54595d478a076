"""The OpenAPI document says what the API really answers on error: ``application/problem+json``.

FastAPI documents a route's success and, where it takes input, a 422 in its own
``HTTPValidationError`` shape as ``application/json``.  Every error here is an RFC 9457 problem
(:mod:`computeport.http.problems`), so the generated document is rewritten once: the 422 becomes
a :class:`Problem`, and each operation lists the other errors it can give — 401 and 403 where
it needs a caller (everything under ``/api/v1``), 404 where its path names a resource, 400
where it reads a body (malformed JSON), 409 where it writes — and a default (500).  A client
generated from the document then parses the errors it actually receives.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, ConfigDict

from computeport.http.problems import PROBLEM_MEDIA_TYPE

WRITES = frozenset({"post", "put", "patch", "delete"})
METHODS = WRITES | {"get", "head", "options"}


class FieldProblem(BaseModel):
    """One input field that was wrong, and why."""

    field: str
    message: str


class Problem(BaseModel):
    """An error, as every endpoint answers it (RFC 9457); some carry more members (e.g. the
    ``from_state`` and ``to_state`` of a refused transition)."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    field: str | None = None
    errors: list[FieldProblem] | None = None


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def _errors_of(path: str, method: str, operation: dict[str, Any]) -> dict[str, dict[str, Any]]:
    errors: dict[str, dict[str, Any]] = {}
    if "requestBody" in operation:
        errors["400"] = _problem("The body is not well-formed (JSON that does not parse).")
    if path.startswith("/api/v1/"):
        errors["401"] = _problem("No credentials, or a token that is unknown, revoked or expired.")
        errors["403"] = _problem("The caller's role or organisation does not allow this.")
        errors["429"] = _problem(
            "Too many failed token checks from this address; wait `Retry-After` seconds."
        )
    if "{" in path:
        errors["404"] = _problem("No such resource, or one the caller may not see.")
    if method in WRITES:
        errors["409"] = _problem("It conflicts with the resource's current state (`detail`).")
    if "422" in operation["responses"] or "parameters" in operation or "requestBody" in operation:
        errors["422"] = _problem("Input that breaks a rule: `errors` names each field.")
    errors["default"] = _problem("An unexpected error; nothing was saved.")
    return errors


def rewrite(document: dict[str, Any]) -> dict[str, Any]:
    """Document problem+json errors on every operation (in place; returned for convenience)."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(problem.pop("$defs", {}))
    schemas["Problem"] = problem
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            responses = operation.setdefault("responses", {})
            for status, response in _errors_of(path, method, operation).items():
                if status == "422" or status not in responses:
                    responses[status] = response
            for status, response in responses.items():
                if status == "default" or status.startswith(("4", "5")):
                    # A route's own ``responses={404: {}}`` names the status, not the shape.
                    response["content"] = _problem("")["content"]
                    response.setdefault("description", "An error.")
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    return document


def install_problem_openapi(app: FastAPI) -> None:
    """Serve the rewritten document at ``/openapi.json`` (built once, on first request)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = rewrite(
                get_openapi(
                    title=app.title,
                    version=app.version,
                    description=app.description,
                    routes=app.routes,
                )
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


__all__ = ["FieldProblem", "Problem", "install_problem_openapi", "rewrite"]
