"""The shared counters behind admission: per-minute counters and money budgets with holds.

Why one store with two operations: a request must be admitted against every limit at once —
its rate counters *and* the key's, application's and department's money budgets — or against
none, across every API process.  In Redis that is one Lua script (atomic, one round trip);
settling is a second script.  So an admitted request costs two round trips in all, whatever
number of limits apply.

A budget level is a hash (``spent``: settled cents this month, ``held``: cents reserved by
requests in flight) and a sorted set of its holds (member ``<hold id>:<cents>``, score: when
the hold expires).  Admission first *reconciles* the level (``spent`` never reads below what
the database's meter says was spent, so a lost or flushed Redis can never under-count), then
releases holds whose process died (their expiry passed), then refuses when the settled spend
plus the bound does not fit (``SPENT``: waiting will not help) or when the holds in flight
leave no room (``IN_FLIGHT``: they settle within seconds).  Settling removes the hold — if it
is still there: one that expired was released already — and adds the actual cost to
``spent``.  Hence: settled spend ≤ limit + the holds in flight that settled above their bound
(none, when bounds hold), and ``held`` never goes negative.

:class:`MemoryCounters` is the same algorithm in this process (one API process, and the
property tests of the arithmetic).
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass, field
from typing import Any, Protocol

from computeport.gateway.redis_pipe import PipelinedConnection
from computeport.settings import Settings

BUDGET_TTL_S = 40 * 24 * 3600
"""Budget keys carry their month in the name; Redis drops them some days after it ends."""

# The numbers travel as one JSON argument (decoded by Redis's ``cjson``), the keys as KEYS.
# Why: redis-py encodes and frames every argument in Python, and at ~40 arguments per call
# that was a fifth of the gateway's CPU under load; one argument costs one.  Admission reads
# ``[now, hold id, budget ttl, expires, [[limit, add, ttl, seed] per counter],
# [[limit, add, seed] per budget level]]``; KEYS are the counters', then each level's hash and
# its holds.  (Lua's ``-x`` of a zero is ``-0``, which Redis refuses as an integer: the
# scripts write ``0 - x``.)
_ADMIT_LUA = """
local a = cjson.decode(ARGV[1])
local now, rid, bttl, expires = a[1], a[2], a[3], a[4]
local counters, draws = a[5], a[6]
local n = #counters
for i, c in ipairs(counters) do
  if redis.call('EXISTS', KEYS[i]) == 0 then
    redis.call('SET', KEYS[i], c[4], 'EX', c[3])
  end
  if c[1] >= 0 and tonumber(redis.call('GET', KEYS[i])) + c[2] > c[1] then
    return {1, i, 0, 0}
  end
end
for j, d in ipairs(draws) do
  local h = KEYS[n + 2 * j - 1]
  local z = KEYS[n + 2 * j]
  local limit, add, seed = d[1], d[2], d[3]
  local spent = tonumber(redis.call('HGET', h, 'spent') or '0')
  if seed > spent then
    redis.call('HSET', h, 'spent', seed)
    spent = seed
  end
  local expired = redis.call('ZRANGEBYSCORE', z, '-inf', now)
  if #expired > 0 then
    local freed = 0
    for _, member in ipairs(expired) do
      freed = freed + tonumber(string.match(member, ':(%d+)$'))
    end
    redis.call('ZREMRANGEBYSCORE', z, '-inf', now)
    redis.call('HINCRBY', h, 'held', 0 - freed)
  end
  local held = tonumber(redis.call('HGET', h, 'held') or '0')
  if spent + add > limit then
    return {2, j, spent, held}
  end
  if spent + held + add > limit then
    return {3, j, spent, held}
  end
end
for i, c in ipairs(counters) do
  redis.call('INCRBY', KEYS[i], c[2])
end
for j, d in ipairs(draws) do
  local h = KEYS[n + 2 * j - 1]
  local z = KEYS[n + 2 * j]
  local add = string.format('%d', d[2])
  redis.call('ZADD', z, expires, rid .. ':' .. add)
  redis.call('HINCRBY', h, 'held', add)
  redis.call('EXPIRE', h, bttl)
  redis.call('EXPIRE', z, bttl)
end
return {0, 0, 0, 0}
"""

# Settling reads ``[delta, hold id, counters, [[held, actual] per budget level]]``: KEYS are
# the ``counters`` token counters, then each level's hash and its holds.
_SETTLE_LUA = """
local a = cjson.decode(ARGV[1])
local delta, rid, n, releases = a[1], a[2], a[3], a[4]
if delta ~= 0 then
  for i = 1, n do
    redis.call('INCRBY', KEYS[i], delta)
  end
end
for j, r in ipairs(releases) do
  local h = KEYS[n + 2 * j - 1]
  local z = KEYS[n + 2 * j]
  local held = string.format('%d', r[1])
  if redis.call('ZREM', z, rid .. ':' .. held) == 1 then
    redis.call('HINCRBY', h, 'held', 0 - r[1])
  end
  redis.call('HINCRBY', h, 'spent', r[2])
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


@dataclass(frozen=True, slots=True)
class BudgetDraw:
    """A hold of ``add`` cents to reserve on one budget level (``key`` names its month)."""

    key: str
    limit: int
    add: int
    seed: int = 0
    """Cents the database's meter says were spent this month (a floor for ``spent``)."""


class HoldOutcome(enum.IntEnum):
    ADMITTED = 0
    RATE = 1
    """A per-minute counter refused (``index``: which)."""
    SPENT = 2
    """A budget's settled spend leaves no room for the bound (``index``: which level)."""
    IN_FLIGHT = 3
    """A budget's holds in flight leave no room for now."""


@dataclass(frozen=True, slots=True)
class HoldAnswer:
    """What the store answered: admitted, or which limit refused with the level's state."""

    outcome: HoldOutcome
    index: int = 0
    spent: int = 0
    held: int = 0


@dataclass(frozen=True, slots=True)
class Release:
    """Settle one hold: remove ``held`` cents from a level's holds, add ``actual`` spent."""

    key: str
    held: int
    actual: int


class CounterStore(Protocol):
    async def reserve(
        self,
        counters: list[Counter],
        draws: list[BudgetDraw],
        hold_id: str,
        now: float,
        expires: float,
    ) -> HoldAnswer: ...

    async def settle(
        self, token_keys: list[str], delta: int, releases: list[Release], hold_id: str
    ) -> None: ...

    async def close(self) -> None: ...


@dataclass
class _Level:
    spent: int = 0
    held: int = 0
    holds: dict[str, tuple[int, float]] = field(default_factory=dict)
    """hold id → (cents, expiry)."""


class MemoryCounters:
    """Counters in this process (one API process, the embedded default)."""

    def __init__(self) -> None:
        self.values: dict[str, int] = {}
        self.levels: dict[str, _Level] = {}

    async def reserve(
        self,
        counters: list[Counter],
        draws: list[BudgetDraw],
        hold_id: str,
        now: float,
        expires: float,
    ) -> HoldAnswer:
        for i, c in enumerate(counters, 1):
            current = self.values.setdefault(c.key, c.seed)
            if c.limit >= 0 and current + c.add > c.limit:
                return HoldAnswer(HoldOutcome.RATE, i)
        for j, d in enumerate(draws, 1):
            level = self.levels.setdefault(d.key, _Level())
            level.spent = max(level.spent, d.seed)
            for hid, (cents, until) in list(level.holds.items()):
                if until <= now:
                    del level.holds[hid]
                    level.held -= cents
            if level.spent + d.add > d.limit:
                return HoldAnswer(HoldOutcome.SPENT, j, level.spent, level.held)
            if level.spent + level.held + d.add > d.limit:
                return HoldAnswer(HoldOutcome.IN_FLIGHT, j, level.spent, level.held)
        for c in counters:
            self.values[c.key] += c.add
        for d in draws:
            level = self.levels[d.key]
            level.holds[hold_id] = (d.add, expires)
            level.held += d.add
        if len(self.values) > 100_000:  # old minutes: keep the store bounded
            self.values = {k: v for k, v in self.values.items() if ":m:" not in k}
        return HoldAnswer(HoldOutcome.ADMITTED)

    async def settle(
        self, token_keys: list[str], delta: int, releases: list[Release], hold_id: str
    ) -> None:
        for key in token_keys:
            self.values[key] = self.values.get(key, 0) + delta
        for r in releases:
            level = self.levels.setdefault(r.key, _Level())
            if level.holds.pop(hold_id, None) is not None:
                level.held -= r.held
            level.spent += r.actual

    async def close(self) -> None:
        return None


class RedisCounters:
    """Counters in Redis, shared by every API process (one script call per admission, one
    per settlement).

    Why one pipelined connection (:class:`PipelinedConnection`): at 64 concurrent requests a
    connection and a round trip each would be 64 socket reads per turn of the event loop;
    on one connection the calls of a turn go out back to back and their replies come back
    together, and each caller wakes as soon as its own reply is read.  Every script still
    runs atomically on its own (``EVALSHA``, by the scripts' digests loaded once).
    """

    def __init__(self, url: str) -> None:
        from redis.asyncio import Redis

        self.redis: Any = Redis.from_url(url)
        self._pipe = PipelinedConnection(self.redis.connection_pool)
        self._digests: dict[str, str] = {}

    async def _call(self, script: str, keys: list[bytes], args: list[bytes]) -> Any:
        from redis.exceptions import NoScriptError

        digest = self._digests.get(script) or await self._load(script)
        try:
            return await self._pipe.execute("EVALSHA", digest, len(keys), *keys, *args)
        except NoScriptError:  # Redis restarted (or flushed its scripts): load again, once
            digest = await self._load(script)
            return await self._pipe.execute("EVALSHA", digest, len(keys), *keys, *args)

    async def _load(self, script: str) -> str:
        digest: str = await self.redis.script_load(script)
        self._digests[script] = digest
        return digest

    async def reserve(
        self,
        counters: list[Counter],
        draws: list[BudgetDraw],
        hold_id: str,
        now: float,
        expires: float,
    ) -> HoldAnswer:
        keys = [c.key.encode() for c in counters]
        for d in draws:
            keys += _level_keys(d.key)
        numbers = [
            now,
            hold_id,
            BUDGET_TTL_S,
            expires,
            [[c.limit, c.add, c.ttl, c.seed] for c in counters],
            [[d.limit, d.add, d.seed] for d in draws],
        ]
        found = await self._call(_ADMIT_LUA, keys, _packed(numbers))
        return HoldAnswer(HoldOutcome(int(found[0])), *(int(v) for v in found[1:]))

    async def settle(
        self, token_keys: list[str], delta: int, releases: list[Release], hold_id: str
    ) -> None:
        if not releases and not delta:
            return
        keys = [k.encode() for k in token_keys]
        for r in releases:
            keys += _level_keys(r.key)
        numbers = [delta, hold_id, len(token_keys), [[r.held, r.actual] for r in releases]]
        await self._call(_SETTLE_LUA, keys, _packed(numbers))

    async def close(self) -> None:
        await self._pipe.close()
        await self.redis.aclose()


def _packed(numbers: list[Any]) -> list[bytes]:
    """A script's one argument: its numbers as compact JSON.  (Keys and arguments go as
    bytes: redis-py sends bytes as they are, a ``str`` through a chain of type checks.)"""
    return [json.dumps(numbers, separators=(",", ":")).encode()]


def _level_keys(key: str) -> list[bytes]:
    """A budget level's two keys: its hash and the sorted set of its holds."""
    name = key.encode()
    return [name, name + b":holds"]


def open_counters(settings: Settings) -> CounterStore:
    url = settings.gateway_limits_url
    if url.startswith("memory://"):
        return MemoryCounters()
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisCounters(url)
    raise ValueError(f"COMPUTEPORT_GATEWAY_LIMITS_URL: {url!r} is neither memory:// nor redis://")


__all__ = [
    "BUDGET_TTL_S",
    "BudgetDraw",
    "Counter",
    "CounterStore",
    "HoldAnswer",
    "HoldOutcome",
    "MemoryCounters",
    "RedisCounters",
    "Release",
    "open_counters",
]
