"""Counting with the upstream's own tokenizer across the servers' ``/tokenize`` bodies (#13).

The llama.cpp case runs against the real llama.cpp server of the gateway tests.  vLLM and TGI
cannot run here (no GPU, no Rust router), so each has a small aiohttp server below that answers
**exactly as that server documents** — labelled as such: vLLM's ``TokenizeCompletionRequest``
(``prompt`` required, ``model`` optional, 400 in vLLM's error shape without it) answered with
``{"count", "tokens", "max_model_len"}`` (SGLang copies this shape); TGI's ``GenerateRequest``
(``inputs`` required, axum's 422 without it) answered with a list of ``{"id", "text", "start",
"stop"}``.  Their token ids are made up (one per word): what is tested is which body reaches
them and how their answer is read, not a vocabulary.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
from aiohttp import web

from computeport.gateway.token_count import (
    NO_TOKENIZER_RECHECK_S,
    TokenCounter,
    count_in,
    tokenize_url,
)
from computeport.gateway.upstream import UpstreamClient
from computeport.kit.clock import ManualClock
from tests.gateway.closing_proxy import ClosingProxy
from tests.gateway.rig import Upstream

TEXT = "Tell me a long story about the harbour"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _words(text: str) -> list[str]:
    return text.split()


def vllm_like(seen: list[Any]) -> Handler:
    """vLLM's ``POST /tokenize`` as its protocol documents it (a stand-in, labelled)."""

    async def tokenize(request: web.Request) -> web.StreamResponse:
        body = await request.json()
        seen.append(body)
        if not isinstance(body, dict) or not isinstance(body.get("prompt"), str):
            error = {"message": "Field required: prompt", "type": "BadRequestError"}
            return web.json_response({"error": {**error, "param": None, "code": 400}}, status=400)
        tokens = [1000 + i for i, _ in enumerate(_words(body["prompt"]))]
        return web.json_response({"count": len(tokens), "tokens": tokens, "max_model_len": 2048})

    return tokenize


def tgi_like(seen: list[Any]) -> Handler:
    """TGI's ``POST /tokenize`` as its router documents it (a stand-in, labelled)."""

    async def tokenize(request: web.Request) -> web.StreamResponse:
        body = await request.json()
        seen.append(body)
        if not isinstance(body, dict) or not isinstance(body.get("inputs"), str):
            return web.Response(
                status=422,
                text="Failed to deserialize the JSON body into the target type: "
                "missing field `inputs`",
            )
        tokens, at = [], 0
        for i, word in enumerate(_words(body["inputs"])):
            start = body["inputs"].index(word, at)
            at = start + len(word)
            tokens.append({"id": 2000 + i, "text": word, "start": start, "stop": at})
        return web.json_response(tokens)

    return tokenize


def status_only(status: int, seen: list[Any]) -> Handler:
    """A server whose ``/tokenize`` answers ``status`` to every body."""

    async def tokenize(request: web.Request) -> web.StreamResponse:
        seen.append(await request.json())
        return web.json_response({"detail": "no"}, status=status)

    return tokenize


@asynccontextmanager
async def serving(handler: Handler) -> AsyncIterator[str]:
    """An aiohttp server with ``handler`` at ``/tokenize``; yields its ``…/v1`` base URL."""
    app = web.Application()
    app.router.add_post("/tokenize", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        await runner.cleanup()


def run(work: Callable[[TokenCounter, ManualClock], Awaitable[None]]) -> None:
    async def main() -> None:
        client = UpstreamClient(30.0)
        clock = ManualClock()
        try:
            await work(TokenCounter(client, clock), clock)
        finally:
            await client.close()

    asyncio.run(main())


def test_the_real_llama_cpp_server_is_asked_in_its_own_shape_once(
    upstreams: list[Upstream],
) -> None:
    upstream = upstreams[0].base_url
    direct = httpx.post(
        tokenize_url(upstream), json={"content": TEXT, "add_special": False}, timeout=30
    ).json()["tokens"]
    assert len(direct) > 0

    async def work(counter: TokenCounter, _: ManualClock) -> None:
        assert await counter.count(upstream, TEXT) == len(direct)
        assert counter.shape_of(upstream) == "llama.cpp"
        assert counter.requests == 1  # its shape is tried first: nothing else is sent
        assert await counter.count(upstream, "Hi") == 1
        assert counter.requests == 2

    run(work)


def test_a_connection_closed_unanswered_is_asked_once_more(upstreams: list[Upstream]) -> None:
    """llama.cpp closes kept-alive connections after a few requests: one found closed before
    any answer costs a second try, not the count."""
    proxy = ClosingProxy(upstreams[0].port).start()

    async def work(counter: TokenCounter, _: ManualClock) -> None:
        assert await counter.count(proxy.base_url, "Hi") == 1
        assert (counter.requests, proxy.connections) == (2, 2)
        assert counter.shape_of(proxy.base_url) == "llama.cpp"

    try:
        run(work)
    finally:
        proxy.stop()


def test_vllm_is_asked_in_its_shape_after_refusing_llama_cpps_and_it_is_remembered() -> None:
    seen: list[Any] = []

    async def work(counter: TokenCounter, _: ManualClock) -> None:
        async with serving(vllm_like(seen)) as upstream:
            assert await counter.count(upstream, TEXT) == len(_words(TEXT))
            assert seen == [
                {"content": TEXT, "add_special": False},  # refused with 400
                {"prompt": TEXT, "add_special_tokens": False},
            ]
            assert counter.shape_of(upstream) == "vllm"
            assert await counter.count(upstream, "two words") == 2
            assert seen[-1] == {"prompt": "two words", "add_special_tokens": False}
            assert counter.requests == 3  # the second count: one request, the known shape

    run(work)


def test_tgi_is_asked_in_its_shape_and_its_token_list_counted() -> None:
    seen: list[Any] = []

    async def work(counter: TokenCounter, _: ManualClock) -> None:
        async with serving(tgi_like(seen)) as upstream:
            assert await counter.count(upstream, TEXT) == len(_words(TEXT))
            assert [next(iter(b)) for b in seen] == ["content", "prompt", "inputs"]
            assert counter.shape_of(upstream) == "tgi"

    run(work)


def test_an_upstream_without_a_tokenizer_is_left_unasked_for_a_while() -> None:
    seen: list[Any] = []

    async def work(counter: TokenCounter, clock: ManualClock) -> None:
        async with serving(status_only(404, seen)) as upstream:
            assert await counter.count(upstream, TEXT) is None
            assert len(seen) == 3  # every shape once, then no more
            assert await counter.count(upstream, TEXT) is None
            assert len(seen) == 3
            clock.advance(NO_TOKENIZER_RECHECK_S)
            assert await counter.count(upstream, TEXT) is None
            assert len(seen) == 6  # asked again after the pause

    run(work)


def test_a_failing_upstream_teaches_nothing_and_costs_one_request() -> None:
    seen: list[Any] = []

    async def work(counter: TokenCounter, _: ManualClock) -> None:
        async with serving(status_only(503, seen)) as upstream:
            assert await counter.count(upstream, TEXT) is None
            assert await counter.count(upstream, TEXT) is None
            assert len(seen) == 2  # one try per count: a failure is not a refusal
            assert counter.shape_of(upstream) is None
        assert await counter.count(upstream, TEXT) is None  # gone: no answer, no error

    run(work)


def test_a_known_shape_refused_later_is_learnt_again() -> None:
    """Another server took the address (a vLLM replaced by a TGI): the count that meets the
    refusal keeps the estimate; the next one finds the new shape."""
    seen: list[Any] = []
    handlers: list[Handler] = [vllm_like(seen)]

    async def current(request: web.Request) -> web.StreamResponse:
        return await handlers[0](request)

    async def work(counter: TokenCounter, _: ManualClock) -> None:
        async with serving(current) as upstream:
            assert await counter.count(upstream, TEXT) == len(_words(TEXT))
            handlers[0] = tgi_like(seen)
            assert await counter.count(upstream, TEXT) is None
            assert counter.shape_of(upstream) is None
            assert await counter.count(upstream, TEXT) == len(_words(TEXT))
            assert counter.shape_of(upstream) == "tgi"

    run(work)


def test_empty_text_costs_no_request() -> None:
    async def work(counter: TokenCounter, _: ManualClock) -> None:
        assert await counter.count("http://127.0.0.1:9/v1", "") == 0
        assert counter.requests == 0

    run(work)


def test_every_documented_answer_is_read() -> None:
    assert count_in({"tokens": [1, 2, 3]}) == 3  # llama.cpp
    assert count_in({"count": 4, "tokens": [1, 2, 3, 4], "max_model_len": 8}) == 4  # vLLM
    assert count_in([{"id": 1, "text": "a", "start": 0, "stop": 1}]) == 1  # TGI
    assert count_in(json.loads('{"detail": "Not Found"}')) is None
    assert count_in({"count": True}) is None
    assert count_in("7") is None
