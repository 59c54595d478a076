"""Requests and tokens per minute per key and per organisation, and the monthly token budget.

How a request is admitted (before anything is forwarded):

1. its cost is *reserved* on every counter at once — one request on the two requests-per-minute
   counters, and a bound of its tokens (the prompt's estimate plus ``max_tokens``, or a default
   bound) on the two tokens-per-minute counters and on the award's month — and refused whole if
   any counter would pass its limit (429 with Retry-After, or 403 naming the budget);
2. when the answer is done, the reservation is *settled*: each token counter moves by the actual
   tokens minus the reserved bound.

So concurrent requests can never overshoot a limit by more than the holds in flight (the lesson
of the best-known gateway's budget bugs, notes/inference-upstream.md), and a streamed request
costs what it would cost unstreamed.  The minute windows are fixed (the clock's minute), so a
burst at a window's edge may pass twice a limit in 60 s; the month follows the centre's time
zone.  Counters live in Redis when ``Settings.gateway_limits_url`` names one — one atomic Lua
script checks and reserves across all counters, so the limits hold across API processes — else
in this process.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from computeport.gateway.errors import GatewayError
from computeport.gateway.lookups import KeyInfo, month_label
from computeport.settings import Settings

MONTH_TTL_S = 40 * 24 * 3600
MINUTE_TTL_S = 120

_RESERVE_LUA = """
local n = #KEYS
for i = 1, n do
  local limit = tonumber(ARGV[4*i-3])
  local add = tonumber(ARGV[4*i-2])
  local seed = ARGV[4*i]
  if redis.call('EXISTS', KEYS[i]) == 0 then
    redis.call('SET', KEYS[i], seed, 'EX', ARGV[4*i-1])
  end
  if limit >= 0 and tonumber(redis.call('GET', KEYS[i])) + add > limit then
    return i
  end
end
for i = 1, n do
  redis.call('INCRBY', KEYS[i], ARGV[4*i-2])
end
return 0
"""


@dataclass(frozen=True, slots=True)
class Counter:
    """One counter to reserve on: its key, limit (−1: none), amount, lifetime, start value."""

    key: str
    limit: int
    add: int
    ttl: int
    seed: int = 0


class CounterStore(Protocol):
    async def reserve(self, counters: list[Counter]) -> int:
        """0 when all were reserved, else the 1-based index of the first that refused."""

    async def adjust(self, changes: list[tuple[str, int]]) -> None: ...

    async def close(self) -> None: ...


class MemoryCounters:
    """Counters in this process (one API process, the embedded default)."""

    def __init__(self) -> None:
        self.values: dict[str, int] = {}

    async def reserve(self, counters: list[Counter]) -> int:
        for i, c in enumerate(counters, 1):
            current = self.values.setdefault(c.key, c.seed)
            if c.limit >= 0 and current + c.add > c.limit:
                return i
        for c in counters:
            self.values[c.key] += c.add
        if len(self.values) > 100_000:  # old minutes: keep the store bounded
            self.values = {k: v for k, v in self.values.items() if ":m:" not in k}
        return 0

    async def adjust(self, changes: list[tuple[str, int]]) -> None:
        for key, delta in changes:
            self.values[key] = self.values.get(key, 0) + delta

    async def close(self) -> None:
        return None


class RedisCounters:
    """Counters in Redis, shared by every API process (one script call per admission)."""

    def __init__(self, url: str) -> None:
        from redis.asyncio import Redis

        self.redis: Any = Redis.from_url(url)
        self._script: Any = self.redis.register_script(_RESERVE_LUA)

    async def reserve(self, counters: list[Counter]) -> int:
        args: list[int] = []
        for c in counters:
            args += [c.limit, c.add, c.ttl, c.seed]
        return int(await self._script(keys=[c.key for c in counters], args=args))

    async def adjust(self, changes: list[tuple[str, int]]) -> None:
        pipe = self.redis.pipeline(transaction=False)
        for key, delta in changes:
            if delta:
                pipe.incrby(key, delta)
        await pipe.execute()

    async def close(self) -> None:
        await self.redis.aclose()


def open_counters(settings: Settings) -> CounterStore:
    url = settings.gateway_limits_url
    if url.startswith("memory://"):
        return MemoryCounters()
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisCounters(url)
    raise ValueError(f"COMPUTEPORT_GATEWAY_LIMITS_URL: {url!r} is neither memory:// nor redis://")


@dataclass(frozen=True, slots=True)
class Hold:
    """What a request reserved, to settle once its tokens are known."""

    token_keys: tuple[str, ...]
    reserved_tokens: int


class Quotas:
    """Admits or refuses requests against the counters in one store."""

    def __init__(self, store: CounterStore, settings: Settings, prefix: str = "cpgw") -> None:
        self.store = store
        self.settings = settings
        self.prefix = prefix
        self._zone = ZoneInfo(settings.gateway_budget_timezone)

    async def admit(self, key: KeyInfo, tokens: int, now: datetime) -> Hold:
        """Reserve one request and ``tokens`` for ``key``, or raise the refusal."""
        epoch = int(now.timestamp())
        minute = epoch // 60
        p = self.prefix
        k, o = key.id.hex, key.organisation_id.hex
        counters = [
            Counter(f"{p}:m:{minute}:rk:{k}", key.key_rpm, 1, MINUTE_TTL_S),
            Counter(f"{p}:m:{minute}:ro:{o}", key.org_rpm, 1, MINUTE_TTL_S),
            Counter(f"{p}:m:{minute}:tk:{k}", key.key_tpm, tokens, MINUTE_TTL_S),
            Counter(f"{p}:m:{minute}:to:{o}", key.org_tpm, tokens, MINUTE_TTL_S),
        ]
        if key.monthly_tokens is not None and key.award_id is not None:
            label = month_label(now, self._zone)
            counters.append(
                Counter(
                    f"{p}:month:{label}:{key.award_id.hex}",
                    key.monthly_tokens,
                    tokens,
                    MONTH_TTL_S,
                    key.month_used,
                )
            )
        refused = await self.store.reserve(counters)
        if refused == 0:
            return Hold(tuple(c.key for c in counters[2:]), tokens)
        retry = str(60 - epoch % 60)
        if refused == 5:
            raise GatewayError(
                403,
                f"The monthly token budget of award {key.award_reference} "
                f"({key.monthly_tokens} tokens in {month_label(now, self._zone)}) is spent; "
                "it renews on the first of next month.",
                "insufficient_quota",
                "monthly_token_budget_exceeded",
            )
        what = [
            "requests per minute for this key",
            "requests per minute for the organisation",
            "tokens per minute for this key",
            "tokens per minute for the organisation",
        ]
        raise GatewayError(
            429,
            f"Rate limit reached: {what[refused - 1]}. Retry after {retry} s.",
            "rate_limit_error",
            "rate_limit_exceeded",
            headers={"Retry-After": retry},
        )

    async def close(self) -> None:
        await self.store.close()

    async def settle(self, hold: Hold, actual_tokens: int) -> None:
        delta = actual_tokens - hold.reserved_tokens
        if delta:
            await self.store.adjust([(k, delta) for k in hold.token_keys])


__all__ = ["Counter", "Hold", "MemoryCounters", "Quotas", "RedisCounters", "open_counters"]
