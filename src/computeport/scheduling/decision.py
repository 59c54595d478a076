"""What a scheduling pass decides, each decision with a reason a user can read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

__all__ = ["Action", "CoreJobState", "Decision", "format_instant"]


class Action(StrEnum):
    START = "start"
    WAIT = "wait"
    PREEMPT = "preempt"
    REJECT = "reject"


class CoreJobState(StrEnum):
    """Where a job is in its life (the engine's view)."""

    FUTURE = "future"
    """Submitted with a submit time still ahead (replays; scheduled arrivals)."""
    PENDING = "pending"
    RUNNING = "running"
    FINISHED = "finished"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class Decision:
    """One decision of a pass.

    ``nodes`` are node indices in the job's partition (empty with pool placement).
    """

    job_id: str
    action: Action
    reason: str
    at_s: int
    nodes: tuple[int, ...] = ()


def format_instant(t_s: int, origin_s: int = 0) -> str:
    """``HH:MM`` (UTC) of an engine time, with the date when it is not on the origin's day."""
    when = datetime.fromtimestamp(origin_s + t_s, UTC)
    day0 = datetime.fromtimestamp(origin_s, UTC).date()
    return when.strftime("%H:%M") if when.date() == day0 else when.strftime("%Y-%m-%d %H:%M")
