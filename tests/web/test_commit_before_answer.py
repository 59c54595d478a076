"""A write is answered only after it is committed: a failed commit is never reported as success.

FastAPI ends a dependency with ``yield`` after the response has been sent unless it is
function-scoped.  The unit of work commits there, so with the default a client could be told
"201 Created" (or be redirected to a page that then shows the old state) for a write whose
commit had not happened yet, or failed.  These tests run production's session factories (no
dependency overridden) and make the commit of one request fail.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, func, select
from sqlalchemy.exc import DataError
from sqlalchemy.orm import Session, sessionmaker

from computeport.cli.serve import build_app
from computeport.db.engine import make_session_factory, unit_of_work
from computeport.http.state import AppState
from computeport.kit.clock import ManualClock
from computeport.models.identity import ApiToken, Role, User
from computeport.settings import Settings
from tests.factories import identity as identity_factory
from tests.support.databases import own_database
from tests.web.fixtures import Browser, with_password


class CommitFails(RuntimeError):
    """What the armed commit raises (a lost connection, a deferred constraint...)."""


class Deployment:
    """The whole app on its own database, with a switch that makes the next commits fail."""

    def __init__(self, engine: Engine, tmp_path: Path, clock: ManualClock) -> None:
        self.engine = engine
        self.sessions: sessionmaker[Session] = make_session_factory(engine)
        self.armed = False
        settings = Settings(database_url="sqlite://", attachments_dir=tmp_path / "attachments")
        self.app: FastAPI = build_app(settings, AppState(settings, engine, self.sessions, clock))
        event.listen(self.sessions, "before_commit", self._maybe_fail)

    def _maybe_fail(self, _session: Any) -> None:
        if self.armed:
            raise CommitFails("the database went away at commit")

    def client(self) -> TestClient:
        return TestClient(self.app, raise_server_exceptions=False)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def deployment(
    request: pytest.FixtureRequest, tmp_path: Path, clock: ManualClock
) -> Iterator[Deployment]:
    with own_database(request.param, "cp_commit", tmp_path=tmp_path) as engine:
        yield Deployment(engine, tmp_path, clock)


def test_an_api_write_whose_commit_fails_is_not_created(
    deployment: Deployment, clock: ManualClock
) -> None:
    with unit_of_work(deployment.sessions) as session:
        person = identity_factory.user(session, roles=(Role.FUNDER,), at=clock.now())
        token = identity_factory.token(session, person, at=clock.now())
    headers = {"Authorization": f"Bearer {token}"}
    with deployment.client() as client:
        assert client.get("/api/v1/me", headers=headers).status_code == 200  # use recorded
        deployment.armed = True
        answer = client.post("/api/v1/tokens", json={"name": "doomed"}, headers=headers)
        deployment.armed = False
        assert answer.status_code == 500
        assert answer.headers["content-type"].startswith("application/problem+json")
        created = client.post("/api/v1/tokens", json={"name": "kept"}, headers=headers)
        assert created.status_code == 201
    with deployment.sessions() as session:
        names = set(session.scalars(select(ApiToken.name)))
        assert "doomed" not in names
        assert "kept" in names


def test_a_form_whose_commit_fails_does_not_redirect_as_if_saved(
    deployment: Deployment, clock: ManualClock
) -> None:
    with unit_of_work(deployment.sessions) as session:
        person = with_password(identity_factory.user(session, roles=(Role.FUNDER,), at=clock.now()))
        email = person.email
    with deployment.client() as client:
        browser = Browser(client)
        browser.login(email)
        csrf = browser.csrf("/")
        deployment.armed = True
        answer = client.post(
            "/lang",
            data={"csrf_token": csrf, "locale": "zh-Hant", "next": "/"},
            follow_redirects=False,
        )
        deployment.armed = False
        assert answer.status_code == 500
        assert "error-page" in answer.text  # the portal's error page, not a bare 500
    with deployment.sessions() as session:
        stored = session.scalar(select(User.locale).where(User.email == email))
        assert stored != "zh-Hant"
        assert session.scalar(select(func.count()).select_from(User)) == 1


def test_a_value_the_database_refuses_is_the_request_s_fault(
    deployment: Deployment, clock: ManualClock
) -> None:
    """A ``DataError`` (PostgreSQL refusing a NUL, a number beyond its column) answers 422 —
    the error page for a browser, a problem for the API — not a 500."""

    def refused() -> None:
        raise DataError("SELECT 1", {}, ValueError("NUL (0x00) bytes"))

    deployment.app.add_api_route("/probe-data-error", refused, methods=["GET"])
    with deployment.client() as client:
        page = client.get("/probe-data-error", headers={"accept": "text/html"})
        assert page.status_code == 422
        assert "error-page" in page.text
        api = client.get("/probe-data-error", headers={"accept": "application/json"})
        assert api.status_code == 422
        assert api.headers["content-type"] == "application/problem+json"
