"""The journal in the application's database (tables in :mod:`computeport.models.sim_cluster`).

Each write is its own short transaction: the virtual cluster is an outside system, like
slurmdbd, and what it did stays done whether or not the request that caused it commits.
"""

from __future__ import annotations

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
        seq = self._next[cluster]
        with self.sessions.begin() as session:
            session.add(
                SimClusterEvent(
                    cluster=cluster, seq=seq, t_s=event.t_s, kind=event.kind, data=event.data
                )
            )
        self._next[cluster] = seq + 1

    def mark(self, cluster: str, position_s: int) -> None:
        with self.sessions.begin() as session:
            session.execute(
                update(SimCluster)
                .where(SimCluster.cluster == cluster, SimCluster.position_s < position_s)
                .values(position_s=position_s)
            )
