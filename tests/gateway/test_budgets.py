"""Money budgets through the gateway, with the real llama.cpp upstreams: a request whose bound
does not fit is refused by name with its reset (403 spent, 429 held by requests in flight),
a streamed request costs exactly what the same request costs unstreamed, an upstream failure
releases the whole hold, a client that leaves is charged what it was sent — and the budget's
count always equals the metered, rated usage."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select

from computeport.billing.token_rating import post_token_usage, token_charge_minor
from computeport.gateway.budget_admin import set_budget
from computeport.gateway.checks import TEMPLATE_ALLOWANCE
from computeport.models.inference import BudgetScope, TokenCharge
from computeport.pricing.book import TokenPrice
from computeport.pricing.service import set_token_price
from tests.factories.inference import EPOCH
from tests.gateway.rig import (
    Department,
    GatewayRig,
    Upstream,
    add_department,
    build_rig,
    poll,
    serve,
)
from tests.support.processes import free_port

IN, OUT = Decimal("20000"), Decimal("60000")
"""HK$ per million tokens: 2 cents a prompt token, 6 an answer token (whole cents per request)."""
PRICE = TokenPrice(uuid.uuid4(), "smollm2", IN, OUT, EPOCH)
RESET = "2027-01-01T00:00:00+08:00"  # the rig's clock is 4 Dec 2026, 17:30 in Hong Kong


@pytest.fixture(scope="module")
def rig(gateway_engine: Engine, upstreams: list[Upstream]) -> Iterator[GatewayRig]:
    dead = f"http://127.0.0.1:{free_port()}/v1"
    served = build_rig(
        gateway_engine, [u.base_url for u in upstreams], extra_deployments={"down": [dead]}
    )
    with served.sessions.begin() as s:
        for model in ("smollm2", "down"):
            set_token_price(s, served.clock, model, IN, OUT, EPOCH)
    yield served
    served.stop()


def chat(max_tokens: int, *, stream: bool = False, model: str = "smollm2") -> bytes:
    body: dict[str, Any] = {
        "model": model,
        "messages": [{"role": "user", "content": "Count to twenty"}],
        "max_tokens": max_tokens,
        "ignore_eos": True,
    }
    if stream:
        body |= {"stream": True, "stream_options": {"include_usage": True}}
    return json.dumps(body).encode()


def bound(raw: bytes, max_tokens: int) -> int:
    """The hold the gateway reserves for ``raw`` (the documented bound)."""
    return token_charge_minor(PRICE, len(raw) + TEMPLATE_ALLOWANCE, max_tokens)


def budget(rig: GatewayRig, dept: Department, scope: BudgetScope, minor: int) -> None:
    with rig.sessions.begin() as s:
        set_budget(
            s,
            rig.clock,
            dept.organisation_id,
            scope,
            minor,
            key_id=dept.key_id if scope == BudgetScope.KEY else None,
            application="assistant" if scope == BudgetScope.APPLICATION else None,
        )
    rig.gateway.lookups.forget_key(dept.key_id)


def post(url: str, dept: Department, raw: bytes) -> httpx.Response:
    headers = {"Authorization": f"Bearer {dept.key}", "content-type": "application/json"}
    return httpx.post(url + "/chat/completions", content=raw, headers=headers, timeout=60)


def level(rig: GatewayRig, slot: str) -> tuple[int, int]:
    """(spent, held) of the budget counter ending in ``slot`` (the in-process store), once
    no hold is left on it (requests settle just after they answer)."""
    levels = rig.gateway.quotas.store.levels
    (key,) = [k for k in levels if k.endswith(slot)]
    poll(f"{slot} settled", lambda: levels[key].held == 0, timeout_s=30)
    return levels[key].spent, levels[key].held


def rated(rig: GatewayRig, dept: Department) -> int:
    """The department's rated charges (what its invoice will say), once all is metered."""
    rig.settle()
    with rig.sessions.begin() as s:
        while post_token_usage(s, rig.clock).records:
            pass
    with rig.sessions() as s:
        total = s.scalar(
            select(func.coalesce(func.sum(TokenCharge.list_minor), 0)).where(
                TokenCharge.organisation_id == dept.organisation_id
            )
        )
    return int(total or 0)


def test_a_bound_that_does_not_fit_is_refused_by_name_with_its_reset(rig: GatewayRig) -> None:
    dept = add_department(rig.sessions, rig.clock)
    raw = chat(8)
    budget(rig, dept, BudgetScope.KEY, bound(raw, 8) - 1)
    recorded = rig.gateway.meter.recorded
    refused = post(rig.base_url, dept, raw)
    assert refused.status_code == 403
    error = refused.json()["error"]
    assert error["code"] == "key_budget_exceeded"
    assert error["type"] == "insufficient_quota"
    assert f"key cpk_{dept.key.split('_')[1]}" in error["message"]
    assert RESET in error["message"]
    assert refused.headers["x-budget-reset"] == RESET
    reset_in = datetime.fromisoformat(RESET) - rig.clock.now()
    assert int(refused.headers["retry-after"]) == int(reset_in.total_seconds())
    assert rig.gateway.meter.recorded == recorded  # refused: nothing forwarded, nothing metered

    budget(rig, dept, BudgetScope.KEY, bound(raw, 8))
    served = post(rig.base_url, dept, raw)
    assert served.status_code == 200, served.text
    usage = served.json()["usage"]
    cost = token_charge_minor(PRICE, usage["prompt_tokens"], usage["completion_tokens"])
    assert 0 < cost < bound(raw, 8)
    assert level(rig, f"k:{dept.key_id.hex}") == (cost, 0)
    again = post(rig.base_url, dept, raw)  # what is left is less than the bound: spent
    assert again.json()["error"]["code"] == "key_budget_exceeded"
    assert rated(rig, dept) == cost


def test_holds_in_flight_refuse_for_now_with_429(rig: GatewayRig) -> None:
    dept = add_department(rig.sessions, rig.clock)
    long, short = chat(120, stream=True), chat(4)
    budget(rig, dept, BudgetScope.DEPARTMENT, bound(long, 120) + bound(short, 4) - 1)
    headers = {"Authorization": f"Bearer {dept.key}", "content-type": "application/json"}
    with (
        httpx.Client(timeout=60) as http,
        http.stream("POST", rig.base_url + "/chat/completions", content=long, headers=headers) as r,
    ):
        assert r.status_code == 200
        lines = r.iter_lines()
        next(line for line in lines if '"content":"' in line)  # the stream is under way
        busy = post(rig.base_url, dept, short)
        for _ in lines:
            pass
    assert busy.status_code == 429
    assert busy.headers["retry-after"] == "1"
    error = busy.json()["error"]
    assert error["code"] == "department_budget_busy"
    assert "the department" in error["message"]
    assert "held by requests in flight" in error["message"]
    level(rig, f"d:{dept.organisation_id.hex}")
    assert post(rig.base_url, dept, short).status_code == 200  # the stream settled: room again


def test_a_stream_costs_exactly_what_the_same_request_costs_unstreamed(rig: GatewayRig) -> None:
    dept = add_department(rig.sessions, rig.clock)
    budget(rig, dept, BudgetScope.APPLICATION, 100_000)
    plain = post(rig.base_url, dept, chat(12))
    streamed = post(rig.base_url, dept, chat(12, stream=True))
    assert plain.status_code == streamed.status_code == 200
    a, b = rig.row(plain.headers["x-request-id"]), rig.row(streamed.headers["x-request-id"])
    assert (a.streamed, b.streamed) == (False, True)
    assert (a.estimated, b.estimated) == (False, False)
    assert (a.prompt_tokens, a.completion_tokens) == (b.prompt_tokens, b.completion_tokens)
    cost = token_charge_minor(PRICE, a.prompt_tokens, a.completion_tokens)
    assert cost > 0
    assert level(rig, f"a:{dept.organisation_id.hex}:assistant") == (2 * cost, 0)
    assert rated(rig, dept) == 2 * cost


def test_an_upstream_failure_releases_the_whole_hold(rig: GatewayRig) -> None:
    dept = add_department(rig.sessions, rig.clock)
    raw = chat(8, model="down")
    budget(rig, dept, BudgetScope.DEPARTMENT, bound(raw, 8))
    failed = post(rig.base_url, dept, raw)
    assert failed.status_code == 503
    rig.settle()
    assert level(rig, f"d:{dept.organisation_id.hex}") == (0, 0)  # nothing served, nothing held
    assert rated(rig, dept) == 0


def test_a_client_leaving_mid_stream_is_charged_what_it_was_sent(rig: GatewayRig) -> None:
    dept = add_department(rig.sessions, rig.clock)
    raw = chat(300, stream=True)
    budget(rig, dept, BudgetScope.DEPARTMENT, bound(raw, 300))
    headers = {"Authorization": f"Bearer {dept.key}", "content-type": "application/json"}
    received = 0
    with (
        httpx.Client(timeout=60) as http,
        http.stream("POST", rig.base_url + "/chat/completions", content=raw, headers=headers) as r,
    ):
        request_id = r.headers["x-request-id"]
        for line in r.iter_lines():
            received += '"content":"' in line
            if received == 5:
                break
    row = rig.row(request_id)
    assert row.status == 499
    assert 5 <= row.completion_tokens < 300
    cost = token_charge_minor(PRICE, row.prompt_tokens, row.completion_tokens)
    rig.settle()
    assert level(rig, f"d:{dept.organisation_id.hex}") == (cost, 0)
    assert rated(rig, dept) == cost


def test_a_limits_store_that_does_not_answer_refuses_rather_than_serves_unheld(
    rig: GatewayRig,
) -> None:
    dept = add_department(rig.sessions, rig.clock)
    budget(rig, dept, BudgetScope.DEPARTMENT, 100_000)
    dead = f"redis://127.0.0.1:{free_port()}/0"
    url, _app, server, thread = serve(rig.engine, rig.clock, {"gateway_limits_url": dead})
    try:
        refused = post(url + "/v1", dept, chat(4))
    finally:
        server.should_exit = True
        thread.join(timeout=30)
    assert refused.status_code == 503
    assert refused.json()["error"]["code"] == "limits_unavailable"
    assert refused.headers["retry-after"] == "5"


def test_completions_and_embeddings_draw_on_the_same_budget(rig: GatewayRig) -> None:
    dept = add_department(rig.sessions, rig.clock)
    budget(rig, dept, BudgetScope.DEPARTMENT, 100_000)
    headers = {"Authorization": f"Bearer {dept.key}", "content-type": "application/json"}
    bodies = {
        "/completions": {"model": "smollm2", "prompt": "1, 2, 3,", "max_tokens": 5},
        "/embeddings": {"model": "smollm2", "input": ["a", "b c"]},
    }
    costs = []
    for path, body in bodies.items():
        r = httpx.post(rig.base_url + path, json=body, headers=headers, timeout=60)
        assert r.status_code == 200, r.text
        row = rig.row(r.headers["x-request-id"])
        assert row.endpoint == path[1:]
        costs.append(token_charge_minor(PRICE, row.prompt_tokens, row.completion_tokens))
    assert all(c > 0 for c in costs)
    assert level(rig, f"d:{dept.organisation_id.hex}") == (sum(costs), 0)
    assert rated(rig, dept) == sum(costs)
