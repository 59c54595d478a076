"""OpenID Connect single sign-on against a local provider the test starts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI

from tests.web.fixtures import Browser, People
from tests.web.oidc_provider import Provider, running_provider

if TYPE_CHECKING:
    import httpx2  # the test client's responses; the provider is reached with plain httpx


@pytest.fixture
def sso(portal_app: FastAPI, people: People) -> Iterator[Provider]:
    with running_provider(people.committee.email) as provider:
        settings = portal_app.state.cp.settings
        settings.oidc_issuer = provider.issuer
        settings.oidc_client_id = provider.client_id
        settings.oidc_client_secret = provider.client_secret
        yield provider


def _through_provider(browser: Browser) -> httpx2.Response:
    start = browser.client.get("/login/sso", follow_redirects=False)
    assert start.status_code == 302
    at_provider = httpx.get(start.headers["location"], follow_redirects=False)
    assert at_provider.status_code == 302
    back = urlsplit(at_provider.headers["location"])
    return browser.client.get(f"{back.path}?{back.query}", follow_redirects=False)


def test_login_page_offers_sso_when_configured(browser: Browser, sso: Provider) -> None:
    assert 'href="/login/sso"' in browser.client.get("/login").text


def test_staff_member_signs_in_through_the_provider(
    browser: Browser, people: People, sso: Provider
) -> None:
    done = _through_provider(browser)
    assert done.status_code == 303
    home = browser.client.get("/")
    assert home.status_code == 200
    assert people.committee.display_name in home.text


def test_applicants_cannot_use_sso(browser: Browser, people: People, sso: Provider) -> None:
    sso.email = people.applicant_a.email
    done = _through_provider(browser)
    assert done.status_code == 403
    assert browser.client.get("/", follow_redirects=False).status_code == 303


def test_a_forged_state_is_refused(browser: Browser, sso: Provider) -> None:
    browser.client.get("/login/sso", follow_redirects=False)
    forged = browser.client.get("/login/sso/callback?code=x&state=forged", follow_redirects=False)
    assert forged.status_code == 403


def test_sso_is_404_when_not_configured(browser: Browser) -> None:
    assert browser.client.get("/login/sso").status_code == 404
    assert 'href="/login/sso"' not in browser.client.get("/login").text
