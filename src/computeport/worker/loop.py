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

__all__ = ["Loop", "Periodic"]


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
