"""Portal test fixtures: the whole app (API + portal) on the test session, and signed-in browsers.

Like ``tests.api.fixtures``, the page unit of work is overridden to use the test ``session``
inside a SAVEPOINT per request, so every page test runs on SQLite and PostgreSQL and leaves
nothing behind.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from computeport.cli.serve import build_app
from computeport.db.engine import make_session_factory
from computeport.http.deps import db_session
from computeport.http.state import AppState
from computeport.identity.passwords import hash_password
from computeport.kit.clock import ManualClock
from computeport.models.identity import Organisation, Role, User
from computeport.models.scheme import Scheme
from computeport.scheme import service as schemes
from computeport.scheme.rubric import CriterionSpec
from computeport.settings import Settings
from computeport.web.deps import page_session
from tests.api.fixtures import savepoint_session
from tests.factories import identity as identity_factory

if TYPE_CHECKING:
    # The Starlette test client's response class (``httpx2``, not ``httpx``).
    from httpx2 import Response

PASSWORD = "correct horse battery"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


CHART_RE = re.compile(r'<script type="application/json" id="([\w-]+)-spec">(.*?)</script>', re.S)


def chart_specs(html: str) -> dict[str, dict[str, Any]]:
    """Every chart spec embedded in a page, checked to be a Plotly figure with traces."""
    import json

    specs: dict[str, dict[str, Any]] = {}
    for chart_id, text in CHART_RE.findall(html):
        spec = json.loads(text)
        assert isinstance(spec, dict), f"{chart_id}: not a figure: {text[:80]}"
        assert isinstance(spec.get("data"), list), f"{chart_id}: no traces"
        specs[chart_id] = spec
    return specs


def csrf_of(html: str) -> str:
    found = CSRF_RE.search(html)
    assert found, "page has no CSRF token"
    return found.group(1)


@dataclass
class Browser:
    """A test client with helpers for forms: every POST carries the page's CSRF token."""

    client: TestClient

    def get(self, url: str) -> Response:
        return self.client.get(url, follow_redirects=False)

    def csrf(self, url: str = "/login") -> str:
        return csrf_of(self.client.get(url).text)

    def post_form(self, url: str, data: dict[str, str], *, from_page: str = "/login") -> Response:
        payload = {"csrf_token": self.csrf(from_page), **data}
        return self.client.post(url, data=payload, follow_redirects=False)

    def login(self, email: str, password: str = PASSWORD) -> None:
        response = self.client.post(
            "/login",
            data={"csrf_token": self.csrf(), "email": email, "password": password, "next": "/"},
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text


@dataclass
class People:
    """One user per role, two applicant organisations."""

    org_a: Organisation
    org_b: Organisation
    operator: User
    officer: User
    committee: User
    reviewer: User
    funder: User
    applicant_a: User
    applicant_b: User


@pytest.fixture
def portal_settings(tmp_path: Path) -> Settings:
    return Settings(database_url="sqlite://", attachments_dir=tmp_path / "attachments")


@pytest.fixture
def portal_app(
    session: Session, db_engine: Engine, clock: ManualClock, portal_settings: Settings
) -> FastAPI:
    state = AppState(portal_settings, db_engine, make_session_factory(db_engine), clock)
    application = build_app(portal_settings, state)

    per_request = savepoint_session(session)
    application.dependency_overrides[page_session] = per_request
    application.dependency_overrides[db_session] = per_request
    return application


@pytest.fixture
def browser(portal_app: FastAPI) -> Iterator[Browser]:
    with TestClient(portal_app) as test_client:
        yield Browser(test_client)


@functools.cache
def _password_hash() -> str:
    """Hashed once per run: argon2 is slow on purpose, and seven users per test add up."""
    return hash_password(PASSWORD)


def with_password(user: User) -> User:
    user.password_hash = _password_hash()
    return user


@pytest.fixture
def people(session: Session, clock: ManualClock) -> People:
    at = clock.now()

    def staff(role: Role) -> User:
        return with_password(identity_factory.user(session, roles=(role,), at=at))

    org_a = identity_factory.organisation(session, name="Alpha AI Lab", at=at)
    org_b = identity_factory.organisation(session, name="Beta Robotics", at=at)
    return People(
        org_a=org_a,
        org_b=org_b,
        operator=staff(Role.OPERATOR),
        officer=staff(Role.SCHEME_OFFICER),
        committee=staff(Role.COMMITTEE_MEMBER),
        reviewer=staff(Role.REVIEWER),
        funder=staff(Role.FUNDER),
        applicant_a=with_password(
            identity_factory.user(session, roles=(Role.ORG_ADMIN,), organisation=org_a, at=at)
        ),
        applicant_b=with_password(
            identity_factory.user(session, roles=(Role.ORG_ADMIN,), organisation=org_b, at=at)
        ),
    )


def open_scheme(session: Session, clock: ManualClock) -> Scheme:
    """A scheme with a two-criterion rubric and a rolling call open now."""
    at = clock.now()
    scheme = schemes.create_scheme(
        session,
        code="AISS",
        name="AI Subsidy Scheme",
        envelope_minor=3_000_000_000_00,
        period_start=at - timedelta(days=365),
        period_end=at + timedelta(days=730),
        criteria=[
            CriterionSpec("alignment", "Alignment with I&T and AI needs", Decimal("0.6")),
            CriterionSpec("reasonableness", "Reasonable compute request", Decimal("0.4")),
        ],
        at=at,
    )
    schemes.create_call(
        session, scheme.id, name="Rolling", opens_at=at - timedelta(days=30), closes_at=None, at=at
    )
    return scheme
