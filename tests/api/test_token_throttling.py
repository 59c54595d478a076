"""Failed API token checks are counted per client address: 429 problem+json with Retry-After
once there are too many (before the token is even looked up), each failure audited."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from computeport.audit.service import history
from computeport.http.problems import PROBLEM_MEDIA_TYPE
from computeport.http.throttle import Scope
from computeport.identity.throttling import TOKEN_LOCKED, TOKEN_REFUSED, entity_id
from computeport.kit.clock import ManualClock
from computeport.settings import Settings
from tests.api.fixtures import Actors, build_api_app

BAD = {"Authorization": "Bearer cpt_abcdefgh_not-a-token"}


def forged(actor_headers: dict[str, str]) -> dict[str, str]:
    """A well-formed token that no one was issued (a real one with its last character changed)."""
    token = actor_headers["Authorization"]
    return {"Authorization": token[:-1] + ("A" if token[-1] != "A" else "B")}


@pytest.fixture
def api_settings(tmp_path: Path) -> Settings:
    return Settings(
        database_url="sqlite://", attachments_dir=tmp_path, token_limit_address="3 per 5 minutes"
    )


def test_too_many_bad_tokens_from_one_address_are_refused_with_retry_after(
    client: TestClient, actors: Actors, session: Session
) -> None:
    good = actors.staff().headers
    answers = [client.get("/api/v1/me", headers=forged(good)).status_code for _ in range(3)]
    assert answers == [401, 401, 401]
    refused = client.get("/api/v1/me", headers=good)  # even a good token, from this address
    assert refused.status_code == 429
    assert refused.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert 0 < int(refused.headers["retry-after"]) <= 300
    assert refused.json()["retry_after"] == int(refused.headers["retry-after"])
    assert "too many failed API token checks" in refused.json()["detail"]
    trail = history(session, "client_address", entity_id(Scope.TOKEN_ADDRESS, "testclient"))
    assert [r.action for r in trail] == [TOKEN_REFUSED] * 3 + [TOKEN_LOCKED]
    assert "unknown API token" in trail[0].reason


def test_another_address_and_requests_without_a_token_are_not_affected(
    session: Session, db_engine: Engine, clock: ManualClock, api_settings: Settings, actors: Actors
) -> None:
    app = build_api_app(session, db_engine, clock, api_settings)
    good = actors.staff().headers
    with TestClient(app, client=("192.0.2.1", 1000)) as attacker:
        for _ in range(3):
            attacker.get("/api/v1/me", headers=BAD)
        assert attacker.get("/api/v1/me", headers=good).status_code == 429
        assert attacker.get("/healthz").status_code == 200  # no credential, nothing refused
    with TestClient(app, client=("192.0.2.2", 1000)) as bystander:
        assert bystander.get("/api/v1/me", headers=good).status_code == 200


def test_a_failed_write_still_leaves_its_audit_row(client: TestClient, session: Session) -> None:
    """The request's unit of work rolls back; the audit row is written after the answer."""
    answer = client.post("/api/v1/tokens", headers=BAD, json={"name": "x"})
    assert answer.status_code == 401
    trail = history(session, "client_address", entity_id(Scope.TOKEN_ADDRESS, "testclient"))
    assert [r.action for r in trail] == [TOKEN_REFUSED]
