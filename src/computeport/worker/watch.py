"""A per-cluster duty's report of whether its cluster answered (``cluster_health``).

Each mark is its own short unit of work, written after the duty's own work committed or rolled
back, so a cluster that fell over is marked down even though nothing else of the run was kept.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from computeport.db.engine import unit_of_work
from computeport.inventory.health import mark_down, mark_up

__all__ = ["ClusterWatch"]


class ClusterWatch:
    """Marks one cluster up or down in the database."""

    def __init__(self, sessions: sessionmaker[Session], cluster: str) -> None:
        self.sessions = sessions
        self.cluster = cluster

    def answered(self, at: datetime, duty: str) -> None:
        with unit_of_work(self.sessions) as session:
            mark_up(session, self.cluster, at, duty)

    def failed(self, at: datetime, error: BaseException, duty: str) -> None:
        with unit_of_work(self.sessions) as session:
            mark_down(session, self.cluster, at, f"{type(error).__name__}: {error}", duty)
