"""Reserved capacity charged by reserved GPU-hours (hand-checked), once, and only where the
award's terms say so; on SQLite and PostgreSQL.

The worked example (award B of the billing golden world: account ``aiss-b``, 90 % subsidy,
HK$28.00 per H800 GPU-hour):

    reservation b-train: 1 node × 8 GPUs of gpu, 10 Oct 00:00 → 10:00 = 8 × 36,000 = 288,000 GPU-s
    aiss-b's jobs on gpu:  #21  8 GPUs 01:00–03:00
                           #22  4 GPUs 02:00–04:00   (12 at once 02–03: only 8 count)
                           #23  2 GPUs 09:00–12:00   (only 09–10 is in the window)
    used = 8×3600 (01–02) + 8×3600 (02–03, capped) + 4×3600 (03–04) + 2×3600 (09–10)
         = 28,800 + 28,800 + 14,400 + 7,200 = 79,200 GPU-s (22 GPU-h)
    top-up = 288,000 − 79,200 = 208,800 GPU-s = 58 GPU-h → 58 × HK$28.00 = HK$1,624.00
           = 162,400 cents: subsidy 90 % = 146,160, co-payment 16,240.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from computeport.award.reservations import (
    Capacity,
    PartitionCapacity,
    ReservationIn,
    book_reservation,
    cancel_reservation,
)
from computeport.backends import AccountingRecord, JobState
from computeport.billing.posting import post_all
from computeport.invoicing.close import close_period
from computeport.kit.clock import ManualClock
from computeport.metering.ingest import ingest_usage
from computeport.metering.reservations import reservation_records, used_gpu_seconds
from computeport.models.award import Award
from computeport.models.invoicing import BillingDocument, DocumentLine
from computeport.models.metering import UsageCharge, UsageRecord
from computeport.models.reservation import AwardReservation
from tests.billing import support as s

CAPACITY = Capacity("aisc", {"gpu": PartitionCapacity("gpu", 4, 8, "h800")})
OCT10 = datetime(2026, 10, 10, tzinfo=UTC)
H = timedelta(hours=1)
AFTER = datetime(2026, 10, 11, tzinfo=UTC)


def _at(hour: float) -> datetime:
    return OCT10 + timedelta(hours=hour)


def _job(job_id: str, account: str, gpus: int, start_h: float, end_h: float) -> AccountingRecord:
    seconds = int((end_h - start_h) * 3600)
    return s.job(job_id, account, end=_at(end_h), gpus=gpus, seconds=seconds)


JOBS = [
    _job("21", "aiss-b", 8, 1, 3),
    _job("22", "aiss-b", 4, 2, 4),
    _job("23", "aiss-b", 2, 9, 12),
    _job("24", "aiss-a", 8, 0, 10),  # another award's job: not aiss-b's use
    _job("25", "aiss-b", 8, -4, -2),  # before the window
]


@pytest.fixture
def world(session: Session, clock: ManualClock) -> s.World:
    clock.set(datetime(2026, 10, 1, tzinfo=UTC))
    return s.World(session, clock)


def _book(
    session: Session, clock: ManualClock, award: Award, name: str = "b-train", **kw: object
) -> AwardReservation:
    body = ReservationIn.model_validate(
        {"name": name, "partition": "gpu", "nodes": 1, "starts_at": OCT10, "ends_at": _at(10)} | kw
    )
    return book_reservation(session, award.id, body, None, clock, CAPACITY)


def _rating(session: Session, job_id: str) -> tuple[int, int, int, int]:
    """(GPU-seconds, list, subsidy, co-payment) of a record's current rating (sum of rows)."""
    session.flush()
    rows = session.scalars(select(UsageCharge).where(UsageCharge.job_id == job_id)).all()
    return (
        sum(r.gpu_seconds for r in rows),  # reversal rows carry negative amounts
        sum(r.list_minor for r in rows),
        sum(r.subsidy_minor for r in rows),
        sum(r.copay_minor for r in rows),
    )


def test_used_is_the_awards_gpus_in_the_window_capped_at_the_reservation() -> None:
    jobs = [(_at(1), _at(3), 8), (_at(2), _at(4), 4), (_at(9), _at(12), 2)]
    assert used_gpu_seconds(jobs, OCT10, _at(10), 8) == 79_200
    # uncapped: 8 GPUs x 2 h + 4 x 2 h + 2 x 1 h = 57,600 + 28,800 + 7,200
    assert used_gpu_seconds(jobs, OCT10, _at(10), 16) == 93_600
    assert used_gpu_seconds([], OCT10, _at(10), 8) == 0


def test_the_idle_reserved_capacity_is_charged_once_by_the_normal_rules(
    session: Session, clock: ManualClock, world: s.World
) -> None:
    world.award_b.charge_reservations = True
    _book(session, clock, world.award_b)
    clock.set(AFTER)
    ingest_usage(session, clock, JOBS)

    [topup] = reservation_records(session, "aisc", clock.now())
    assert (topup.job_id, topup.submit_time, topup.account) == ("resv:b-train", OCT10, "aiss-b")
    assert topup.gpu_seconds == 208_800
    assert topup.end_time == _at(10) - timedelta(seconds=1)  # the window's last second
    assert topup.state is JobState.RESERVED

    assert ingest_usage(session, clock, [topup]).new == 1
    post_all(session, clock)
    assert _rating(session, "resv:b-train") == (208_800, 162_400, 146_160, 16_240)
    stored = session.scalars(select(UsageRecord).where(UsageRecord.job_id == "resv:b-train")).one()
    assert stored.state == "RESERVED"
    # the jobs themselves are charged as usual (#21: 16 GPU-h × HK$28.00)
    assert _rating(session, "21")[1] == 44_800

    # again: the same record, nothing new, nothing re-rated
    again = reservation_records(session, "aisc", clock.now())
    assert again == [topup]
    assert ingest_usage(session, clock, again).new == 0
    post_all(session, clock)
    assert _rating(session, "resv:b-train") == (208_800, 162_400, 146_160, 16_240)


def test_a_job_ingested_late_corrects_the_top_up(
    session: Session, clock: ManualClock, world: s.World
) -> None:
    world.award_b.charge_reservations = True
    _book(session, clock, world.award_b)
    clock.set(AFTER)
    ingest_usage(session, clock, JOBS)
    ingest_usage(session, clock, reservation_records(session, "aisc", clock.now()))
    post_all(session, clock)

    ingest_usage(session, clock, [_job("26", "aiss-b", 8, 5, 6)])  # 28,800 GPU-s more used
    [topup] = reservation_records(session, "aisc", clock.now())
    assert topup.gpu_seconds == 180_000
    ingest_usage(session, clock, [topup])
    post_all(session, clock)
    # 50 GPU-h × HK$28.00 = HK$1,400.00: the old rating reversed, the new one in its place
    assert _rating(session, "resv:b-train") == (180_000, 140_000, 126_000, 14_000)


def test_a_fully_used_reservation_tops_up_nothing(
    session: Session, clock: ManualClock, world: s.World
) -> None:
    world.award_b.charge_reservations = True
    _book(session, clock, world.award_b)
    clock.set(AFTER)
    ingest_usage(session, clock, [_job("31", "aiss-b", 8, 0, 6), _job("32", "aiss-b", 16, 6, 11)])
    [topup] = reservation_records(session, "aisc", clock.now())
    assert topup.gpu_seconds == 0  # never negative, though 16 GPUs ran at once 06–10


def test_no_charge_without_the_flag_before_the_end_or_when_cancelled_in_time(
    session: Session, clock: ManualClock, world: s.World
) -> None:
    _book(session, clock, world.award_b)  # award B's terms do not charge reservations
    void = _book(session, clock, world.award_b, "void", starts_at=_at(24), ends_at=_at(30))
    cancel_reservation(session, world.award_b.id, void.id, None, clock)  # before its start
    clock.set(_at(48))
    assert reservation_records(session, "aisc", clock.now()) == []

    world.award_b.charge_reservations = True
    session.flush()
    assert reservation_records(session, "aisc", _at(10) - H) == []  # not ended yet
    assert reservation_records(session, "other-cluster", clock.now()) == []
    assert [r.job_id for r in reservation_records(session, "aisc", clock.now())] == [
        "resv:b-train"
    ]  # and not the void one


def test_a_reservation_cut_short_is_charged_up_to_the_cut(
    session: Session, clock: ManualClock, world: s.World
) -> None:
    world.award_b.charge_reservations = True
    row = _book(session, clock, world.award_b)
    clock.set(_at(4))
    cancel_reservation(session, world.award_b.id, row.id, None, clock)
    clock.set(AFTER)
    ingest_usage(session, clock, JOBS)
    [topup] = reservation_records(session, "aisc", clock.now())
    # 8 × 4 h = 115,200 reserved; used 01–04 = 28,800 + 28,800 + 14,400 = 72,000
    assert topup.gpu_seconds == 43_200


def test_the_invoice_shows_the_reserved_capacity_as_its_own_line(
    session: Session, clock: ManualClock, world: s.World
) -> None:
    world.award_b.charge_reservations = True
    _book(session, clock, world.award_b)
    clock.set(AFTER)
    ingest_usage(session, clock, JOBS)
    ingest_usage(session, clock, reservation_records(session, "aisc", clock.now()))
    post_all(session, clock)
    clock.set(datetime(2026, 11, 2, tzinfo=UTC))
    close_period(session, clock, "2026-10")

    lines = session.scalars(
        select(DocumentLine)
        .join(BillingDocument, BillingDocument.id == DocumentLine.document_id)
        .where(BillingDocument.organisation_id == world.beta.id)
    ).all()
    ref = world.award_b.reference
    by_label = {ln.award_reference: ln for ln in lines}
    reserved = by_label[f"{ref} (reserved)"]
    assert (reserved.gpu_seconds, reserved.list_minor, reserved.due_minor) == (
        208_800,
        162_400,
        16_240,
    )
    jobs = by_label[ref]  # #21, #22, #23, #25: 16 + 8 + 6 + 16 = 46 GPU-h × HK$28.00
    assert (jobs.jobs, jobs.list_minor) == (4, 128_800)


def test_each_reservation_counts_its_own_awards_jobs_in_one_run(
    session: Session, clock: ManualClock, world: s.World
) -> None:
    world.award_a.charge_reservations = True
    world.award_b.charge_reservations = True
    _book(session, clock, world.award_b)
    _book(session, clock, world.award_a, "a-train")
    clock.set(AFTER)
    ingest_usage(session, clock, JOBS)
    topups = {r.job_id: r.gpu_seconds for r in reservation_records(session, "aisc", clock.now())}
    # aiss-a's #24 filled its node for the whole window; aiss-b's jobs as worked out above
    assert topups == {"resv:a-train": 0, "resv:b-train": 208_800}
