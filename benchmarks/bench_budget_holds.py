"""What a budget hold costs a request: admission (rate counters + three money budgets, one Lua
script) and settlement (one more), from 64 concurrent clients, on real Redis and in process.

    .venv/bin/python benchmarks/bench_budget_holds.py                          # memory + Redis
    .venv/bin/python benchmarks/bench_budget_holds.py --redis redis://127.0.0.1:6379/15 -n 20000

Each client loops: admit a request of a key with a key, an application and a department budget
(the worst case: every level set), then settle it with a smaller actual cost, as the gateway
does around every request.  Prints per store: admissions/s and the p50/p99 of admit+settle as
one request sees it (its two awaits, queueing behind the other 63 clients included).
Budget (issue 21): hold + settle ≤ 1 ms p50 at 64 concurrent clients.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
import uuid
from datetime import UTC, datetime

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from computeport.gateway.budgets import BudgetLine
from computeport.gateway.counters import MemoryCounters, RedisCounters
from computeport.gateway.lookups import KeyInfo
from computeport.gateway.quotas import Quotas
from computeport.models.inference import BudgetScope
from computeport.settings import Settings

NOW = datetime(2026, 12, 4, 9, 30, tzinfo=UTC)


def key_with_three_budgets() -> KeyInfo:
    org, key = uuid.uuid4(), uuid.uuid4()
    big = 10**15
    lines = (
        BudgetLine(BudgetScope.KEY, "key", f"k:{key.hex}", big, 0),
        BudgetLine(BudgetScope.APPLICATION, "app", f"a:{org.hex}:bench", big, 0),
        BudgetLine(BudgetScope.DEPARTMENT, "dept", f"d:{org.hex}", big, 0),
    )
    return KeyInfo(
        id=key,
        organisation_id=org,
        application="bench",
        award_id=None,
        award_reference=None,
        key_rpm=10**9,
        key_tpm=10**12,
        org_rpm=10**9,
        org_tpm=10**12,
        monthly_tokens=None,
        month_used=0,
        budgets=lines,
        budget_period="2026-12",
    )


async def run(quotas: Quotas, clients: int, total: int, progress: Progress) -> list[float]:
    key = key_with_three_budgets()
    latencies: list[float] = []
    task = progress.add_task("holds", total=total)
    left = total

    async def client() -> None:
        nonlocal left
        while left > 0:
            left -= 1
            t0 = time.perf_counter()
            hold = await quotas.admit(key, 600, NOW, bound_minor=476)
            await quotas.settle(hold, 150, 118)
            latencies.append(time.perf_counter() - t0)
            if len(latencies) % 500 == 0:
                progress.advance(task, 500)

    await asyncio.gather(*(client() for _ in range(clients)))
    return latencies


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=64)
    ap.add_argument("-n", "--requests", type=int, default=10_000)
    ap.add_argument("--redis", default=os.environ.get("COMPUTEPORT_TEST_REDIS_URL", ""))
    a = ap.parse_args()
    settings = Settings()
    stores = [("memory", MemoryCounters())]
    if a.redis:
        stores.append(("redis", RedisCounters(a.redis)))  # type: ignore[arg-type]
    table = Table(title=f"admit + settle, {a.clients} concurrent clients, 3 budgets + 4 counters")
    for column in ("store", "holds/s", "p50 ms", "p99 ms"):
        table.add_column(column, justify="right")
    with Progress(transient=True) as progress:
        for name, store in stores:
            quotas = Quotas(store, settings, prefix=f"bench:{uuid.uuid4().hex[:8]}")
            await run(quotas, a.clients, a.clients * 10, progress)  # warm the scripts
            t0 = time.perf_counter()
            lat = await run(quotas, a.clients, a.requests, progress)
            wall = time.perf_counter() - t0
            table.add_row(
                name,
                f"{len(lat) / wall:,.0f}",
                f"{pct(lat, 0.5) * 1000:.2f}",
                f"{pct(lat, 0.99) * 1000:.2f}",
            )
            await quotas.close()
    Console().print(table)


if __name__ == "__main__":
    asyncio.run(main())
