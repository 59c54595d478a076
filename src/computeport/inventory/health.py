"""Each cluster's health as the worker last saw it: up, or down since when, and why.

Written by the worker's per-cluster duties (reconcile, ingest) after every run, each in its
own short transaction, so a cluster that stops answering is marked down even though the duty's
own work rolled back.  Read by the operations page and ``GET /api/v1/clusters/health``.  The
mark never stops a duty: a down cluster is tried again every round, and its ingest high-water
mark stays where it was, so its records are read when it returns (nothing lost).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from computeport.models.cluster_marks import ClusterHealth

__all__ = ["DOWN", "UP", "ClusterHealthView", "cluster_states", "mark_down", "mark_up"]

UP = "up"
DOWN = "down"
ERROR_CHARS = 2000
"""A back end's error text is kept this long (a hung command's stderr can be long)."""


@dataclass(frozen=True)
class ClusterHealthView:
    """One cluster's health as pages and the API show it."""

    cluster: str
    state: str
    checked_at: datetime
    last_ok_at: datetime | None
    down_since: datetime | None
    last_error: str | None
    failing_duties: tuple[str, ...]

    @property
    def up(self) -> bool:
        return self.state == UP


def _row(session: Session, cluster: str) -> ClusterHealth | None:
    return session.get(ClusterHealth, cluster, populate_existing=True)


def _duties(text: str) -> list[str]:
    return [d for d in text.split(",") if d]


def mark_up(session: Session, cluster: str, at: datetime, duty: str = "") -> None:
    """``duty`` reached the cluster at ``at``; the outage ends when no duty is failing."""
    row = _row(session, cluster)
    if row is None:
        session.add(
            ClusterHealth(
                cluster=cluster, state=UP, checked_at=at, last_ok_at=at, failing_duties=""
            )
        )
        session.flush()
        return
    failing = [d for d in _duties(row.failing_duties) if duty and d != duty]
    row.checked_at, row.last_ok_at, row.failing_duties = at, at, ",".join(failing)
    if not failing:
        row.state, row.down_since = UP, None
    session.flush()


def mark_down(session: Session, cluster: str, at: datetime, error: str, duty: str) -> None:
    """``duty`` could not reach the cluster at ``at``; the outage began at its first failure."""
    text = error[:ERROR_CHARS]
    row = _row(session, cluster)
    if row is None:
        row = ClusterHealth(cluster=cluster, state=DOWN, checked_at=at, failing_duties="")
        session.add(row)
    if row.state != DOWN or row.down_since is None:
        row.down_since = at
    failing = _duties(row.failing_duties)
    row.state, row.checked_at, row.last_error = DOWN, at, text
    row.failing_duties = ",".join(sorted({*failing, duty}))
    session.flush()


def cluster_states(session: Session) -> list[ClusterHealthView]:
    """Every cluster a duty has spoken to, by name."""
    rows = session.scalars(select(ClusterHealth).order_by(ClusterHealth.cluster))
    return [
        ClusterHealthView(
            r.cluster,
            r.state,
            r.checked_at,
            r.last_ok_at,
            r.down_since,
            r.last_error,
            tuple(_duties(r.failing_duties)),
        )
        for r in rows
    ]
