"""Money budgets per key, application and department: the period, the bounds, the refusals.

The rule (docs/gateway.md, "Budgets"): before a request is forwarded, a hold of its *bound* —
what it can cost at most at the rate card's price in force — is reserved against every budget
set for its key, its application and its department, all at once (:mod:`computeport.gateway.
counters`); when the request ends, its *actual* cost settles the hold.  Bound and actual are
priced by :func:`~computeport.billing.token_rating.token_charge_minor`, the function that rates
the request for the invoice, so what the budget counted is exactly what is billed, streamed or
not.

The period is the calendar month in the centre's time zone (Hong Kong,
``Settings.gateway_budget_timezone``): a budget resets at 00:00 HKT on the first of the month,
and every refusal says when.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from computeport.billing.token_rating import audio_charge_minor, token_charge_minor
from computeport.gateway.errors import GatewayError
from computeport.kit.clock import ensure_aware
from computeport.models.inference import BudgetScope
from computeport.models.pricing import PriceKind
from computeport.pricing.book import AudioPrice, PriceBook, TokenPrice


@dataclass(frozen=True, slots=True)
class BudgetLine:
    """One budget that applies to a key's requests, as the key lookup found it."""

    scope: BudgetScope
    label: str
    """How a refusal names it: ``key cpk_ab12cd34``, ``application 'assistant'``, …"""
    slot: str
    """Its counter's name without the month: ``k:<key>``, ``a:<org>:<app>``, ``d:<org>``."""
    monthly_minor: int
    spent_minor: int
    """What the database's meter says was spent this period when the key was looked up."""


def period_start(now: datetime, zone: ZoneInfo) -> datetime:
    """The start of ``now``'s budget period: the first of its month, 00:00 in ``zone``."""
    local = ensure_aware(now).astimezone(zone)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def period_end(now: datetime, zone: ZoneInfo) -> datetime:
    """When ``now``'s period ends and every budget resets (the next month's first, 00:00)."""
    start = period_start(now, zone)
    year, month = (start.year + 1, 1) if start.month == 12 else (start.year, start.month + 1)
    return start.replace(year=year, month=month)


def period_label(now: datetime, zone: ZoneInfo) -> str:
    return ensure_aware(now).astimezone(zone).strftime("%Y-%m")


def token_bound_minor(price: TokenPrice | None, prompt_bound: int, completion_bound: int) -> int:
    """Cents a token request can cost at most (0 when the model has no price)."""
    if price is None:
        return 0
    return token_charge_minor(price, prompt_bound, completion_bound)


def token_cost_minor(price: TokenPrice | None, prompt: int, completion: int) -> int:
    """Cents the request costs as served, exactly as billing rates it."""
    if price is None:
        return 0
    return token_charge_minor(price, prompt, completion)


def audio_bound_minor(price: AudioPrice, seconds: Decimal) -> int:
    """Cents ``seconds`` of audio can cost at most at ``price`` (per minute), rounded up —
    the bound an audio route holds before it forwards an upload."""
    num, den = (price.per_minute * 100 * seconds).as_integer_ratio()
    return math.ceil(num / (den * 60)) if num >= 0 else 0


def audio_cost_minor(price: AudioPrice | None, audio_ms: int) -> int:
    """Cents ``audio_ms`` of served audio costs, exactly as billing rates it (0 unpriced)."""
    if price is None or audio_ms <= 0:
        return 0
    return audio_charge_minor(price, audio_ms)


class UsagePricer:
    """Prices usage records not rated yet as billing will rate them: a speech record by its
    audio, any other by its tokens (what the budgets' spend is reconciled with)."""

    def __init__(self, book: PriceBook) -> None:
        self.book = book

    def __call__(
        self, model: str, at: datetime, prompt: int, completion: int, audio_ms: int
    ) -> int:
        """Cents the record (model, started, prompt, completion, audio ms) will be rated at."""
        when = at.timestamp()
        if audio_ms > 0:
            return audio_cost_minor(self.book.audio_price(model, when), audio_ms)
        return token_cost_minor(self.book.token_price(model, when), prompt, completion)

    def version(self, model: str, at: datetime, audio: bool) -> uuid.UUID | None:
        """The rate card's version that prices ``model``'s record started ``at``: records
        between two instants priced by the same version cost the same for the same usage
        (the version in force only changes when a newer one starts)."""
        kind = PriceKind.AUDIO_MINUTE if audio else PriceKind.TOKENS
        entry = self.book.resolve(kind, model, at.timestamp())[0]
        return entry.id if entry is not None else None


def hkd(minor: int) -> str:
    return f"HK${Decimal(minor) / 100:,.2f}"


def budget_refused(
    line: BudgetLine,
    *,
    spent: int,
    held: int,
    bound: int,
    in_flight: bool,
    now: datetime,
    zone: ZoneInfo,
) -> GatewayError:
    """The refusal naming the budget and when it resets.

    403 when the period's settled spend leaves no room for the request's bound (waiting will
    not help before the reset; a smaller ``max_tokens`` may); 429 with Retry-After when only
    the holds of requests in flight are in the way (they settle within seconds).
    """
    reset = period_end(now, zone)
    reset_text = reset.isoformat()
    left = max(0, line.monthly_minor - spent)
    headers = {"x-budget-reset": reset_text, "x-budget-scope": line.scope.value}
    if in_flight:
        headers["Retry-After"] = "1"
        return GatewayError(
            429,
            f"The monthly budget of {line.label} ({hkd(line.monthly_minor)} in "
            f"{period_label(now, zone)}, Hong Kong time) has {hkd(left)} left, of which "
            f"{hkd(held)} is held by requests in flight; this request may cost up to "
            f"{hkd(bound)}. Retry after 1 s; the budget resets at {reset_text}.",
            "rate_limit_error",
            f"{line.scope.value}_budget_busy",
            headers=headers,
        )
    retry = max(1, math.ceil((reset - ensure_aware(now)).total_seconds()))
    headers["Retry-After"] = str(retry)
    return GatewayError(
        403,
        f"The monthly budget of {line.label} ({hkd(line.monthly_minor)} in "
        f"{period_label(now, zone)}, Hong Kong time) has {hkd(left)} left; this request may "
        f"cost up to {hkd(bound)}. It resets at {reset_text}.",
        "insufficient_quota",
        f"{line.scope.value}_budget_exceeded",
        headers=headers,
    )


__all__ = [
    "BudgetLine",
    "UsagePricer",
    "audio_bound_minor",
    "audio_cost_minor",
    "budget_refused",
    "hkd",
    "period_end",
    "period_label",
    "period_start",
    "token_bound_minor",
    "token_cost_minor",
]
