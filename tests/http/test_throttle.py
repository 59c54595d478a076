"""The failure counters themselves: moving-window counts, lockout, clearing, hashed keys, and one
count shared by two app instances over one Redis (as several API processes share it)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from limits import parse
from limits.storage import MemoryStorage
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from computeport.http.throttle import Scope, Throttle
from computeport.kit.clock import ManualClock
from computeport.settings import Settings
from tests.api.fixtures import Actors, actors, build_api_app
from tests.support.databases import require

REDIS_ENV = "COMPUTEPORT_TEST_REDIS_URL"
__all__ = ["actors"]  # the fixture, for the test that needs tokens

LIMITS = {scope: parse("3 per 10 minutes") for scope in Scope}


def redis_url() -> str:
    return os.environ.get(REDIS_ENV) or "redis://127.0.0.1:6379/15"


def _redis_available(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key prefix of this test's own on the test Redis (skipped locally, failed in CI, when
    there is none), and its keys deleted afterwards."""
    import redis

    url = redis_url()
    require(_redis_available(url), f"Redis at {url} ({REDIS_ENV})")
    prefix = f"cp-test-{uuid.uuid4().hex}"
    yield prefix
    client = redis.Redis.from_url(url)
    keys = list(client.scan_iter(match=f"*{prefix}*"))
    if keys:
        client.delete(*keys)


def test_counts_failures_and_locks_at_the_limit() -> None:
    now = 1_000_000.0
    throttle = Throttle(MemoryStorage(), LIMITS, now=lambda: now)
    assert throttle.refusal(Scope.LOGIN_ACCOUNT, "a@example.org") is None
    assert [throttle.fail(Scope.LOGIN_ACCOUNT, "a@example.org") for _ in range(3)] == [
        False,
        False,
        True,  # the third failure uses up the allowance: the lockout begins
    ]
    assert throttle.failures_left(Scope.LOGIN_ACCOUNT, "a@example.org") == 0
    assert throttle.refusal(Scope.LOGIN_ACCOUNT, "A@Example.org ") is not None  # same account
    # Other keys and other scopes count apart.
    assert throttle.refusal(Scope.LOGIN_ACCOUNT, "b@example.org") is None
    assert throttle.refusal(Scope.LOGIN_ADDRESS, "a@example.org") is None


def test_retry_after_is_the_time_until_the_window_lets_one_through() -> None:
    import time

    start = time.time()  # limits stamps its entries with time.time()
    clock = {"now": start}
    throttle = Throttle(MemoryStorage(), LIMITS, now=lambda: clock["now"])
    for _ in range(3):
        throttle.fail(Scope.TOKEN_ADDRESS, "192.0.2.1")
    clock["now"] = start + 1
    refused = throttle.refusal(Scope.TOKEN_ADDRESS, "192.0.2.1")
    assert refused is not None
    assert 590 <= refused.retry_after_seconds <= 600
    assert refused.retry_after_minutes == 10
    clock["now"] = start + 599.99
    later = throttle.refusal(Scope.TOKEN_ADDRESS, "192.0.2.1")
    assert later is not None
    assert later.retry_after_seconds == 1  # never 0: the header must ask for a wait


def test_clear_forgets_a_keys_failures() -> None:
    throttle = Throttle(MemoryStorage(), LIMITS)
    for _ in range(3):
        throttle.fail(Scope.LOGIN_ACCOUNT, "a@example.org")
    throttle.clear(Scope.LOGIN_ACCOUNT, "a@example.org")
    assert throttle.failures_left(Scope.LOGIN_ACCOUNT, "a@example.org") == 3


def test_the_store_never_holds_an_email() -> None:
    storage = MemoryStorage()
    throttle = Throttle(storage, LIMITS, prefix="p")
    throttle.fail(Scope.LOGIN_ACCOUNT, "secret.person@example.org")
    keys = " ".join(str(k) for k in storage.events)
    assert "p/login_account/" in keys
    assert "example.org" not in keys


def test_bad_limit_setting_names_the_variable() -> None:
    with pytest.raises(ValueError, match="COMPUTEPORT_LOGIN_LIMIT_ACCOUNT"):
        Throttle.from_settings(Settings(login_limit_account="lots"))


def test_two_throttles_on_one_redis_share_one_count(redis_prefix: str) -> None:
    settings = Settings(rate_limit_storage=redis_url(), rate_limit_prefix=redis_prefix)
    first, second = Throttle.from_settings(settings), Throttle.from_settings(settings)
    assert not first.is_local
    first.fail(Scope.LOGIN_ACCOUNT, "a@example.org")
    second.fail(Scope.LOGIN_ACCOUNT, "a@example.org")
    assert first.failures_left(Scope.LOGIN_ACCOUNT, "a@example.org") == 3  # 5 allowed by default
    other = Throttle.from_settings(
        Settings(rate_limit_storage=redis_url(), rate_limit_prefix=redis_prefix + "-other")
    )
    assert other.failures_left(Scope.LOGIN_ACCOUNT, "a@example.org") == 5  # prefixes apart


def test_two_api_processes_sharing_redis_lock_out_together(
    redis_prefix: str,
    tmp_path: Path,
    session: Session,
    db_engine: Engine,
    clock: ManualClock,
    actors: Actors,
) -> None:
    """Guesses spread over two app instances (two API processes behind a proxy) count as one."""
    settings = Settings(
        database_url="sqlite://",
        attachments_dir=tmp_path,
        rate_limit_storage=redis_url(),
        rate_limit_prefix=redis_prefix,
        token_limit_address="4 per 5 minutes",
    )
    good = actors.staff().headers
    bad = {"Authorization": good["Authorization"][:-1] + "!"}
    one = TestClient(build_api_app(session, db_engine, clock, settings))
    two = TestClient(build_api_app(session, db_engine, clock, settings))
    statuses = [c.get("/api/v1/me", headers=bad).status_code for c in (one, two, one, two)]
    assert statuses == [401, 401, 401, 401]
    assert one.get("/api/v1/me", headers=good).status_code == 429
    assert two.get("/api/v1/me", headers=good).status_code == 429
