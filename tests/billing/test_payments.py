"""Payments, ageing, credit control (suspend and reinstate), burn-down and forecasts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from computeport.billing.burndown import award_burn_down, envelope_forecast
from computeport.billing.payments import ageing, credit_control, open_items, record_payment
from computeport.billing.posting import post_all
from computeport.invoicing.close import PeriodNotOver, close_period
from computeport.kit.clock import ManualClock
from computeport.kit.errors import Conflict, DomainError
from computeport.kit.money import MAX_AMOUNT_MINOR
from computeport.ledger.queries import balance_map
from computeport.metering.ingest import ingest_usage
from computeport.models.award import Award, AwardStatus
from computeport.models.identity import Membership, Role, User
from computeport.models.notification import OutboxMessage
from tests.factories import billing as fb
from tests.factories import metering as fm


@pytest.fixture
def closed(session: Session, clock: ManualClock) -> fb.World:
    w = fb.World(session, clock)
    admin = User(
        email="cfo@alpha.example", display_name="CFO", posix_username="cfo", created_at=clock.now()
    )
    session.add(admin)
    session.flush()
    session.add(
        Membership(
            user_id=admin.id,
            organisation_id=w.alpha.id,
            role=Role.ORG_ADMIN,
            created_at=clock.now(),
        )
    )
    clock.set(datetime(2026, 11, 2, tzinfo=UTC))
    ingest_usage(session, clock, w.october())
    post_all(session, clock)
    close_period(session, clock, "2026-10", issue_date=datetime(2026, 11, 1, tzinfo=UTC))
    return w


def _kinds(session: Session) -> list[str]:
    return sorted(m.kind for m in session.scalars(select(OutboxMessage)))


def test_a_month_cannot_close_before_it_ends(session: Session, clock: ManualClock) -> None:
    clock.set(datetime(2026, 10, 31, 23, 59, tzinfo=UTC))
    with pytest.raises(PeriodNotOver):
        close_period(session, clock, "2026-10")


def test_closing_again_issues_nothing_and_late_usage_gets_an_adjustment(
    session: Session, clock: ManualClock, closed: fb.World
) -> None:
    assert close_period(session, clock, "2026-10").documents == []
    # A late October job of Alpha's on its own account → a supplementary invoice.
    ingest_usage(
        session,
        clock,
        [fm.record(99, "alpha", end=datetime(2026, 10, 30, tzinfo=UTC), gpus=1, seconds=3600)],
    )
    post_all(session, clock)
    report = close_period(session, clock, "2026-10")
    assert report.documents == ["INV-2026-10-0003"]


def test_a_correction_after_close_gets_a_credit_note(
    session: Session, clock: ManualClock, closed: fb.World
) -> None:
    import dataclasses

    job10 = closed.october()[9]
    ingest_usage(session, clock, [dataclasses.replace(job10, gpu_seconds=job10.gpu_seconds // 2)])
    post_all(session, clock)
    report = close_period(session, clock, "2026-10")
    assert report.documents[0] == "CN-2026-10-0001"
    assert report.documents[1] == "SUB-2026-10-0003"


def test_payments_are_idempotent_and_settle_the_receivable(
    session: Session, clock: ManualClock, closed: fb.World
) -> None:
    record_payment(
        session, clock, number="INV-2026-10-0001", amount_minor=35_400, reference="BANK-1"
    )
    record_payment(
        session, clock, number="INV-2026-10-0001", amount_minor=35_400, reference="BANK-1"
    )
    assert balance_map(session)[f"receivable:{closed.alpha.id}"] == 0
    assert balance_map(session)["cash"] == 35_400
    with pytest.raises(Conflict):
        record_payment(
            session, clock, number="INV-2026-10-0001", amount_minor=1, reference="BANK-1"
        )


def test_a_payment_settles_at_most_what_is_outstanding(
    session: Session, clock: ManualClock, closed: fb.World
) -> None:
    """Money beyond what is owed is refused (naming the field) and writes nothing: a negative
    balance on an invoice would read as credit to ageing and dunning, and a 64-bit overflow
    in the sums would break every read of the ledger."""
    before = balance_map(session)
    for amount in (35_401, MAX_AMOUNT_MINOR + 1, 2**63):
        with pytest.raises(DomainError) as refused:
            record_payment(
                session, clock, number="INV-2026-10-0001", amount_minor=amount, reference="X-1"
            )
        assert refused.value.field == "amount_minor"
    record_payment(
        session, clock, number="INV-2026-10-0001", amount_minor=35_000, reference="PART-1"
    )
    with pytest.raises(Conflict, match=r"HK\$4\.00"):
        record_payment(
            session, clock, number="INV-2026-10-0001", amount_minor=401, reference="PART-2"
        )
    record_payment(session, clock, number="INV-2026-10-0001", amount_minor=400, reference="PART-2")
    after = balance_map(session)
    assert after[f"receivable:{closed.alpha.id}"] == 0
    assert after["cash"] == before.get("cash", 0) + 35_400


def test_ageing_buckets(session: Session, clock: ManualClock, closed: fb.World) -> None:
    clock.set(datetime(2027, 1, 15, tzinfo=UTC))  # 45 days after the 1 Dec due date
    rows = {r.party_name: r for r in ageing(session, clock)}
    assert rows["Alpha Labs"].buckets["31-60"] == 35_400
    assert rows["Beta University"].buckets["31-60"] == 22_401
    assert rows["Alpha Labs"].total_minor == 35_400


def test_overdue_suspends_the_awards_and_payment_reinstates_them(
    session: Session, clock: ManualClock, closed: fb.World
) -> None:
    assert "invoice_issued" in _kinds(session)
    clock.set(datetime(2026, 12, 1, tzinfo=UTC))
    assert credit_control(session, clock).suspended == []  # due today: not yet overdue
    clock.advance(timedelta(days=3))
    report = credit_control(session, clock)
    assert closed.award_a.reference in report.suspended
    assert closed.award_a.status is AwardStatus.SUSPENDED
    assert "payment_overdue" in _kinds(session)
    assert credit_control(session, clock).suspended == []  # already suspended: no-op
    record_payment(
        session, clock, number="INV-2026-10-0001", amount_minor=35_400, reference="BANK-2"
    )
    report = credit_control(session, clock)
    assert report.reinstated == [closed.award_a.reference]
    assert session.get_one(Award, closed.award_a.id).status is AwardStatus.ACTIVE
    assert [i.document.number for i in open_items(session, clock, closed.alpha.id)] == []


def test_burn_down_and_the_run_out_forecast(
    session: Session, clock: ManualClock, closed: fb.World
) -> None:
    # Now 2 Nov: award B consumed 4 + 4 + 201,600 (October) + 2,520 (job 11, 1 Nov) = 204,128.
    # Trailing 30 days [3 Oct, 2 Nov): jobs 7, 8, 10 and 11 → all 204,128 cents = 6,804 a day;
    # 1,000,000 − 204,128 = 795,872 left → 795,872 / 204,128 × 30 = 116.966 days → 26 Feb 2027.
    b = award_burn_down(session, clock, closed.award_b.id)
    assert b.consumed_minor == 204_128
    assert b.cap_minor == 1_000_000
    assert b.subsidy_per_day_minor == 6_804
    assert b.runs_out_at == datetime(2027, 2, 26, 23, 11, 55, tzinfo=UTC)
    assert [(x.accelerator_type, x.used_gpu_seconds) for x in b.by_accelerator] == [
        ("h800", 288_015 + 3_600)
    ]
    a = award_burn_down(session, clock, closed.award_a.id)
    assert a.percent_used == 100
    assert a.runs_out_at == clock.now()
    f = envelope_forecast(session, clock, closed.scheme.id)
    assert f.consumed_minor == 50_000 + 201_608 + 2_520
    # HK$3,000,000,000 at ~HK$28 a day is beyond any horizon: no date is invented.
    assert f.consumed_by is None
    assert f.subsidy_per_day_minor == (50_000 + 201_608 + 2_520) // 90
    assert "award_burn_down" in _kinds(session)


def test_the_funder_pays_a_subsidy_statement(
    session: Session, clock: ManualClock, closed: fb.World
) -> None:
    record_payment(
        session, clock, number="SUB-2026-10-0002", amount_minor=201_608, reference="TREASURY-1"
    )
    balances = balance_map(session)
    assert balances[f"subsidy_receivable:{closed.award_b.id}"] == 2_520  # November's job 11
    assert balances["cash"] == 201_608
