"""Every response carries the security headers: API answers, pages, static files, a 404 and an
unexpected 500 (sent by Starlette's outermost middleware); HSTS only under an https base URL."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from computeport.cli.serve import build_app
from computeport.db.engine import make_session_factory
from computeport.http.problems import PROBLEM_MEDIA_TYPE
from computeport.http.state import AppState
from computeport.kit.clock import ManualClock
from computeport.settings import Settings

COMMON = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "strict-origin-when-cross-origin",
}


def _app(tmp_path: Path, engine: Engine, base_url: str) -> FastAPI:
    settings = Settings(database_url="sqlite://", base_url=base_url, attachments_dir=tmp_path)
    state = AppState(settings, engine, make_session_factory(engine), ManualClock())
    app = build_app(settings, state)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("a bug")

    return app


@pytest.fixture
def client(tmp_path: Path, db_engine: Engine) -> TestClient:
    return TestClient(_app(tmp_path, db_engine, "http://cp.example"), raise_server_exceptions=False)


def _assert_secured(headers: Mapping[str, str]) -> None:
    for name, value in COMMON.items():
        assert headers.get(name) == value, name
    csp = headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["script-src"] == "'self'"  # no inline script, no eval
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"


@pytest.mark.parametrize(
    ("path", "status", "kind"),
    [
        ("/healthz", 200, "application/json"),
        ("/api/v1/me", 401, PROBLEM_MEDIA_TYPE),
        ("/api/v1/no-such-thing", 404, PROBLEM_MEDIA_TYPE),
        ("/login", 200, "text/html"),
        ("/static/app.js", 200, "text/javascript"),
        ("/static/app.css", 200, "text/css"),
        ("/boom", 500, PROBLEM_MEDIA_TYPE),
    ],
)
def test_every_kind_of_response_is_secured(
    client: TestClient, path: str, status: int, kind: str
) -> None:
    answer = client.get(path, follow_redirects=False)
    assert answer.status_code == status
    assert answer.headers["content-type"].startswith(kind)
    _assert_secured(answer.headers)
    assert "strict-transport-security" not in answer.headers  # plain http: no HSTS


def test_error_pages_for_browsers_are_secured(client: TestClient) -> None:
    for path, status in (("/no-such-page", 404), ("/boom", 500)):
        answer = client.get(path, headers={"accept": "text/html"})
        assert answer.status_code == status
        assert answer.headers["content-type"].startswith("text/html")
        _assert_secured(answer.headers)


def test_a_header_set_by_a_route_is_replaced_not_doubled(client: TestClient) -> None:
    answer = client.get("/login")
    assert answer.headers.get_list("x-frame-options") == ["DENY"]


def test_hsts_only_under_an_https_base_url(tmp_path: Path, db_engine: Engine) -> None:
    app = _app(tmp_path, db_engine, "https://cp.example")
    with TestClient(app, base_url="https://testserver", raise_server_exceptions=False) as client:
        for path in ("/healthz", "/login", "/static/app.css", "/boom"):
            answer = client.get(path)
            assert answer.headers["strict-transport-security"].startswith("max-age=31536000")
            _assert_secured(answer.headers)


def test_the_api_docs_page_may_load_swagger_ui(client: TestClient) -> None:
    """FastAPI's /docs starts Swagger UI with an inline script from a CDN: only it may."""
    csp = client.get("/docs").headers["content-security-policy"]
    assert "https://cdn.jsdelivr.net" in csp
    assert "frame-ancestors 'none'" in csp
    assert "cdn.jsdelivr.net" not in client.get("/login").headers["content-security-policy"]
