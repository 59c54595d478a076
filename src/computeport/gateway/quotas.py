"""The gateway's one admission: requests and tokens per minute, the monthly token budget, and
the money budgets of the key, its application and its department.

How a request is admitted (before anything is forwarded):

1. its cost is *reserved* on every counter at once — one request on the two requests-per-minute
   counters, a bound of its tokens (the prompt's estimate plus ``max_tokens``, or a default
   bound) on the two tokens-per-minute counters and on the award's month, and a hold of its
   bound in HK cents on each money budget set (:mod:`computeport.gateway.budgets`) — and
   refused whole if any would pass its limit (429 with Retry-After, or 403 naming the budget);
2. when the answer is done, the reservation is *settled*: each token counter moves by the actual
   tokens minus the reserved bound, each money hold is released and the actual cost counted.

So concurrent requests can never overshoot a limit by more than the holds in flight (the lesson
of the best-known gateway's budget bugs, notes/inference-upstream.md), and a streamed request
costs what it would cost unstreamed.  The minute windows are fixed (the clock's minute), so a
burst at a window's edge may pass twice a limit in 60 s; the month follows the centre's time
zone.  Counters live in Redis when ``Settings.gateway_limits_url`` names one — one atomic Lua
script checks and reserves across all counters, so the limits hold across API processes — else
in this process.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from computeport.gateway.budgets import budget_refused, period_end, period_label, period_start
from computeport.gateway.counters import (
    BudgetDraw,
    Counter,
    CounterStore,
    HoldOutcome,
    Release,
)
from computeport.gateway.errors import GatewayError
from computeport.gateway.lookups import KeyInfo
from computeport.settings import Settings

MONTH_TTL_S = 40 * 24 * 3600
MINUTE_TTL_S = 120


@dataclass(frozen=True, slots=True)
class Hold:
    """What a request reserved, to settle once its tokens and cost are known."""

    token_keys: tuple[str, ...]
    reserved_tokens: int
    hold_id: str = ""
    budget_keys: tuple[str, ...] = ()
    reserved_minor: int = 0


class Quotas:
    """The one admission of every gateway route: rate limits and money budgets, at once.

    :meth:`admit` takes a bound in tokens (for the per-minute and monthly token counters) and a
    bound in HK cents (for the budgets); :meth:`settle` takes the actuals.  A route that meters
    no tokens (audio) passes ``tokens=0`` and its bound in cents, and settles with its cents.
    """

    def __init__(
        self, store: CounterStore, settings: Settings, prefix: str = "cpgw", hold_seconds: float = 0
    ) -> None:
        self.store = store
        self.settings = settings
        self.prefix = prefix
        self.hold_seconds = hold_seconds or settings.gateway_hold_seconds
        self._zone = ZoneInfo(settings.gateway_budget_timezone)
        self._month: tuple[str, float, float] = ("", 0.0, 0.0)
        """The budget period last seen: its label and its bounds as epoch seconds."""

    def _period(self, now: datetime) -> str:
        """``now``'s budget period (``2026-12``), worked out again only when a month ends:
        the time-zone conversion and formatting were a visible share of an admission."""
        label, start, end = self._month
        if not start <= now.timestamp() < end:
            label = period_label(now, self._zone)
            start = period_start(now, self._zone).timestamp()
            self._month = (label, start, period_end(now, self._zone).timestamp())
        return label

    async def admit(
        self, key: KeyInfo, tokens: int, now: datetime, *, bound_minor: int = 0
    ) -> Hold:
        """Reserve one request, ``tokens`` and ``bound_minor`` cents for ``key``, or raise the
        refusal (429 rate or in-flight budget, 403 spent budget)."""
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
        period = self._period(now)
        if key.monthly_tokens is not None and key.award_id is not None:
            counters.append(
                Counter(
                    f"{p}:month:{period}:{key.award_id.hex}",
                    key.monthly_tokens,
                    tokens,
                    MONTH_TTL_S,
                    key.month_used,
                )
            )
        fresh = key.budget_period == period  # a seed from last month does not count now
        draws = [
            BudgetDraw(
                f"{p}:budget:{period}:{line.slot}",
                line.monthly_minor,
                bound_minor,
                line.spent_minor if fresh else 0,
            )
            for line in key.budgets
        ]
        hold_id = uuid.uuid4().hex
        found = await self.store.reserve(
            counters, draws, hold_id, now.timestamp(), now.timestamp() + self.hold_seconds
        )
        if found.outcome == HoldOutcome.ADMITTED:
            return Hold(
                tuple(c.key for c in counters[2:]),
                tokens,
                hold_id,
                tuple(d.key for d in draws),
                bound_minor,
            )
        if found.outcome != HoldOutcome.RATE:
            raise budget_refused(
                key.budgets[found.index - 1],
                spent=found.spent,
                held=found.held,
                bound=bound_minor,
                in_flight=found.outcome == HoldOutcome.IN_FLIGHT,
                now=now,
                zone=self._zone,
            )
        refused = found.index
        retry = str(60 - epoch % 60)
        if refused == 5:
            raise GatewayError(
                403,
                f"The monthly token budget of award {key.award_reference} "
                f"({key.monthly_tokens} tokens in {period}) is spent; "
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

    async def settle(self, hold: Hold, actual_tokens: int, actual_minor: int = 0) -> None:
        """Release the hold and count what the request actually used (one store call)."""
        delta = actual_tokens - hold.reserved_tokens
        releases = [Release(k, hold.reserved_minor, actual_minor) for k in hold.budget_keys]
        await self.store.settle(list(hold.token_keys), delta, releases, hold.hold_id)


__all__ = ["Hold", "Quotas"]
