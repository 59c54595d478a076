"""Injected clocks: the same code runs on real time, on a manual clock in tests, and accelerated.

Nothing in computeport calls ``datetime.now()`` directly; services receive a :class:`Clock`.
Tests use :class:`ManualClock` and never sleep.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """A source of aware UTC time."""

    def now(self) -> datetime: ...


def utc_now() -> datetime:
    """The one place that reads the machine's wall clock."""
    return datetime.now(UTC)


class SystemClock:
    """Real time."""

    def now(self) -> datetime:
        return utc_now()


@dataclass
class ManualClock:
    """A clock that moves only when told to (tests, replays)."""

    current: datetime = field(default_factory=lambda: datetime(2026, 1, 1, tzinfo=UTC))

    def __post_init__(self) -> None:
        ensure_aware(self.current)

    def now(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta | float) -> datetime:
        step = delta if isinstance(delta, timedelta) else timedelta(seconds=delta)
        if step < timedelta(0):
            raise ValueError("a clock never goes back")
        self.current += step
        return self.current

    def set(self, when: datetime) -> None:
        ensure_aware(when)
        if when < self.current:
            raise ValueError("a clock never goes back")
        self.current = when


class AcceleratedClock:
    """Simulated time running ``speed`` times faster than the wall clock from an origin.

    The embedded virtual cluster uses it (e.g. ``speed=1440``: a simulated day a minute).
    ``monotonic`` is injectable so tests can drive it without sleeping.
    """

    def __init__(
        self,
        origin: datetime,
        speed: float,
        monotonic: Clock | None = None,
    ) -> None:
        ensure_aware(origin)
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.origin = origin
        self.speed = speed
        self._source = monotonic
        self._t0 = self._read()

    def _read(self) -> float:
        if self._source is not None:
            return self._source.now().timestamp()
        return time.monotonic()

    def now(self) -> datetime:
        elapsed = (self._read() - self._t0) * self.speed
        return self.origin + timedelta(seconds=elapsed)


def ensure_aware(when: datetime) -> datetime:
    """Refuse naive datetimes: everything inside is aware UTC."""
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(f"naive datetime not allowed: {when!r}")
    return when.astimezone(UTC)


def to_epoch_seconds(when: datetime) -> int:
    """Aware datetime → integer seconds since the epoch (the core's time)."""
    return int(ensure_aware(when).timestamp())


def from_epoch_seconds(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def isoformat_z(when: datetime) -> str:
    """ISO 8601 with a ``Z``, as the edges show times."""
    return ensure_aware(when).isoformat().replace("+00:00", "Z")
