"""Upstream failures and clients that leave: round robin, retries, 503, a stream cut short.

Real parts: two llama.cpp upstreams, plus addresses where nothing listens (connection refused,
the way a killed upstream looks); a stream left early is counted by the model's tokenizer.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import openai
import pytest
from openai import OpenAI
from sqlalchemy import Engine

from computeport.gateway.keys import register_deployment
from computeport.gateway.token_count import tokenize_url
from tests.gateway.closing_proxy import ClosingProxy
from tests.gateway.rig import GatewayRig, Upstream, build_rig
from tests.support.processes import free_port


def nowhere() -> str:
    return f"http://127.0.0.1:{free_port()}/v1"


@pytest.fixture(scope="module")
def rig(gateway_engine: Engine, upstreams: list[Upstream]) -> Iterator[GatewayRig]:
    served = build_rig(
        gateway_engine,
        [nowhere(), *(u.base_url for u in upstreams)],
        extra_deployments={"down": [nowhere(), nowhere()]},
    )
    yield served
    served.stop()


def client(rig: GatewayRig) -> OpenAI:
    return OpenAI(base_url=rig.base_url, api_key=rig.departments["dept"].key, max_retries=0)


def test_round_robin_over_the_live_upstreams_past_a_dead_one(rig: GatewayRig) -> None:
    c = client(rig)
    answered_by = [
        c.chat.completions.create(
            model="smollm2", messages=[{"role": "user", "content": "hi"}], max_tokens=1
        ).model
        for _ in range(6)
    ]
    assert set(answered_by) == {"up-a", "up-b"}
    rows = rig.settle()[-6:]
    assert [r.status for r in rows] == [200] * 6  # the refused connection cost nothing


def test_no_healthy_upstream_is_a_503_in_the_openai_shape(rig: GatewayRig) -> None:
    with pytest.raises(openai.InternalServerError) as caught:
        client(rig).chat.completions.create(
            model="down", messages=[{"role": "user", "content": "hi"}], max_tokens=1
        )
    assert caught.value.status_code == 503
    body = caught.value.body
    assert isinstance(body, dict)
    assert body["code"] == "no_healthy_upstream"
    assert caught.value.response.headers["retry-after"] == "5"
    row = rig.settle()[-1]
    assert (row.model, row.status, row.prompt_tokens, row.completion_tokens) == ("down", 503, 0, 0)


def test_a_client_leaving_mid_stream_is_billed_once_for_what_was_sent(
    rig: GatewayRig, upstreams: list[Upstream]
) -> None:
    before = len(rig.settle())
    body = {
        "model": "smollm2",
        "messages": [{"role": "user", "content": "Tell me a long story"}],
        "max_tokens": 400,
        "ignore_eos": True,
        "stream": True,
    }
    headers = {"Authorization": f"Bearer {rig.departments['dept'].key}"}
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
                break  # the client goes away: the connection closes with the block
    rig.wait_for_usage(before + 1)  # the server notices the client gone, then meters
    rows = rig.settle()
    assert len(rows) == before + 1
    row = rows[-1]
    assert row.status == 499
    assert row.estimated
    # No usage event came: the model's own tokenizer (llama.cpp's /tokenize) counted the
    # prompt's text and the answer sent so far, not the body's bytes / 4.
    prompt = _tokens(upstreams[0].base_url, "Tell me a long story")
    assert row.prompt_tokens == prompt
    assert row.prompt_tokens != len(json.dumps(body)) // 4 + 1
    assert 5 <= row.completion_tokens < 400


def _tokens(upstream: str, text: str) -> int:
    """The upstream model's token count of ``text`` (both upstreams serve the same model)."""
    answer = httpx.post(tokenize_url(upstream), json={"content": text}, timeout=30)
    tokens = answer.json()["tokens"]
    assert isinstance(tokens, list)
    return len(tokens)


def test_a_connection_closed_before_any_answer_is_tried_again_on_the_same_upstream(
    rig: GatewayRig, upstreams: list[Upstream]
) -> None:
    """The only upstream's first connection closes unanswered (a kept-alive connection it had
    just closed): that says nothing of its health, so the gateway tries it again on a new
    connection and the client gets its answer, billed once — not a 503."""
    port = int(upstreams[0].base_url.rsplit(":", 1)[1].split("/")[0])
    proxy = ClosingProxy(port).start()
    try:
        with rig.sessions.begin() as s:
            register_deployment(
                s,
                rig.clock,
                name="flaky",
                organisation_id=rig.departments["dept"].organisation_id,
                accelerator_type="h800",
                upstreams=[proxy.base_url],
            )
        rig.gateway.lookups.load_deployments()
        answer = client(rig).chat.completions.create(
            model="flaky", messages=[{"role": "user", "content": "hi"}], max_tokens=1
        )
        assert answer.usage is not None
        assert proxy.connections == 2  # closed once, answered on the second connection
        assert not rig.gateway.pool.is_down(proxy.base_url)
        row = rig.settle()[-1]
        assert (row.model, row.status) == ("flaky", 200)
        assert row.completion_tokens == answer.usage.completion_tokens
    finally:
        proxy.stop()
