"""The ingest high-water mark in the database, written in the same transaction as the usage.

So a crash between reading the cluster and committing loses both or neither: the next run
re-reads the window and billing's idempotent ingest keeps the result exactly-once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from computeport.backends import RecordKey
from computeport.metering.accounting import IngestCursor
from computeport.models.ingest_cursor import IngestCursorRow

__all__ = ["DbCursorStore"]


def _iso(value: datetime) -> str:
    return value.isoformat()


class DbCursorStore:
    """A :class:`~computeport.metering.accounting.CursorStore` on the ``ingest_cursor`` table."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def load(self, cluster: str) -> IngestCursor | None:
        row = self.session.get(IngestCursorRow, cluster)
        if row is None:
            return None
        recent = {
            RecordKey(c, j, datetime.fromisoformat(s)): datetime.fromisoformat(e)
            for c, j, s, e in row.recent.get("keys", [])
        }
        return IngestCursor(row.high_water, recent)

    def save(self, cluster: str, cursor: IngestCursor) -> None:
        keys = [
            [k.cluster, k.job_id, _iso(k.submit_time), _iso(e)] for k, e in cursor.recent.items()
        ]
        row = self.session.get(IngestCursorRow, cluster)
        if row is None:
            self.session.add(
                IngestCursorRow(
                    cluster=cluster, high_water=cursor.high_water, recent={"keys": keys}
                )
            )
        else:
            row.high_water = cursor.high_water
            row.recent = {"keys": keys}
        self.session.flush()
