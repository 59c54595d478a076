"""Human references for applications: ``<SCHEME CODE>-<YEAR>-<NNNN>``, e.g. ``AISS-2026-0042``.

The counter row per (scheme, year) is locked ``FOR UPDATE`` while the number is taken, so
concurrent drafts never share one.  The very first draft of a year inserts the row inside a
SAVEPOINT; if a concurrent transaction inserted it first, the unique key refuses ours and we
lock theirs instead.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from computeport.models.application import ReferenceCounter


def _locked(session: Session, scheme_id: uuid.UUID, year: int) -> ReferenceCounter | None:
    return session.scalars(
        select(ReferenceCounter)
        .where(ReferenceCounter.scheme_id == scheme_id, ReferenceCounter.year == year)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()


def next_reference(session: Session, scheme_id: uuid.UUID, scheme_code: str, year: int) -> str:
    counter = _locked(session, scheme_id, year)
    if counter is None:
        try:
            with session.begin_nested():
                session.add(ReferenceCounter(scheme_id=scheme_id, year=year, last_value=0))
        except IntegrityError:
            pass  # a concurrent transaction created it: lock theirs below
        counter = _locked(session, scheme_id, year)
        assert counter is not None
    counter.last_value += 1
    session.flush()
    return format_reference(scheme_code, year, counter.last_value)


def format_reference(scheme_code: str, year: int, sequence: int) -> str:
    return f"{scheme_code}-{year}-{sequence:04d}"
