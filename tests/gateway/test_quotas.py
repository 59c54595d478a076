"""Requests and tokens per minute (429 + Retry-After) and the monthly budget (403), in one
process and across two API processes sharing Redis; refused requests cost nothing."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta

import openai
import pytest
from openai import OpenAI

from tests.gateway.rig import GatewayRig, add_department, serve

HI = [{"role": "user", "content": "hi"}]


def ask(base_url: str, key: str, max_tokens: int = 2) -> None:
    OpenAI(base_url=base_url, api_key=key, max_retries=0).chat.completions.create(
        model="smollm2",
        messages=HI,  # type: ignore[arg-type]
        max_tokens=max_tokens,
        extra_body={"ignore_eos": True},
    )


def test_requests_per_minute_per_key(rig: GatewayRig) -> None:
    dept = add_department(rig.sessions, rig.clock, key_rpm=2)
    ask(rig.base_url, dept.key)
    ask(rig.base_url, dept.key)
    recorded = rig.gateway.meter.recorded
    with pytest.raises(openai.RateLimitError) as caught:
        ask(rig.base_url, dept.key)
    retry = int(caught.value.response.headers["retry-after"])
    assert 1 <= retry <= 60
    assert "requests per minute for this key" in caught.value.message
    assert rig.gateway.meter.recorded == recorded  # refused: nothing metered, nothing billed
    rig.clock.advance(timedelta(seconds=retry))
    ask(rig.base_url, dept.key)


def test_tokens_per_minute_reserve_the_bound_before_forwarding(rig: GatewayRig) -> None:
    dept = add_department(rig.sessions, rig.clock, key_tpm=300)
    with pytest.raises(openai.RateLimitError, match="tokens per minute for this key"):
        ask(rig.base_url, dept.key, max_tokens=400)
    ask(rig.base_url, dept.key, max_tokens=2)  # a bounded request still fits


def test_the_monthly_budget_is_refused_by_name(rig: GatewayRig) -> None:
    dept = add_department(rig.sessions, rig.clock, monthly_tokens=80)
    ask(rig.base_url, dept.key, max_tokens=4)  # ~35 tokens used
    ask(rig.base_url, dept.key, max_tokens=4)  # ~70: the next reservation cannot fit
    with pytest.raises(openai.PermissionDeniedError) as caught:
        ask(rig.base_url, dept.key, max_tokens=4)
    assert "monthly token budget" in caught.value.message
    body = caught.value.body
    assert isinstance(body, dict)
    assert body["code"] == "monthly_token_budget_exceeded"
    used = sum(
        r.prompt_tokens + r.completion_tokens
        for r in rig.settle()
        if r.organisation_id == dept.organisation_id
    )
    assert used <= 80


@pytest.fixture
def two_processes(rig: GatewayRig, redis_url: str) -> Iterator[list[str]]:
    """Two more API servers on the module's database, each with its own gateway (caches,
    counters client, meter), sharing one Redis under a prefix of their own."""
    shared = {"gateway_limits_url": redis_url, "rate_limit_prefix": uuid.uuid4().hex[:12]}
    servers = [serve(rig.engine, rig.clock, shared) for _ in range(2)]
    yield [url + "/v1" for url, *_ in servers]
    for _, _app, server, thread in servers:
        server.should_exit = True
        thread.join(timeout=30)


def test_limits_hold_across_two_api_processes(rig: GatewayRig, two_processes: list[str]) -> None:
    first, second = two_processes
    dept = add_department(rig.sessions, rig.clock, key_rpm=3)
    ask(first, dept.key)
    ask(second, dept.key)
    ask(first, dept.key)
    for url in (first, second):
        with pytest.raises(openai.RateLimitError):
            ask(url, dept.key)
    rig.clock.advance(timedelta(minutes=1))
    ask(second, dept.key)
