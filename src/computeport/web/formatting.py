"""How the portal shows values to people: HK$ with separators, Hong Kong time, GPU-hours.

Data stays in UTC and integer minor units; only these filters turn it into text, so every page
formats the same way in both languages.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from computeport.kit.money import Money
from computeport.kit.units import SECONDS_PER_HOUR

HONG_KONG = ZoneInfo("Asia/Hong_Kong")


def money(amount_minor: int | None, currency: str = "HKD") -> str:
    """``HK$1,234,567.89``; an absent amount shows as an em dash."""
    if amount_minor is None:
        return "—"
    return Money(int(amount_minor), currency).format()


def money_short(amount_minor: int | None, currency: str = "HKD") -> str:
    """Large amounts for headline figures: ``HK$2.71B``, ``HK$312.5M``, ``HK$48,000``."""
    if amount_minor is None:
        return "—"
    whole = Decimal(int(amount_minor)) / 100
    symbol = "HK$" if currency == "HKD" else f"{currency} "
    sign = "-" if whole < 0 else ""
    whole = abs(whole)
    for size, suffix in ((Decimal(10) ** 9, "B"), (Decimal(10) ** 6, "M")):
        if whole >= size:
            scaled = (whole / size).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
            text = f"{scaled:,.2f}".rstrip("0").rstrip(".")
            return f"{sign}{symbol}{text}{suffix}"
    return f"{sign}{symbol}{whole.quantize(Decimal(1), rounding=ROUND_HALF_UP):,}"


def number(value: int | Decimal | None, places: int = 0) -> str:
    """Thousands separators; ``places`` decimals for Decimals."""
    if value is None:
        return "—"
    if isinstance(value, int):
        return f"{value:,}"
    quantum = Decimal(1).scaleb(-places)
    return f"{value.quantize(quantum, rounding=ROUND_HALF_UP):,.{places}f}"


def gpu_hours(gpu_seconds: int | None) -> str:
    """Integer GPU-seconds shown as whole GPU-hours with separators."""
    if gpu_seconds is None:
        return "—"
    hours = (Decimal(int(gpu_seconds)) / SECONDS_PER_HOUR).quantize(
        Decimal(1), rounding=ROUND_HALF_UP
    )
    return f"{hours:,}"


def percent(value: Decimal | float | None, places: int = 1) -> str:
    """A ratio as a percentage: ``Decimal('0.8123')`` → ``81.2%`` (floats: display ratios)."""
    if value is None:
        return "—"
    if isinstance(value, float):
        value = Decimal(str(round(value, 6)))
    return f"{number(value * 100, places)}%"


def hk_time(when: datetime | None, with_time: bool = True) -> str:
    """An aware UTC datetime shown in Hong Kong time: ``2026-10-01 22:30 HKT``."""
    if when is None:
        return "—"
    if when.tzinfo is None:
        raise ValueError(f"naive datetime not allowed: {when!r}")
    local = when.astimezone(HONG_KONG)
    if not with_time:
        return local.strftime("%Y-%m-%d")
    return local.strftime("%Y-%m-%d %H:%M") + " HKT"


def hk_date(when: datetime | date | None) -> str:
    """A date (or the Hong Kong date of a UTC instant)."""
    if when is None:
        return "—"
    if isinstance(when, datetime):
        return hk_time(when, with_time=False)
    return when.isoformat()


def utc_iso(when: datetime) -> str:
    """UTC ISO 8601 with ``Z``, for data (CSV, chart axes, ``<time datetime=…>``)."""
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


def duration(seconds: int | None) -> str:
    """``3d 4h``, ``5h 12m``, ``42s`` — waits and run times for people."""
    if seconds is None:
        return "—"
    seconds = int(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"
