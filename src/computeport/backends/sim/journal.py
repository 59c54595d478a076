"""What the virtual cluster remembers across restarts: an event journal, replayed on start.

Choice and why: the scheduling core is deterministic (same inputs at the same instants, same
schedule), and the background workload is a seeded stream.  So the cluster's whole state —
queues, running jobs and their nodes, budgets used, accounting — is a function of its
configuration plus the few things that came from outside: provisioning, portal submissions
and cancels, each at its engine instant.  Journalling those (a handful of rows per user
action) and replaying them on start rebuilds *exactly* the state the cluster had, including
running jobs mid-flight, which a table of job rows could only approximate (the core cannot
place a job at a start time in the past).  ``position_s`` records how far the cluster had
advanced, so a restart resumes from there rather than from the wall clock.

Writes are *behind*: ``append`` and ``mark`` only queue (cheap, under the cluster's lock, in
whatever thread called the cluster); ``flush`` writes the queue in one transaction and is
called by the worker after each advance, outside the cluster's lock.  So the cluster never
waits on the database: with SQLite a request that already holds the write lock (an API token's
last-used time) and calls the cluster would otherwise wait on itself.  A crash loses at most the
last second of actions, the same as the clock's position.

Cost: a restart replays the history (measured in the benchmarks: see the module
``benchmarks/bench_sim_cluster.py``); compaction into a snapshot is the next step if
histories grow to years.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = ["Event", "Journal", "JournalState", "MemoryJournal"]


@dataclass(frozen=True, slots=True)
class Event:
    """One outside action at an engine instant: ``provision``, ``submit`` or ``cancel``."""

    t_s: int
    kind: str
    data: dict[str, Any]


@dataclass(slots=True)
class JournalState:
    """What a journal holds for one cluster."""

    meta: dict[str, Any]
    events: list[Event] = field(default_factory=list)
    position_s: int = 0


class Journal(Protocol):
    """Durable storage of one cluster's journal (a database table, or memory in tests)."""

    def load(self, cluster: str) -> JournalState | None: ...

    def create(self, cluster: str, meta: dict[str, Any]) -> None: ...

    def append(self, cluster: str, event: Event) -> None: ...

    def mark(self, cluster: str, position_s: int) -> None: ...

    def flush(self) -> None:
        """Make what was appended and marked durable (a no-op where it already is)."""
        ...


class MemoryJournal:
    """A journal in memory: tests build a second cluster on the same one to 'restart'."""

    def __init__(self) -> None:
        self.states: dict[str, JournalState] = {}

    def load(self, cluster: str) -> JournalState | None:
        state = self.states.get(cluster)
        if state is None:
            return None
        return JournalState(dict(state.meta), list(state.events), state.position_s)

    def create(self, cluster: str, meta: dict[str, Any]) -> None:
        self.states[cluster] = JournalState(dict(meta))

    def append(self, cluster: str, event: Event) -> None:
        self.states[cluster].events.append(event)

    def mark(self, cluster: str, position_s: int) -> None:
        state = self.states[cluster]
        state.position_s = max(state.position_s, position_s)

    def flush(self) -> None:
        return None
