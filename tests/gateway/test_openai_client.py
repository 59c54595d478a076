"""The official ``openai`` client, sync and async, against the gateway in front of llama.cpp.

The upstream is real (llama.cpp's server from the ``xllamacpp`` wheel, SmolLM2-135M); counts
are asserted, not text (``max_tokens`` with ``ignore_eos`` gives exact completion tokens).
"""

from __future__ import annotations

import asyncio

import openai
import pytest
from openai import AsyncOpenAI, OpenAI
from openai.types.chat import ChatCompletionMessageParam

from tests.gateway.rig import GatewayRig

EXACT = {"ignore_eos": True}
HI: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Say hi"}]


def client(rig: GatewayRig, dept: str = "dept") -> OpenAI:
    return OpenAI(base_url=rig.base_url, api_key=rig.departments[dept].key, max_retries=0)


def test_models_lists_the_deployment(rig: GatewayRig) -> None:
    assert [m.id for m in client(rig).models.list()] == ["smollm2"]


def test_chat_is_answered_and_metered_from_the_upstream_usage(rig: GatewayRig) -> None:
    r = client(rig).chat.completions.create(
        model="smollm2", messages=HI, max_tokens=6, extra_body=EXACT
    )
    assert r.usage is not None
    assert r.usage.completion_tokens == 6
    row = rig.row(r._request_id)
    dept = rig.departments["dept"]
    assert (row.prompt_tokens, row.completion_tokens) == (r.usage.prompt_tokens, 6)
    assert (row.organisation_id, row.key_id, row.award_id) == (
        dept.organisation_id,
        dept.key_id,
        dept.award_id,
    )
    assert (row.model, row.endpoint, row.status, row.streamed, row.estimated) == (
        "smollm2",
        "chat.completions",
        200,
        False,
        False,
    )


def test_a_stream_costs_what_the_same_request_costs_unstreamed(rig: GatewayRig) -> None:
    c = client(rig)
    plain = c.chat.completions.create(model="smollm2", messages=HI, max_tokens=7, extra_body=EXACT)
    stream = c.chat.completions.create(
        model="smollm2", messages=HI, max_tokens=7, extra_body=EXACT, stream=True
    )
    chunks = list(stream)
    # The client did not ask for usage: it gets none (the gateway asked for itself).
    assert all(ch.usage is None for ch in chunks)
    assert "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices)
    rows = [rig.row(plain._request_id), rig.row(stream.response.headers["x-request-id"])]
    assert plain.usage is not None
    assert [(r.prompt_tokens, r.completion_tokens, r.estimated) for r in rows] == [
        (plain.usage.prompt_tokens, 7, False)
    ] * 2
    assert rows[1].streamed
    assert rows[1].ttft_ms is not None


def test_a_stream_with_include_usage_gets_the_usage_chunk(rig: GatewayRig) -> None:
    chunks = list(
        client(rig).chat.completions.create(
            model="smollm2",
            messages=HI,
            max_tokens=5,
            extra_body=EXACT,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == 5


def test_completions_and_embeddings(rig: GatewayRig) -> None:
    c = client(rig)
    done = c.completions.create(model="smollm2", prompt="1, 2, 3,", max_tokens=4, extra_body=EXACT)
    vectors = c.embeddings.create(model="smollm2", input=["a", "b c"])
    assert done.usage is not None
    assert done.usage.completion_tokens == 4
    assert len(vectors.data) == 2
    assert len(vectors.data[0].embedding) == 576
    rows = [rig.row(done._request_id), rig.row(vectors._request_id)]
    assert [(r.endpoint, r.completion_tokens) for r in rows] == [
        ("completions", 4),
        ("embeddings", 0),
    ]
    assert rows[1].prompt_tokens == vectors.usage.prompt_tokens


def test_async_client_plain_and_streamed(rig: GatewayRig) -> None:
    async def run() -> tuple[int, int]:
        c = AsyncOpenAI(base_url=rig.base_url, api_key=rig.departments["dept"].key)
        r = await c.chat.completions.create(
            model="smollm2", messages=HI, max_tokens=3, extra_body=EXACT
        )
        stream = await c.chat.completions.create(
            model="smollm2",
            messages=HI,
            max_tokens=3,
            extra_body=EXACT,
            stream=True,
            stream_options={"include_usage": True},
        )
        last = None
        async for chunk in stream:
            last = chunk
        await c.close()
        assert r.usage is not None
        assert last is not None
        assert last.usage is not None
        return r.usage.completion_tokens, last.usage.completion_tokens

    assert asyncio.run(run()) == (3, 3)


@pytest.mark.parametrize(
    ("call", "error", "param"),
    [
        (
            lambda c: c.chat.completions.create(model="no-such-model", messages=HI),
            openai.NotFoundError,
            "model",
        ),
        (
            lambda c: c.chat.completions.create(
                model="smollm2", messages=[{"role": "wizard", "content": "x"}]
            ),
            openai.BadRequestError,
            "messages[0].role",
        ),
        (
            lambda c: c.chat.completions.create(model="smollm2", messages=[]),
            openai.BadRequestError,
            "messages",
        ),
        (
            lambda c: c.chat.completions.create(
                model="smollm2", messages=[{"role": "user", "content": "x" * 50_000_000}]
            ),
            openai.APIStatusError,
            None,
        ),
    ],
    ids=["unknown-model", "bad-role", "no-messages", "50-MB-body"],
)
def test_bad_requests_raise_the_typed_errors_and_bill_nothing(
    rig: GatewayRig, call: object, error: type[openai.APIStatusError], param: str | None
) -> None:
    before = len(rig.settle())
    recorded = rig.gateway.meter.recorded
    with pytest.raises(error) as caught:
        call(client(rig))  # type: ignore[operator]
    body = caught.value.body
    assert isinstance(body, dict)
    assert body["param"] == param
    if param is None:
        assert caught.value.status_code == 413
    assert rig.gateway.meter.recorded == recorded
    assert len(rig.settle()) == before


def test_a_revoked_key_is_refused(rig: GatewayRig) -> None:
    from computeport.gateway.keys import issue_key, revoke_key

    with rig.sessions.begin() as s:
        issued = issue_key(s, rig.clock, rig.departments["dept"].organisation_id, "short-lived")
    c = OpenAI(base_url=rig.base_url, api_key=issued.plaintext, max_retries=0)
    assert [m.id for m in c.models.list()] == ["smollm2"]
    with rig.sessions.begin() as s:
        revoke_key(s, rig.clock, issued.key.id, None)
    rig.gateway.lookups.forget_key(issued.key.id)
    with pytest.raises(openai.AuthenticationError):
        c.models.list()
    with pytest.raises(openai.AuthenticationError):
        OpenAI(base_url=rig.base_url, api_key="cpk_00000000_" + "x" * 43).models.list()
