"""The relay routes (chat, completions, embeddings) are answered ahead of FastAPI's stack: they
still answer a wrong method, a bug and a missing key in the OpenAI error shape the official
client reads, and carry the house's security headers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openai
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from computeport.api.app import create_app
from computeport.db.engine import make_session_factory
from computeport.http.state import AppState
from computeport.kit.clock import ManualClock
from computeport.settings import Settings

RELAY_PATHS = ["/v1/chat/completions", "/v1/completions", "/v1/embeddings"]


class Broken:
    """A gateway with a bug: every request raises."""

    async def handle(self, request: Any, endpoint: str) -> Any:
        raise RuntimeError(f"a bug in {endpoint}")


def _client(tmp_path: Path, engine: Engine, gateway: Any = None) -> TestClient:
    settings = Settings(database_url="sqlite://", attachments_dir=tmp_path)
    state = AppState(settings, engine, make_session_factory(engine), ManualClock())
    app = create_app(settings, state)
    if gateway is not None:
        app.state.gateway = gateway
    return TestClient(app, raise_server_exceptions=False)


@pytest.mark.parametrize("path", RELAY_PATHS)
def test_a_relay_route_takes_post_only(tmp_path: Path, db_engine: Engine, path: str) -> None:
    answer = _client(tmp_path, db_engine).get(path)
    assert answer.status_code == 405
    assert answer.headers["allow"] == "POST"
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["error"]["code"] == "method_not_allowed"
    assert answer.headers["x-content-type-options"] == "nosniff"  # inside the security headers


@pytest.mark.parametrize("path", RELAY_PATHS)
def test_a_relay_route_without_a_key_is_refused_with_the_headers(
    tmp_path: Path, db_engine: Engine, path: str
) -> None:
    answer = _client(tmp_path, db_engine).post(path, json={"model": "m"})
    assert answer.status_code == 401
    assert answer.json()["error"]["type"] == "authentication_error"
    assert answer.headers["x-frame-options"] == "DENY"


def test_a_bug_answers_500_in_the_shape_the_client_raises(
    tmp_path: Path, db_engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    client = _client(tmp_path, db_engine, Broken())
    caller = openai.OpenAI(
        base_url="http://testserver/v1", api_key="cpk_x", http_client=client, max_retries=0
    )
    with pytest.raises(openai.InternalServerError) as raised:
        caller.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
    assert raised.value.code == "internal_error"
    assert "a bug in chat.completions" not in raised.value.message  # the bug stays in the log
    assert "a bug in chat.completions" in caplog.text
