"""A stream left early on a vLLM upstream is counted by vLLM's own ``/tokenize`` (#13).

The upstream is a **stand-in that answers the way vLLM documents** (no GPU here to run vLLM):
its chat stream is vLLM's ``chat.completion.chunk`` events, and its ``POST /tokenize`` takes
only vLLM's ``{"prompt", …}`` (400 in vLLM's error shape otherwise) and answers
``{"count", "tokens", "max_model_len"}``; its tokenizer is made up (one token a word), so the
counts below are known exactly.  The gateway, the client and the database are the real ones.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from aiohttp import web
from sqlalchemy import Engine

from tests.gateway.rig import GatewayRig, build_rig
from tests.gateway.test_tokenize_shapes import vllm_like
from tests.support.processes import free_port

WORDS = ["Once", " upon", " a", " time", " there", " was"]
"""What the stand-in streams before it waits (the client leaves after five of them)."""
SPLIT = ["Once", " up", "on", " a", " ti", "me"]
"""What it streams when the prompt asks for ``split`` words: six decoding steps whose text
its one-token-a-word tokenizer counts as four tokens."""


class VllmStandIn:
    """vLLM's chat stream and ``/tokenize`` on a thread of its own (labelled stand-in)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.tokenize_bodies: list[Any] = []
        self.loop = asyncio.new_event_loop()
        self.release = asyncio.Event()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    async def chat(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        assert body["stream"] is True
        response = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await response.prepare(request)
        split = "split" in body["messages"][-1]["content"]
        for word in SPLIT if split else WORDS:
            chunk = {
                "id": "chatcmpl-standin",
                "object": "chat.completion.chunk",
                "created": 0,
                "model": body["model"],
                "choices": [{"index": 0, "delta": {"content": word}, "finish_reason": None}],
            }
            event = json.dumps(chunk, separators=(",", ":"))  # compact, as vLLM writes it
            await response.write(f"data: {event}\n\n".encode())
        await self.release.wait()  # the usage event never comes: the client leaves first
        return response

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self.chat)
        app.router.add_post("/tokenize", vllm_like(self.tokenize_bodies))
        runner = web.AppRunner(app)
        self.loop.run_until_complete(runner.setup())
        self.loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", self.port).start())
        self.ready.set()
        self.loop.run_forever()
        self.loop.run_until_complete(runner.cleanup())
        self.loop.close()

    def start(self) -> VllmStandIn:
        self.thread.start()
        assert self.ready.wait(30)
        return self

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.release.set)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(30)


@pytest.fixture(scope="module")
def standin() -> Iterator[VllmStandIn]:
    served = VllmStandIn().start()
    yield served
    served.stop()


@pytest.fixture(scope="module")
def rig(gateway_engine: Engine, standin: VllmStandIn) -> Iterator[GatewayRig]:
    served = build_rig(gateway_engine, [standin.base_url])
    yield served
    served.stop()


def test_a_stream_left_early_on_vllm_is_counted_by_vllms_tokenizer(
    rig: GatewayRig, standin: VllmStandIn
) -> None:
    prompt = "Please tell me a long story"
    body = {
        "model": "smollm2",
        "messages": [{"role": "user", "content": prompt}],
        "max_tokens": 400,
        "stream": True,
    }
    headers = {"Authorization": f"Bearer {rig.departments['dept'].key}"}
    before = len(rig.settle())
    standin.tokenize_bodies.clear()  # a fresh gateway (one per engine) learns the shape anew
    received = 0
    with (
        httpx.Client(timeout=60) as http,
        http.stream("POST", rig.base_url + "/chat/completions", json=body, headers=headers) as r,
    ):
        assert r.status_code == 200
        for line in r.iter_lines():
            if '"content":"' in line:
                received += 1
            if received == 5:
                break  # the client goes away mid-answer
    rig.wait_for_usage(before + 1)
    row = rig.settle()[-1]
    assert (row.status, row.estimated) == (499, True)
    # vLLM's tokenizer counted: the prompt's six words, and what had been streamed to the
    # gateway when the client left (at least the five the client read, at most all six).
    assert row.prompt_tokens == len(prompt.split())
    assert row.prompt_tokens != len(json.dumps(body)) // 4 + 1
    assert 5 <= row.completion_tokens <= len(WORDS)
    # llama.cpp's body was refused once, then vLLM's body served both counts.
    assert standin.tokenize_bodies[0] == {"content": prompt, "add_special": False}
    assert standin.tokenize_bodies[1] == {"prompt": prompt, "add_special_tokens": False}
    answer = standin.tokenize_bodies[2]
    assert answer == {"prompt": answer["prompt"], "add_special_tokens": False}
    assert "".join(WORDS).startswith(answer["prompt"])
    assert len(standin.tokenize_bodies) == 3
    assert rig.gateway.tokens.shape_of(standin.base_url) == "vllm"


def test_a_stream_left_early_is_billed_at_least_the_steps_the_client_was_sent(
    rig: GatewayRig,
) -> None:
    """The tokenizer counts the streamed text as four tokens; the client was sent five
    decoding steps (events), so five or six are billed, never four."""
    body = {
        "model": "smollm2",
        "messages": [{"role": "user", "content": "Tell me a story in split words"}],
        "max_tokens": 400,
        "stream": True,
    }
    headers = {"Authorization": f"Bearer {rig.departments['dept'].key}"}
    before = len(rig.settle())
    received = 0
    with (
        httpx.Client(timeout=60) as http,
        http.stream("POST", rig.base_url + "/chat/completions", json=body, headers=headers) as r,
    ):
        for line in r.iter_lines():
            received += '"content":"' in line
            if received == 5:
                break
    rig.wait_for_usage(before + 1)
    row = rig.settle()[-1]
    assert (row.status, row.estimated) == (499, True)
    assert len("".join(SPLIT).split()) == 4  # what the tokenizer makes of the text
    assert 5 <= row.completion_tokens <= len(SPLIT)
