"""A background loop is an object with ``tick(now)``: the runner calls it, tests call it directly.

Every loop is driven by the time it is handed (the centre's clock: accelerated with the virtual
cluster), never by sleeping, so a test moves a manual clock and calls ``tick`` — no threads,
no waits.  :class:`Periodic` runs its ``run(now)`` at most once per ``every``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime, timedelta
from typing import Protocol

from computeport.kit.errors import ValidationFailed

__all__ = ["Deferred", "Loop", "Periodic"]


class Loop(Protocol):
    """One background duty."""

    name: str

    def tick(self, now: datetime) -> str | None:
        """Do what is due at ``now``; a short summary of what was done, ``None`` if nothing."""
        ...


class Periodic(ABC):
    """A duty due every ``every`` of the centre's time (the first tick runs it)."""

    name = "periodic"

    def __init__(self, every: timedelta) -> None:
        if every <= timedelta(0):
            raise ValidationFailed("a loop's period must be positive", field="every")
        self.every = every
        self.next_due: datetime | None = None

    def tick(self, now: datetime) -> str | None:
        if self.next_due is not None and now < self.next_due:
            return None
        self.next_due = now + self.every
        return self.run(now)

    @abstractmethod
    def run(self, now: datetime) -> str | None: ...


class Deferred:
    """A duty that starts at a moment of the centre's time: a cluster commissioned then.

    Before ``start`` it is never due (no run row, no lease work), so a planned virtual cluster
    costs nothing until the simulated clock reaches its commissioning date; from then on it is
    exactly its ``inner`` duty.  Its ``name`` is the inner duty's, so its lease exists from the
    worker's start and any worker may take it up.
    """

    def __init__(self, inner: Loop, start: datetime) -> None:
        self.inner = inner
        self.start = start
        self.name = inner.name
        self.ran = False

    @property
    def periodic(self) -> Periodic | None:
        return self.inner if isinstance(self.inner, Periodic) else None

    def due(self, now: datetime) -> bool:
        if now < self.start:
            return False
        inner = self.periodic
        return inner is None or inner.next_due is None or now >= inner.next_due

    def started(self, now: datetime) -> bool:
        return now >= self.start

    def tick(self, now: datetime) -> str | None:
        if now < self.start:
            return None
        self.ran = True
        return self.inner.tick(now)

    def close(self) -> None:
        """At shutdown: close the inner duty only if it ever ran (a cluster never opened has
        no journal to write)."""
        close = getattr(self.inner, "close", None)
        if self.ran and close is not None:
            close()
