"""A session cookie authenticates API writes only with the session's CSRF token; bearer tokens
need none (a hostile page can make the browser send the cookie, never a token header)."""

from __future__ import annotations

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from starlette.middleware.sessions import SessionMiddleware

from computeport.identity.auth import (
    CSRF_HEADER,
    SESSION_CSRF_KEY,
    SESSION_USER_KEY,
    CurrentSubject,
)
from computeport.models.identity import Role
from computeport.web import security
from tests.api.fixtures import Actor, Actors
from tests.api.permission_suite import assert_problem

TOKEN = "s" * 43
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")


@pytest.fixture
def officer(actors: Actors) -> Actor:
    return actors.staff(Role.SCHEME_OFFICER)


@pytest.fixture
def cookie_app(app: FastAPI) -> FastAPI:
    app.add_middleware(SessionMiddleware, secret_key="test-secret")

    @app.get("/test/login/{user_id}")
    def login(user_id: str, request: Request) -> dict[str, str]:
        request.session[SESSION_USER_KEY] = user_id
        request.session[SESSION_CSRF_KEY] = TOKEN
        return {}

    @app.api_route("/test/write", methods=["GET", *UNSAFE])
    def write(subject: CurrentSubject) -> dict[str, list[str]]:
        return {"roles": sorted(subject.roles)}

    return app


@pytest.mark.parametrize("method", UNSAFE)
def test_cookie_write_needs_the_sessions_csrf_token(
    cookie_app: FastAPI, officer: Actor, method: str
) -> None:
    with TestClient(cookie_app) as client:
        client.get(f"/test/login/{officer.user.id}")
        body = assert_problem(client.request(method, "/test/write"), 403)
        assert body["title"] == "CSRF check failed"
        wrong = {CSRF_HEADER: "x" * 43}
        assert_problem(client.request(method, "/test/write", headers=wrong), 403)
        right = client.request(method, "/test/write", headers={CSRF_HEADER: TOKEN})
        assert right.status_code == 200, right.text
        assert right.json() == {"roles": ["scheme_officer"]}


def test_cookie_read_needs_no_token(cookie_app: FastAPI, officer: Actor) -> None:
    with TestClient(cookie_app) as client:
        client.get(f"/test/login/{officer.user.id}")
        assert client.get("/test/write").status_code == 200


def test_session_without_a_token_cannot_write(cookie_app: FastAPI, officer: Actor) -> None:
    @cookie_app.get("/test/login-no-csrf/{user_id}")
    def login(user_id: str, request: Request) -> dict[str, str]:
        request.session[SESSION_USER_KEY] = user_id
        return {}

    with TestClient(cookie_app) as client:
        client.get(f"/test/login-no-csrf/{officer.user.id}")
        assert_problem(client.post("/test/write", headers={CSRF_HEADER: ""}), 403)


@pytest.mark.parametrize("method", UNSAFE)
def test_bearer_token_writes_without_csrf(cookie_app: FastAPI, officer: Actor, method: str) -> None:
    with TestClient(cookie_app) as client:
        response = client.request(method, "/test/write", headers=officer.headers)
        assert response.status_code == 200, response.text


def test_portal_and_api_share_the_session_keys() -> None:
    assert security.USER_KEY == SESSION_USER_KEY
    assert security.CSRF_KEY == SESSION_CSRF_KEY
