"""The billing lock: one row of ``billing_cursor`` that ingest and posting take first.

Why: usage ids are the posting cursor, so ids must become visible in order.  Serialising the
writers of ``usage_record`` and the poster on one row lock (``SELECT … FOR UPDATE`` on
PostgreSQL; SQLite has one writer anyway) guarantees no lower id commits after a higher one
was rated.

It lives in metering because the row is metering's (``models.metering.BillingCursor``) and
metering writes usage first: ingest takes it here, and posting (billing) and closing a period
(invoicing), which sit above metering, import it downwards.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from computeport.models.metering import BillingCursor

RATING_CURSOR = "rating"


def lock_billing(session: Session, name: str = RATING_CURSOR) -> int:
    """Take the billing lock (creating the cursor row once) and return its position."""
    dialect = session.connection().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(insert(BillingCursor).values(name=name, position=0).on_conflict_do_nothing())
    position = session.scalar(
        select(BillingCursor.position).where(BillingCursor.name == name).with_for_update()
    )
    return int(position or 0)


def advance(session: Session, position: int, name: str = RATING_CURSOR) -> None:
    """Move the cursor (same transaction as the work it covers)."""
    session.execute(
        update(BillingCursor).where(BillingCursor.name == name).values(position=position)
    )


__all__ = ["RATING_CURSOR", "advance", "lock_billing"]
