"""The web portal's signed session cookie authenticates through the same CurrentSubject."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from starlette.middleware.sessions import SessionMiddleware

from computeport.identity.auth import SESSION_USER_KEY, CurrentSubject
from computeport.models.identity import Role
from tests.api.fixtures import Actors
from tests.api.permission_suite import assert_problem


def test_session_cookie_and_stale_session(app: FastAPI, actors: Actors, session: Session) -> None:
    officer = actors.staff(Role.SCHEME_OFFICER)
    app.add_middleware(SessionMiddleware, secret_key="test-secret")

    @app.get("/test/login/{user_id}")
    def login(user_id: str, request: Request) -> dict[str, str]:
        request.session[SESSION_USER_KEY] = user_id
        return {}

    @app.get("/test/whoami")
    def whoami(subject: CurrentSubject) -> dict[str, list[str]]:
        return {"roles": sorted(subject.roles)}

    with TestClient(app) as client:
        assert_problem(client.get("/test/whoami"), 401)
        client.get(f"/test/login/{officer.user.id}")
        assert client.get("/test/whoami").json() == {"roles": ["scheme_officer"]}
        officer.user.is_active = False
        session.flush()
        assert_problem(client.get("/test/whoami"), 401)
        client.get("/test/login/not-a-uuid")
        assert_problem(client.get("/test/whoami"), 401)
