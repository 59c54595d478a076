"""The limits' one pipelined Redis connection, against a real Redis: each caller gets its own
reply however many are in flight, an error reply or a cancelled caller does not put the
queue out of step, a broken connection fails its waiters and the next call opens a new one,
and the scripts are loaded again after Redis lost them."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable

import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from computeport.gateway.counters import BudgetDraw, Counter, HoldOutcome, RedisCounters, Release
from computeport.gateway.redis_pipe import PipelinedConnection


def _run(
    redis_url: str, body: Callable[[Redis, PipelinedConnection, str], Awaitable[None]]
) -> None:
    async def run() -> None:
        redis = Redis.from_url(redis_url)
        pipe = PipelinedConnection(redis.connection_pool)
        try:
            await body(redis, pipe, f"test:pipe:{uuid.uuid4().hex}")
        finally:
            await pipe.close()
            await redis.aclose()

    asyncio.run(run())


def test_each_of_many_callers_in_flight_gets_its_own_reply(redis_url: str) -> None:
    async def body(redis: Redis, pipe: PipelinedConnection, key: str) -> None:
        replies = await asyncio.gather(*(pipe.execute("ECHO", f"call {i}") for i in range(300)))
        assert replies == [f"call {i}".encode() for i in range(300)]
        counted = await asyncio.gather(*(pipe.execute("INCR", key) for _ in range(100)))
        assert sorted(counted) == list(range(1, 101))  # one connection: each saw its own
        clients = await redis.client_list()
        assert sum(1 for c in clients if c["cmd"] in {"echo", "incr"}) <= 1

    _run(redis_url, body)


def test_an_error_reply_goes_to_its_caller_alone(redis_url: str) -> None:
    async def body(redis: Redis, pipe: PipelinedConnection, key: str) -> None:
        await redis.set(key, "not a number")
        answers: list[object] = await asyncio.gather(
            pipe.execute("ECHO", "before"),
            pipe.execute("INCR", key),
            pipe.execute("ECHO", "after"),
            return_exceptions=True,
        )
        before, wrong, after = answers
        assert (before, after) == (b"before", b"after")
        assert isinstance(wrong, ResponseError)
        assert "not an integer" in str(wrong)

    _run(redis_url, body)


def test_a_cancelled_caller_leaves_the_others_in_step(redis_url: str) -> None:
    async def body(redis: Redis, pipe: PipelinedConnection, key: str) -> None:
        assert await pipe.execute("PING") == b"PONG"  # connected: each call writes at once
        calls = [asyncio.ensure_future(pipe.execute("ECHO", str(i))) for i in range(50)]
        await asyncio.sleep(0)  # (a turn of the loop: every call has written its command)
        for i in range(0, 50, 7):
            calls[i].cancel()
        done = await asyncio.gather(*calls, return_exceptions=True)
        for i, reply in enumerate(done):
            if i % 7 == 0:
                assert isinstance(reply, asyncio.CancelledError)
            else:
                assert reply == str(i).encode()
        assert await pipe.execute("ECHO", "next") == b"next"

    _run(redis_url, body)


def test_a_broken_connection_fails_its_waiters_and_the_next_call_reconnects(
    redis_url: str,
) -> None:
    async def body(redis: Redis, pipe: PipelinedConnection, key: str) -> None:
        own_id = await pipe.execute("CLIENT", "ID")
        waiting = asyncio.ensure_future(pipe.execute("BLPOP", key, 30))  # blocks: no reply
        behind = asyncio.ensure_future(pipe.execute("ECHO", "behind"))  # queued behind it
        await asyncio.sleep(0)  # (a turn of the loop: both have written their commands)
        assert await redis.client_kill_filter(_id=own_id) == 1
        for call in (waiting, behind):
            with pytest.raises(RedisConnectionError):
                await call
        assert await pipe.execute("ECHO", "again") == b"again"

    _run(redis_url, body)


def test_closing_answers_a_caller_still_waiting(redis_url: str) -> None:
    async def body(redis: Redis, pipe: PipelinedConnection, key: str) -> None:
        assert await pipe.execute("PING") == b"PONG"
        waiting = asyncio.ensure_future(pipe.execute("BLPOP", key, 30))  # blocks: no reply
        await asyncio.sleep(0)  # (a turn of the loop: it has written its command)
        await pipe.close()
        with pytest.raises(RedisConnectionError, match="closed"):
            await waiting

    _run(redis_url, body)


def test_the_scripts_are_loaded_again_after_redis_lost_them(redis_url: str) -> None:
    async def run() -> None:
        store = RedisCounters(redis_url)
        key = f"test:pipe:{uuid.uuid4().hex}"
        try:
            first = await store.reserve([Counter(key, 5, 1, 60)], [], "h1", 0, 30)
            await store.redis.script_flush()
            second = await store.reserve([Counter(key, 5, 1, 60)], [], "h2", 0, 30)
            assert (first.outcome, second.outcome) == (HoldOutcome.ADMITTED,) * 2
            assert int(await store.redis.get(key)) == 2
            level = f"{key}:budget"
            held = await store.reserve([], [BudgetDraw(level, 1000, 300)], "h3", 0, 30)
            assert held.outcome == HoldOutcome.ADMITTED
            await store.redis.script_flush()
            await store.settle([], 0, [Release(level, 300, 120)], "h3")
            state = await store.redis.hgetall(level)
            assert (int(state[b"spent"]), int(state[b"held"])) == (120, 0)
        finally:
            await store.close()

    asyncio.run(run())


def test_the_connection_keeps_what_its_url_says(redis_url: str) -> None:
    """The pipe takes over a connection redis-py opened: the database the URL selects and
    the client's decoding survive the takeover."""

    async def run() -> None:
        other_db = "/14" if not redis_url.endswith("/14") else "/13"
        decoding = Redis.from_url(redis_url, decode_responses=True)
        elsewhere = Redis.from_url(redis_url.rsplit("/", 1)[0] + other_db)
        pipe = PipelinedConnection(decoding.connection_pool)
        key = f"test:pipe:{uuid.uuid4().hex}"
        try:
            assert await pipe.execute("SET", key, "here") == "OK"
            assert await pipe.execute("GET", key) == "here"
            assert await decoding.get(key) == "here"
            assert await elsewhere.get(key) is None
            await decoding.delete(key)
        finally:
            await pipe.close()
            await decoding.aclose()
            await elsewhere.aclose()

    asyncio.run(run())


def test_replies_that_arrive_in_pieces_are_put_together(redis_url: str) -> None:
    async def body(redis: Redis, pipe: PipelinedConnection, key: str) -> None:
        blobs = [bytes([65 + i]) * 300_000 for i in range(8)]  # each many socket reads long
        assert await asyncio.gather(*(pipe.execute("ECHO", b) for b in blobs)) == blobs

    _run(redis_url, body)


def test_a_reply_nobody_asked_for_closes_the_connection(redis_url: str) -> None:
    """Out of step is the one thing a pipelined connection cannot be: a message no caller
    waits for (here, one published to a channel the pipe was made to subscribe to) ends
    that connection, and the next call opens a new one."""

    async def body(redis: Redis, pipe: PipelinedConnection, key: str) -> None:
        subscribed = await pipe.execute("SUBSCRIBE", key)
        assert subscribed[0] == b"subscribe"
        behind = asyncio.ensure_future(pipe.execute("PING"))  # (in subscribe mode: a list)
        assert await behind == [b"pong", b""]
        assert await redis.publish(key, "unasked") == 1
        for _ in range(1000):  # (each a round trip to Redis: the pipe reads in between)
            if (await redis.pubsub_numsub(key))[0][1] == 0:
                break
        else:
            pytest.fail("the connection that got an unasked message is still open")
        assert await pipe.execute("ECHO", "fresh") == b"fresh"  # a new connection answers

    _run(redis_url, body)
