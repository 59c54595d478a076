"""The journal in the application's database (tables in :mod:`computeport.models.sim_cluster`).

Write-behind (see :mod:`computeport.backends.sim.journal`): ``append`` and ``mark`` queue,
``flush`` writes the queue in its own short transaction — the virtual cluster is an outside
system, like slurmdbd: what it did stays done whether or not the request that caused it
commits.  A flush that fails (the database is busy) keeps the queue for the next one.
"""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from computeport.backends.sim.journal import Event, JournalState
from computeport.models.sim_cluster import SimCluster, SimClusterEvent

__all__ = ["SqlJournal"]


class SqlJournal:
    """A :class:`~computeport.backends.sim.journal.Journal` on SQLAlchemy sessions."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        self._next: dict[str, int] = {}
        self._queue: list[SimClusterEvent] = []
        self._marks: dict[str, int] = {}
        self._lock = threading.Lock()
        self._flushing = threading.Lock()

    def load(self, cluster: str) -> JournalState | None:
        with self.sessions() as session:
            row = session.get(SimCluster, cluster)
            if row is None:
                return None
            events = [
                Event(int(e.t_s), e.kind, dict(e.data))
                for e in session.scalars(
                    select(SimClusterEvent)
                    .where(SimClusterEvent.cluster == cluster)
                    .order_by(SimClusterEvent.seq)
                )
            ]
            top = session.scalar(
                select(func.max(SimClusterEvent.seq)).where(SimClusterEvent.cluster == cluster)
            )
            self._next[cluster] = (top or 0) + 1
            return JournalState(dict(row.meta), events, int(row.position_s))

    def create(self, cluster: str, meta: dict[str, Any]) -> None:
        with self.sessions.begin() as session:
            session.add(SimCluster(cluster=cluster, meta=meta, position_s=0))
        self._next[cluster] = 1

    def append(self, cluster: str, event: Event) -> None:
        with self._lock:
            seq = self._next[cluster]
            self._next[cluster] = seq + 1
            self._queue.append(
                SimClusterEvent(
                    cluster=cluster, seq=seq, t_s=event.t_s, kind=event.kind, data=event.data
                )
            )

    def mark(self, cluster: str, position_s: int) -> None:
        with self._lock:
            self._marks[cluster] = max(self._marks.get(cluster, 0), position_s)

    def flush(self) -> None:
        with self._flushing:  # one flush at a time keeps the events in order
            with self._lock:
                events, self._queue = self._queue, []
                marks, self._marks = self._marks, {}
            if not events and not marks:
                return
            try:
                with self.sessions.begin() as session:
                    session.add_all(events)
                    for cluster, position_s in marks.items():
                        session.execute(
                            update(SimCluster)
                            .where(
                                SimCluster.cluster == cluster,
                                SimCluster.position_s < position_s,
                            )
                            .values(position_s=position_s)
                        )
            except Exception:
                with self._lock:  # keep them for the next flush, in order
                    self._queue = [_copy(e) for e in events] + self._queue
                    for cluster, position_s in marks.items():
                        self._marks[cluster] = max(self._marks.get(cluster, 0), position_s)
                raise

    @property
    def pending(self) -> int:
        """Events queued and not yet written."""
        return len(self._queue)


def _copy(event: SimClusterEvent) -> SimClusterEvent:
    """A fresh row object (a failed session leaves its objects unusable for another)."""
    return SimClusterEvent(
        cluster=event.cluster, seq=event.seq, t_s=event.t_s, kind=event.kind, data=event.data
    )
