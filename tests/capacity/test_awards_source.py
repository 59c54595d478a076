"""Committed demand read from the database: award lines and applications awaiting decision."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from computeport.capacity.awards_source import awards_from_db
from computeport.kit.clock import ManualClock
from computeport.models.application import ApplicationStatus
from tests.factories import award as fw


def test_awards_and_pending_applications(session: Session, clock: ManualClock) -> None:
    scheme = fw.scheme(session)
    award = fw.approved_award(session, clock, scheme, gpu_hours=120_000, months=12)
    pending = fw.application(session, scheme, status=ApplicationStatus.UNDER_REVIEW)
    fw.application(session, scheme, status=ApplicationStatus.REJECTED)

    got = awards_from_db(session, dt.date(2026, 3, 14))

    committed = [a for a in got if not a.pending]
    assert [(a.gpu_hours, a.accelerator) for a in committed] == [(120_000.0, "h800")]
    assert committed[0].start == award.starts_at.date()
    assert committed[0].end == award.ends_at.date()
    assert [(a.name, a.start, a.end, a.gpu_hours) for a in got if a.pending] == [
        (pending.reference, dt.date(2026, 4, 1), dt.date(2027, 4, 1), 100_000.0)
    ]
    assert [a for a in awards_from_db(session, dt.date(2026, 3, 14), pending=False)] == committed
