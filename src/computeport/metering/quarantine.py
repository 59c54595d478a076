"""Releasing quarantined records once the reason has gone away (an account or price added).

A released record is ingested exactly as if it had just arrived (same key and digest, so one
that meanwhile arrived again is not doubled) and its quarantine row is removed in the same
transaction; records still bad stay, with their reason.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from computeport.kit.clock import Clock
from computeport.metering.directory import AccountDirectory
from computeport.metering.ingest import accelerator_of, check, ingest_usage
from computeport.metering.jsonl import record_from_dict
from computeport.models.metering import UsageQuarantine
from computeport.pricing.book import PriceBook


@dataclass(frozen=True)
class ReleaseReport:
    released: int
    still_held: int


def release_quarantine(session: Session, clock: Clock) -> ReleaseReport:
    """Re-check every quarantined record; ingest the ones that are now billable."""
    rows = list(session.scalars(select(UsageQuarantine).order_by(UsageQuarantine.id)))
    directory = AccountDirectory.load(session)
    prices = PriceBook.load(session)
    now = clock.now().timestamp()
    ready = []
    for row in rows:
        record = record_from_dict(row.payload, f"quarantine:{row.id}")
        if check(record, accelerator_of(record), now, directory, prices) is None:
            ready.append((row.id, record))
    if ready:
        ingest_usage(session, clock, [r for _, r in ready])
        session.execute(
            delete(UsageQuarantine).where(UsageQuarantine.id.in_([i for i, _ in ready]))
        )
    return ReleaseReport(len(ready), len(rows) - len(ready))


__all__ = ["ReleaseReport", "release_quarantine"]
