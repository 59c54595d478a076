"""Reservations and drains: blocks of nodes (or pool GPUs) withheld over a time window.

A :class:`Reservation` holds nodes for one project over ``[start_s, end_s)`` (a large training
run booked ahead, a government priority window); only that project's jobs may use them then.
A drain (``project=None``) withholds nodes from everyone from ``start_s`` (maintenance); running
jobs go on, no job that would still run at ``start_s`` starts there. Scheduler and backfill both
respect them: a job may use a withheld node only if its planned window ``[now, now + estimate)``
does not overlap the reservation, or it belongs to the reservation's project.
With placement ``pool`` a reservation withholds ``gpus`` GPUs instead of named nodes.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FOREVER", "Reservation"]

FOREVER = 2**62
"""An end time that never comes (an open-ended drain)."""


@dataclass(frozen=True, slots=True)
class Reservation:
    """Nodes (node placement) or GPUs (pool placement) withheld over ``[start_s, end_s)``."""

    name: str
    start_s: int
    end_s: int = FOREVER
    nodes: tuple[int, ...] = ()
    """Node indices in the partition (placement ``node``)."""
    gpus: int = 0
    """GPUs withheld (placement ``pool``)."""
    project: str | None = None
    """The project it is for; ``None`` is a drain (nobody)."""
    partition: int = 0
    accounts: frozenset[str] = frozenset()
    """Further accounts it admits (a share for a whole category of users, the policy lab)."""

    def overlaps(self, start_s: int, end_s: int) -> bool:
        return self.start_s < end_s and start_s < self.end_s

    def admits(self, account: str) -> bool:
        if self.project is not None and self.project == account:
            return True
        return account in self.accounts

    @property
    def is_drain(self) -> bool:
        return self.project is None and not self.accounts
