"""Signing in and out, CSRF on every form, redirects for anonymous visitors, the language switch."""

from __future__ import annotations

from typing import Any

from computeport.identity.auth import SESSION_USER_KEY
from computeport.web.routes.auth import safe_next
from computeport.web.security import USER_KEY
from tests.web.fixtures import Browser, People


def test_anonymous_page_visit_redirects_to_login_with_next(browser: Browser) -> None:
    response = browser.get("/?tab=awards")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/%3Ftab%3Dawards"


def test_login_then_home_shows_name_and_role_pages(browser: Browser, people: People) -> None:
    browser.login(people.operator.email)
    page = browser.client.get("/")
    assert page.status_code == 200
    assert people.operator.display_name in page.text
    assert 'href="/ops"' in page.text
    assert 'href="/review"' not in page.text  # an operator is not a reviewer


def test_wrong_password_is_refused_without_saying_which_field(
    browser: Browser, people: People
) -> None:
    response = browser.post_form(
        "/login", {"email": people.funder.email, "password": "not the password"}
    )
    assert response.status_code == 400
    assert "Email or password is wrong." in response.text
    assert browser.client.get("/", follow_redirects=False).status_code == 303


def test_empty_fields_get_errors_next_to_each_field(browser: Browser) -> None:
    response = browser.post_form("/login", {"email": "", "password": ""})
    assert response.status_code == 400
    assert 'id="email-error"' in response.text
    assert 'id="password-error"' in response.text
    assert 'aria-invalid="true"' in response.text


def test_post_without_csrf_token_is_refused(browser: Browser, people: People) -> None:
    response = browser.client.post(
        "/login",
        data={"email": people.funder.email, "password": "correct horse battery"},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert browser.client.get("/", follow_redirects=False).status_code == 303


def test_csrf_token_from_another_session_is_refused(
    browser: Browser, people: People, portal_app: Any
) -> None:
    from fastapi.testclient import TestClient

    with TestClient(portal_app) as other:
        foreign = Browser(other).csrf()
    response = browser.client.post(
        "/login",
        data={"csrf_token": foreign, "email": people.funder.email, "password": "x" * 12},
        follow_redirects=False,
    )
    assert response.status_code == 403


def test_logout_ends_the_session(browser: Browser, people: People) -> None:
    browser.login(people.funder.email)
    response = browser.post_form("/logout", {}, from_page="/")
    assert response.status_code == 303
    assert browser.client.get("/", follow_redirects=False).status_code == 303


def test_language_switch_is_stored_on_the_user(browser: Browser, people: People) -> None:
    browser.login(people.funder.email)
    response = browser.post_form("/lang", {"locale": "zh-Hant", "next": "/"}, from_page="/")
    assert response.status_code == 303
    page = browser.client.get("/")
    assert '<html lang="zh-Hant">' in page.text
    assert "登出" in page.text
    # The choice follows the user into a new session.
    browser.post_form("/logout", {}, from_page="/")
    browser.login(people.funder.email)
    assert '<html lang="zh-Hant">' in browser.client.get("/").text


def test_anonymous_visitor_gets_the_browser_language(browser: Browser) -> None:
    page = browser.client.get("/login", headers={"accept-language": "zh-HK,zh;q=0.9,en;q=0.5"})
    assert '<html lang="zh-Hant">' in page.text


def test_next_must_be_a_local_path() -> None:
    assert safe_next("/orgs/1/jobs?x=1") == "/orgs/1/jobs?x=1"
    for bad in ("//evil.example", "https://evil.example", "", None, "/\\evil", "javascript:x"):
        assert safe_next(bad) == "/"


def test_session_key_is_the_one_the_api_reads() -> None:
    assert USER_KEY == SESSION_USER_KEY
