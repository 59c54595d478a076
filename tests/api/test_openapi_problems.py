"""The OpenAPI document describes the errors as they are sent: RFC 9457 problem+json."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from computeport.http.openapi_problems import Problem
from computeport.http.problems import PROBLEM_MEDIA_TYPE
from computeport.models.identity import Role
from tests.api.fixtures import Actors

HTTP_METHODS = {"get", "post", "put", "patch", "delete"}


def _refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
        for value in node.values():
            found |= _refs(value)
        return found
    if isinstance(node, list):
        return set().union(*(_refs(v) for v in node)) if node else set()
    return set()


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS
    ]


def test_every_error_is_documented_as_a_problem(app: FastAPI) -> None:
    document = app.openapi()
    schemas = document["components"]["schemas"]
    assert "HTTPValidationError" not in schemas
    for ref in _refs(document):
        assert ref.removeprefix("#/components/schemas/") in schemas, ref
    for path, method, operation in _operations(document):
        responses = operation["responses"]
        assert "default" in responses, (method, path)
        for status, response in responses.items():
            if status == "default" or status.startswith(("4", "5")):
                assert list(response["content"]) == [PROBLEM_MEDIA_TYPE], (method, path, status)
        if path.startswith("/api/v1/"):
            assert {"401", "403"} <= set(responses), (method, path)
        if "{" in path:
            assert "404" in responses, (method, path)
        if "requestBody" in operation:
            assert {"400", "422"} <= set(responses), (method, path)


def test_the_documented_shape_is_the_shape_sent(
    app: FastAPI, client: TestClient, actors: Actors
) -> None:
    officer = actors.staff(Role.SCHEME_OFFICER)
    answers = [
        client.post("/api/v1/organisations", json={"name": ""}, headers=officer.headers),
        client.get("/api/v1/applications?limit=0", headers=officer.headers),
        client.get("/api/v1/me"),
        client.post(
            "/api/v1/organisations",
            content=b"{",
            headers={**officer.headers, "content-type": "application/json"},
        ),
    ]
    assert [a.status_code for a in answers] == [422, 422, 401, 400]
    assert [e["field"] for e in answers[-1].json()["errors"]] == ["body"]  # not an offset
    for answer in answers:
        assert answer.headers["content-type"] == PROBLEM_MEDIA_TYPE
        problem = Problem.model_validate(answer.json())
        assert problem.status == answer.status_code
    assert answers[2].headers["www-authenticate"] == "Bearer"
    not_allowed = client.put("/api/v1/me", headers=officer.headers)
    assert not_allowed.status_code == 405
    assert "GET" in not_allowed.headers["allow"]
    assert not_allowed.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert app.openapi() is app.openapi()  # built once
