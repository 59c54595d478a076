"""A record the back end could read only by its key is quarantined, never billed or dropped.

(Slurm 22.05 cuts short the ``sacct --json`` object of a job whose QOS was deleted early; the
back end recovers it from ``sacct --parsable2`` and, where even that fails, hands over the key
with ``unreadable`` saying which field and why: tests/backends/slurm/test_sacct_recovery.py.)
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from computeport.backends import AccountingRecord, JobState
from computeport.kit.clock import ManualClock
from computeport.metering.accounting import (
    InMemoryCursorStore,
    ingest_accounting,
    record_from_json,
    record_to_json,
)
from computeport.metering.ingest import BillingUsageSink, ingest_usage
from computeport.metering.jsonl import record_from_dict, record_to_dict
from computeport.metering.quarantine import release_quarantine
from computeport.models.metering import QuarantineReason, UsageQuarantine, UsageRecord
from tests.factories import billing as fb
from tests.factories import metering as fm

NOW = datetime(2026, 11, 2, tzinfo=UTC)
END = datetime(2026, 10, 10, tzinfo=UTC)
WHY = "sacct --json: field 'state.current' is missing; sacct --parsable2: field 'End' is 'soon'"


@pytest.fixture
def world(session: Session, clock: ManualClock) -> fb.World:
    w = fb.World(session, clock)
    clock.set(NOW)
    return w


def _unreadable(job_id: int) -> AccountingRecord:
    base = fm.record(job_id, "aiss-a", end=END)
    return dataclasses.replace(
        base, gpus=0, gpu_seconds=0, state=JobState.OTHER, chargeable=False, unreadable=WHY
    )


def _count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_an_unreadable_record_is_held_with_its_job_field_and_why(
    session: Session, clock: ManualClock, world: fb.World
) -> None:
    report = ingest_usage(session, clock, [_unreadable(30), fm.record(31, "aiss-a", end=END)])
    assert report.new == 1  # the readable one beside it goes on
    assert report.quarantined == {QuarantineReason.UNREADABLE.value: 1}
    held = session.scalars(select(UsageQuarantine)).one()
    assert held.reason is QuarantineReason.UNREADABLE
    assert held.job_id == "30"
    assert held.detail == f"job 30: {WHY}"
    assert held.payload["unreadable"] == WHY
    ingest_usage(session, clock, [_unreadable(30)])  # read again: the same held record
    assert _count(session, UsageQuarantine) == 1


def test_release_keeps_an_unreadable_record_held(
    session: Session, clock: ManualClock, world: fb.World
) -> None:
    # Its account and price are known, but its numbers are placeholders: it must stay held.
    ingest_usage(session, clock, [_unreadable(30)])
    report = release_quarantine(session, clock)
    assert (report.released, report.still_held) == (0, 1)
    assert _count(session, UsageRecord) == 0


def test_ingest_goes_past_a_window_with_an_unreadable_record(
    session: Session, clock: ManualClock, world: fb.World
) -> None:
    class Source:
        cluster = "aisc"

        def accounting(self, since: datetime, until: datetime) -> list[AccountingRecord]:
            records = [_unreadable(30), fm.record(31, "aiss-a", end=END)]
            return [r for r in records if since <= r.end_time < until]

    store = InMemoryCursorStore()
    result = ingest_accounting(
        Source(), BillingUsageSink(session, clock), store, clock, since=END - timedelta(days=1)
    )
    assert (result.read, result.accepted) == (2, 1)
    assert _count(session, UsageQuarantine) == 1  # held, so the mark may pass it
    cursor = store.load("aisc")
    assert cursor is not None
    assert cursor.high_water == NOW


def test_the_reason_survives_every_serialised_form() -> None:
    record = _unreadable(30)
    assert record_from_json(record_to_json(record)) == record
    assert record_from_dict(record_to_dict(record)) == record
    readable = fm.record(31, "aiss-a", end=END)
    assert "unreadable" not in record_to_json(readable)
    assert "unreadable" not in record_to_dict(readable)
