"""Sign-in throttling on the portal: lockout per account and per address, the same answer for
unknown emails, audit rows; session rotation at sign-in; the session cookie's flags."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from computeport.audit.service import history
from computeport.cli.serve import build_app
from computeport.db.engine import make_session_factory
from computeport.http.state import AppState
from computeport.http.throttle import Scope
from computeport.identity.throttling import SIGN_IN_FAILED, SIGN_IN_LOCKED, entity_id
from computeport.kit.clock import ManualClock
from computeport.models.audit import AuditRecord
from computeport.settings import Settings
from computeport.web.security import SESSION_COOKIE
from tests.web.fixtures import PASSWORD, Browser, People, csrf_of

LOCKED = "Too many failed sign-in attempts"


@pytest.fixture
def portal_settings(tmp_path: Path) -> Settings:
    """Small limits, so that a test reaches them in a few posts."""
    return Settings(
        database_url="sqlite://",
        attachments_dir=tmp_path / "attachments",
        login_limit_account="3 per 15 minutes",
        login_limit_address="5 per 15 minutes",
    )


def _attempt(browser: Browser, email: str, password: str) -> tuple[int, str]:
    response = browser.post_form("/login", {"email": email, "password": password, "next": "/"})
    return response.status_code, response.text


def test_account_locks_after_its_failures_even_for_the_right_password(
    browser: Browser, people: People, session: Session
) -> None:
    email = people.funder.email
    answers = [_attempt(browser, email, "wrong")[0] for _ in range(3)]
    assert answers == [400, 400, 400]
    status, page = _attempt(browser, email, PASSWORD)
    assert status == 429
    assert LOCKED in page
    assert "15 minutes" in page
    assert browser.client.get("/", follow_redirects=False).status_code == 303  # not signed in
    trail = history(session, "sign_in_email", entity_id(Scope.LOGIN_ACCOUNT, email))
    # Three failures, the lockout the third began; the refused fourth is not another row.
    assert [r.action for r in trail] == [SIGN_IN_FAILED] * 3 + [SIGN_IN_LOCKED]
    assert "testclient" in trail[0].reason


def test_unknown_email_gets_the_same_answers(browser: Browser, people: People) -> None:
    known = [_attempt(browser, people.funder.email, "wrong") for _ in range(4)]
    other = TestClient(browser.client.app, client=("198.51.100.9", 4000))
    unknown = [_attempt(Browser(other), "no-one@example.org", "wrong") for _ in range(4)]
    assert [s for s, _ in known] == [s for s, _ in unknown] == [400, 400, 400, 429]
    for (_, a), (_, b) in zip(known, unknown, strict=True):
        assert _form_error(a) == _form_error(b)


def _form_error(page: str) -> str:
    start = page.index('role="alert">')
    return page[start : page.index("</div>", start)]


def test_a_successful_sign_in_clears_the_accounts_count(browser: Browser, people: People) -> None:
    email = people.operator.email
    for _ in range(2):
        _attempt(browser, email, "wrong")
    browser.login(email)
    browser.client.cookies.clear()
    assert [_attempt(browser, email, "wrong")[0] for _ in range(3)] == [400, 400, 400]


def test_address_locks_after_failures_across_accounts(
    browser: Browser, people: People, session: Session
) -> None:
    emails = [f"guess{i}@example.org" for i in range(5)]
    assert [_attempt(browser, e, "wrong")[0] for e in emails] == [400] * 5
    # A sixth account from the same address, and a real user with the right password: refused.
    assert _attempt(browser, people.reviewer.email, PASSWORD)[0] == 429
    # From another address the same user signs in.
    elsewhere = Browser(TestClient(browser.client.app, client=("203.0.113.7", 5000)))
    elsewhere.login(people.reviewer.email)
    locks = session.scalars(
        select(AuditRecord).where(
            AuditRecord.action == SIGN_IN_LOCKED, AuditRecord.entity_type == "client_address"
        )
    ).all()
    assert [r.entity_id for r in locks] == [entity_id(Scope.LOGIN_ADDRESS, "testclient")]
    assert "testclient" in locks[0].reason


def test_session_is_rotated_at_sign_in(
    browser: Browser, people: People, portal_app: FastAPI
) -> None:
    """A cookie planted before sign-in (session fixation) is worth nothing afterwards."""
    login_page = browser.client.get("/login")
    planted = browser.client.cookies[SESSION_COOKIE]
    old_csrf = csrf_of(login_page.text)
    browser.login(people.applicant_a.email)
    signed_in = browser.client.cookies[SESSION_COOKIE]
    assert signed_in != planted
    assert csrf_of(browser.client.get("/").text) != old_csrf  # a new CSRF token too
    attacker = TestClient(portal_app, cookies={SESSION_COOKIE: planted})
    assert attacker.get("/", follow_redirects=False).status_code == 303  # still anonymous


@pytest.mark.parametrize(
    ("base_url", "secure"), [("http://cp.example", False), ("https://cp.example", True)]
)
def test_session_cookie_is_secure_only_under_https(
    tmp_path: Path, db_engine: Engine, base_url: str, secure: bool
) -> None:
    settings = Settings(database_url="sqlite://", base_url=base_url, attachments_dir=tmp_path)
    state = AppState(settings, db_engine, make_session_factory(db_engine), ManualClock())
    with TestClient(build_app(settings, state), base_url="https://testserver") as client:
        cookie = client.get("/login").headers["set-cookie"].lower()
    assert SESSION_COOKIE in cookie
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert ("secure" in cookie.split("; ")) is secure
