"""Ingest: idempotent, corrections kept as new rows, bad records quarantined with a reason."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from computeport.backends import UsageSink
from computeport.kit.clock import ManualClock
from computeport.kit.errors import ValidationFailed
from computeport.metering.ingest import BillingUsageSink, ingest_usage
from computeport.metering.jsonl import parse_lines, record_to_dict
from computeport.models.metering import QuarantineReason, UsageQuarantine, UsageRecord
from tests.billing import support as s

NOW = datetime(2026, 11, 2, tzinfo=UTC)
END = datetime(2026, 10, 10, tzinfo=UTC)


@pytest.fixture
def world(session: Session, clock: ManualClock) -> s.World:
    w = s.World(session, clock)
    clock.set(NOW)
    return w


def _count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_the_same_record_twice_changes_nothing(
    session: Session, clock: ManualClock, world: s.World
) -> None:
    records = world.october()
    first = ingest_usage(session, clock, records + records[:3])
    assert first.new == len(records)
    again = ingest_usage(session, clock, records)
    assert again.new == 0
    assert again.duplicates == len(records)
    assert _count(session, UsageRecord) == len(records)


def test_a_record_sent_again_in_another_time_zone_or_batch_size_is_known(
    session: Session, clock: ManualClock, world: s.World
) -> None:
    """Stored records are recognised by (cluster, job, submit instant, digest), whatever
    offset the times carry and however the input is cut into batches."""
    records = world.october()
    ingest_usage(session, clock, records, batch_size=4)
    hong_kong = timezone(timedelta(hours=8))
    shifted = [
        dataclasses.replace(
            r,
            submit_time=r.submit_time.astimezone(hong_kong),
            start_time=r.start_time.astimezone(hong_kong) if r.start_time else None,
            end_time=r.end_time.astimezone(hong_kong),
        )
        for r in records
    ]
    again = ingest_usage(session, clock, shifted, batch_size=3)
    assert (again.new, again.duplicates) == (0, len(records))
    corrected = dataclasses.replace(shifted[0], gpu_seconds=shifted[0].gpu_seconds + 1)
    assert ingest_usage(session, clock, [*shifted, corrected], batch_size=5).new == 1
    assert _count(session, UsageRecord) == len(records) + 1


def test_a_stored_record_sent_again_is_never_quarantined(
    session: Session, clock: ManualClock, world: s.World
) -> None:
    """Once stored, a record sent again is a duplicate even if it would now fail a check."""
    record = world.october()[0]
    assert ingest_usage(session, clock, [record]).new == 1
    world.award_a.slurm_account = "aiss-a-renamed"  # its account is now unknown
    session.flush()
    again = ingest_usage(session, clock, [record])
    assert (again.new, again.duplicates, sum(again.quarantined.values())) == (0, 1, 0)
    assert _count(session, UsageQuarantine) == 0


def test_a_correction_is_a_new_row_never_an_edit(
    session: Session, clock: ManualClock, world: s.World
) -> None:
    r = s.job(1, "aiss-a", end=END)
    ingest_usage(session, clock, [r])
    ingest_usage(session, clock, [dataclasses.replace(r, gpu_seconds=r.gpu_seconds // 2)])
    rows = session.scalars(select(UsageRecord).order_by(UsageRecord.id)).all()
    assert [x.gpu_seconds for x in rows] == [r.gpu_seconds, r.gpu_seconds // 2]
    assert rows[0].ingested_at == NOW
    assert rows[0].end_time == END


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"account": "nobody"}, QuarantineReason.UNKNOWN_ACCOUNT),
        ({"gpu_type": "mi300x"}, QuarantineReason.UNKNOWN_ACCELERATOR),
        ({"gpu_seconds": -5}, QuarantineReason.NEGATIVE_DURATION),
        ({"start_time": END + timedelta(hours=1)}, QuarantineReason.NEGATIVE_DURATION),
        ({"end_time": NOW + timedelta(seconds=1)}, QuarantineReason.FROM_THE_FUTURE),
        (
            {
                "end_time": datetime(2023, 1, 1, tzinfo=UTC),
                "start_time": datetime(2022, 12, 31, tzinfo=UTC),
            },
            QuarantineReason.NO_PRICE,
        ),
    ],
)
def test_bad_records_are_quarantined_with_the_reason(
    session: Session,
    clock: ManualClock,
    world: s.World,
    change: dict[str, Any],
    reason: QuarantineReason,
) -> None:
    bad = dataclasses.replace(s.job(7, "aiss-a", end=END), **change)
    report = ingest_usage(session, clock, [bad, s.job(8, "aiss-a", end=END)])
    assert report.new == 1
    assert report.quarantined == {reason.value: 1}
    held = session.scalars(select(UsageQuarantine)).one()
    assert held.reason == reason
    assert held.payload["job_id"] == "7"
    # Quarantine is idempotent too.
    ingest_usage(session, clock, [bad])
    assert _count(session, UsageQuarantine) == 1


def test_the_sink_satisfies_the_back_end_protocol(
    session: Session, clock: ManualClock, world: s.World
) -> None:
    sink = BillingUsageSink(session, clock)
    assert isinstance(sink, UsageSink)
    assert sink.accept(world.october()) == 11
    assert sink.accept(world.october()) == 0


def test_usage_records_are_append_only(
    session: Session, clock: ManualClock, world: s.World
) -> None:
    ingest_usage(session, clock, world.october()[:1])
    row = session.scalars(select(UsageRecord)).one()
    row.gpu_seconds = 1
    with pytest.raises(DBAPIError, match="append-only"), session.begin_nested():
        session.flush()


def test_json_lines_round_trip_and_name_the_bad_line() -> None:
    import json

    r = s.job(1, "aiss-a", end=END)
    line = json.dumps(record_to_dict(r))
    assert list(parse_lines([line])) == [r]
    broken = json.dumps({k: v for k, v in record_to_dict(r).items() if k != "end_time"})
    with pytest.raises(ValidationFailed, match=r"input:2: missing field 'end_time'"):
        list(parse_lines([line, broken]))
    with pytest.raises(ValidationFailed, match=r"input:1.*gpus"):
        list(parse_lines([json.dumps({**record_to_dict(r), "gpus": "8"})]))


def test_quarantined_records_are_released_once_billable(
    session: Session, clock: ManualClock, world: s.World
) -> None:
    from computeport.metering.quarantine import release_quarantine

    ingest_usage(session, clock, [s.job(70, "newcomer", end=END), s.job(71, "ghost", end=END)])
    assert _count(session, UsageQuarantine) == 2
    s.organisation(session, clock, "Newcomer Ltd", "newcomer")
    report = release_quarantine(session, clock)
    assert (report.released, report.still_held) == (1, 1)
    assert session.scalars(select(UsageRecord.job_id)).all() == ["70"]
    assert session.scalars(select(UsageQuarantine.job_id)).all() == ["71"]
