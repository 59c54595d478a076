"""The budget race: 64 concurrent streamed requests through two API servers (each with its own
gateway, caches and meter, sharing Redis and PostgreSQL) against a department budget that fits
ten holds, with the real llama.cpp upstreams.  The settled spend never passes the budget (no
hold is left in flight at the end), and equals exactly what was metered and what billing rates.
"""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import cast

import httpx
import pytest
from redis import Redis
from sqlalchemy import func, select

from computeport.billing.token_rating import post_token_usage, token_charge_minor
from computeport.gateway.budget_admin import set_budget
from computeport.gateway.checks import TEMPLATE_ALLOWANCE
from computeport.models.inference import BudgetScope, TokenCharge, TokenUsage
from computeport.pricing.book import TokenPrice
from computeport.pricing.service import set_token_price
from tests.factories.inference import EPOCH
from tests.gateway.rig import GatewayRig, add_department, poll, serve
from tests.support.databases import require

IN, OUT = Decimal("20000"), Decimal("60000")
CLIENTS = 64
MAX_TOKENS = 16


@pytest.fixture
def shared(rig: GatewayRig) -> Iterator[tuple[list[str], Redis, str]]:
    """Two more API servers on the module's database sharing one Redis under a fresh prefix."""
    if rig.engine.dialect.name != "postgresql":
        pytest.skip("the race is run where several API processes share the book: PostgreSQL")
    url = os.environ.get("COMPUTEPORT_TEST_REDIS_URL")
    require(url is not None, "Redis (COMPUTEPORT_TEST_REDIS_URL)")
    assert url is not None
    prefix = uuid.uuid4().hex[:12]
    servers = [
        serve(rig.engine, rig.clock, {"gateway_limits_url": url, "rate_limit_prefix": prefix})
        for _ in range(2)
    ]
    redis = Redis.from_url(url)
    yield [u + "/v1" for u, *_ in servers], redis, f"{prefix}:gw"
    redis.close()
    for _, _app, server, thread in servers:
        server.should_exit = True
        thread.join(timeout=30)


async def race(urls: list[str], key: str, raw: bytes) -> list[tuple[int, bytes]]:
    headers = {"Authorization": f"Bearer {key}", "content-type": "application/json"}
    limits = httpx.Limits(max_connections=2 * CLIENTS)
    async with httpx.AsyncClient(timeout=120, limits=limits) as http:

        async def one(i: int) -> tuple[int, bytes]:
            path = urls[i % 2] + "/chat/completions"
            async with http.stream("POST", path, content=raw, headers=headers) as r:
                return r.status_code, await r.aread()

        return list(await asyncio.gather(*(one(i) for i in range(CLIENTS))))


def test_64_streams_through_two_processes_never_overshoot_a_budget_of_ten(
    rig: GatewayRig, shared: tuple[list[str], Redis, str]
) -> None:
    urls, redis, prefix = shared
    with rig.sessions.begin() as s:
        version = set_token_price(s, rig.clock, "smollm2", IN, OUT, EPOCH)
    price = TokenPrice(version.id, "smollm2", IN, OUT, EPOCH)
    dept = add_department(rig.sessions, rig.clock)
    body = {
        "model": "smollm2",
        "messages": [{"role": "user", "content": "Name a colour"}],
        "max_tokens": MAX_TOKENS,
        "ignore_eos": True,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    raw = json.dumps(body).encode()
    hold = token_charge_minor(price, len(raw) + TEMPLATE_ALLOWANCE, MAX_TOKENS)
    limit = 10 * hold
    with rig.sessions.begin() as s:
        set_budget(s, rig.clock, dept.organisation_id, BudgetScope.DEPARTMENT, limit)

    answers = asyncio.run(race(urls, dept.key, raw))

    served = [b for status, b in answers if status == 200]
    refused = [json.loads(b)["error"]["code"] for status, b in answers if status != 200]
    assert {s for s, _ in answers} <= {200, 403, 429}
    assert set(refused) <= {"department_budget_busy", "department_budget_exceeded"}
    assert 10 <= len(served) < CLIENTS  # ten fit at once; the budget stopped the rest
    assert all(b.rstrip().endswith(b"data: [DONE]") for b in served)

    level = f"{prefix}:budget:2026-12:d:{dept.organisation_id.hex}"

    def counted(field: str) -> int:
        return int(cast(bytes | None, redis.hget(level, field)) or 0)

    poll("holds settled", lambda: counted("held") == 0, timeout_s=30)
    spent = counted("spent")
    assert 0 < spent <= limit  # nothing in flight now: the budget held

    def metered() -> list[TokenUsage]:
        with rig.sessions() as s:
            return list(
                s.scalars(
                    select(TokenUsage).where(TokenUsage.organisation_id == dept.organisation_id)
                )
            )

    poll("every answer metered", lambda: len(metered()) == len(served), timeout_s=30)
    rows = metered()
    assert {(r.status, r.estimated, r.streamed) for r in rows} == {(200, False, True)}
    assert spent == sum(
        token_charge_minor(price, r.prompt_tokens, r.completion_tokens) for r in rows
    )
    with rig.sessions.begin() as s:
        while post_token_usage(s, rig.clock).records:
            pass
    with rig.sessions() as s:
        billed = s.scalar(
            select(func.sum(TokenCharge.list_minor)).where(
                TokenCharge.organisation_id == dept.organisation_id
            )
        )
    assert billed == spent  # what the budget counted is what the invoice will say
