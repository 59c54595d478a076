"""The gateway's key cache under load: one database read for every request waiting on a key,
a key read again in the background before it expires (so a revocation in another process is
seen within the cache's time), and nothing cached from a read that a revocation overtook.

Why it matters: at 64 requests in flight an expired key sent all 64 to the database at once,
each summing the month's spend on three budget levels — measured at 8.4 ms of CPU per request
and a p99 of 9 s in bench_gateway.py, against 0.85 ms and 0.2 s after."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, sessionmaker

from computeport.db.engine import make_session_factory
from computeport.gateway.keys import issue_key, revoke_key
from computeport.gateway.lookups import KeyInfo, Lookups
from computeport.identity.service import create_organisation
from computeport.kit.clock import ManualClock
from computeport.models.identity import OrganisationCategory
from computeport.settings import Settings
from tests.factories.inference import EPOCH

TTL = 10.0


class Ticker:
    """The cache's monotonic clock, moved by the test."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def sessions(gateway_engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(gateway_engine)


@pytest.fixture
def key(sessions: sessionmaker[Session]) -> tuple[str, Any]:
    clock = ManualClock(EPOCH)
    with sessions.begin() as s:
        org = create_organisation(
            s,
            name=f"Cache department {uuid.uuid4().hex[:8]}",
            category=OrganisationCategory.GOVERNMENT,
            sector="government",
            at=clock.now(),
        )
        issued = issue_key(s, clock, org.id, "assistant")
        return issued.plaintext, issued.key.id


@contextmanager
def key_reads(engine: Engine) -> Iterator[list[str]]:
    """The statements that read a gateway key, as the database received them."""
    seen: list[str] = []

    def count(_c: Any, _cur: Any, statement: str, *_: Any) -> None:
        if "WHERE gateway_key.key_hash" in statement:
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def lookups(sessions: sessionmaker[Session], ticker: Ticker) -> Lookups:
    return Lookups(sessions, Settings(gateway_cache_seconds=TTL), ticker)


def test_concurrent_requests_on_a_cold_key_share_one_read(
    gateway_engine: Engine, sessions: sessionmaker[Session], key: tuple[str, Any]
) -> None:
    plaintext, key_id = key
    cache = lookups(sessions, Ticker())

    async def burst() -> list[KeyInfo | None]:
        found = await asyncio.gather(*(cache.key(plaintext, EPOCH) for _ in range(64)))
        await cache.close()
        return list(found)

    with key_reads(gateway_engine) as reads:
        found = asyncio.run(burst())
    assert len(reads) == 1
    assert {info.id if info else None for info in found} == {key_id}


def test_a_key_is_read_again_before_it_expires_and_a_revocation_shows(
    gateway_engine: Engine, sessions: sessionmaker[Session], key: tuple[str, Any]
) -> None:
    plaintext, key_id = key
    ticker = Ticker()
    cache = lookups(sessions, ticker)

    async def scenario() -> None:
        assert (await cache.key(plaintext, EPOCH)) is not None
        with sessions.begin() as s:  # revoked by another process: this one has not heard
            revoke_key(s, ManualClock(EPOCH), key_id, None)
        ticker.now += TTL * 0.4  # fresh: served from the cache, no read
        assert (await cache.key(plaintext, EPOCH)) is not None
        assert not reads
        ticker.now += TTL * 0.2  # past half its time: served, and read again meanwhile
        assert (await cache.key(plaintext, EPOCH)) is not None
        await cache.close()
        assert len(reads) == 1
        assert (await cache.key(plaintext, EPOCH)) is None  # the read saw the revocation

    asyncio.run(cache.key(plaintext, EPOCH))  # cached before the counting starts
    ticker.now += TTL + 1  # expired: the scenario's first call reads
    with key_reads(gateway_engine) as reads:
        asyncio.run(cache.key(plaintext, EPOCH))
        reads.clear()
        asyncio.run(scenario())
    assert len(reads) == 1


def test_a_read_overtaken_by_a_revocation_answers_but_is_not_cached(
    gateway_engine: Engine, sessions: sessionmaker[Session], key: tuple[str, Any]
) -> None:
    plaintext, key_id = key
    entered, release = threading.Event(), threading.Event()

    def held_sessions() -> Session:
        """The read's session, opened only once the test lets it (it runs in a thread)."""
        entered.set()
        release.wait(timeout=30)
        return sessions()

    cache = lookups(as_factory(held_sessions), Ticker())

    async def scenario() -> tuple[KeyInfo | None, bool]:
        reading = asyncio.create_task(cache.key(plaintext, EPOCH))
        await asyncio.to_thread(entered.wait, 30)
        cache.forget_key(key_id)  # this process revoked it while the read was under way
        release.set()
        answered = await reading
        return answered, cache._keys == {}

    answered, nothing_cached = asyncio.run(scenario())
    assert answered is not None  # begun before the revocation: answers its request
    assert answered.id == key_id
    assert nothing_cached  # but the next request reads again


def as_factory(make: Callable[[], Session]) -> sessionmaker[Session]:
    """``make`` where Lookups expects a session factory (it only calls it)."""
    return make  # type: ignore[return-value]
