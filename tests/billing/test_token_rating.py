"""Token usage: ingested once, rated once per million tokens, split under the award, posted
balanced — on both engines."""

from __future__ import annotations

import uuid
from decimal import ROUND_HALF_UP, Decimal

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from computeport.billing.token_rating import post_all_tokens, token_charge_minor
from computeport.kit.clock import ManualClock
from computeport.metering.token_ingest import ingest_token_usage
from computeport.models.inference import TokenCharge
from computeport.models.ledger import JournalKind, LedgerJournal, Posting
from computeport.models.metering import ChargeKind
from computeport.pricing.book import TokenPrice
from tests.factories.inference import EPOCH, card, department, event


def test_ingest_is_idempotent_by_request_id(session: Session, clock: ManualClock) -> None:
    org, award = department(session, clock, "1")
    events = [event(org, award, 10, 5), event(org, award, 20, 0)]
    assert ingest_token_usage(session, clock, events) == 2
    assert ingest_token_usage(session, clock, events) == 0


def test_rating_splits_by_the_award_and_posts_once(session: Session, clock: ManualClock) -> None:
    dept, dept_award = department(session, clock, "1")
    firm, firm_award = department(session, clock, "0.7")
    ingest_token_usage(
        session,
        clock,
        [
            event(dept, dept_award, 1_000_000, 250_000),  # HK$2 + HK$1.50
            event(firm, firm_award, 1_000_000, 250_000),
            event(firm, None, 500_000, 0),  # no award: pay-as-you-go, HK$1
            event(firm, firm_award, 0, 0, status=503),  # no upstream: nothing to rate
        ],
    )
    card(session, clock)
    report = post_all_tokens(session, clock)
    assert (report.records, report.charges, report.journals) == (4, 3, 1)
    rows = session.scalars(select(TokenCharge).order_by(TokenCharge.id)).all()
    assert [(r.kind, r.list_minor, r.subsidy_minor, r.copay_minor) for r in rows] == [
        (ChargeKind.SUBSIDISED, 350, 350, 0),
        (ChargeKind.SUBSIDISED, 350, 245, 105),
        (ChargeKind.PAYG, 100, 0, 100),
    ]
    assert len({r.price_ref for r in rows}) == 1  # the rate card's version that rated them
    journal = session.scalars(
        select(LedgerJournal).where(LedgerJournal.kind == JournalKind.USAGE)
    ).one()
    total = session.scalar(
        select(func.sum(Posting.amount_minor)).where(Posting.journal_id == journal.id)
    )
    assert total == 0
    assert all(r.journal_id == journal.id for r in rows)
    again = post_all_tokens(session, clock)
    assert (again.records, again.charges) == (0, 0)


def test_the_award_cap_holds_for_tokens(session: Session, clock: ManualClock) -> None:
    org, award = department(session, clock, "0.7", cap_minor=300)
    ingest_token_usage(
        session, clock, [event(org, award, 1_000_000, 250_000), event(org, award, 1_000_000, 0)]
    )
    card(session, clock)
    post_all_tokens(session, clock)
    rows = session.scalars(select(TokenCharge).order_by(TokenCharge.id)).all()
    assert [(r.kind, r.subsidy_minor, r.copay_minor) for r in rows] == [
        (ChargeKind.SUBSIDISED, 245, 105),
        (ChargeKind.OVER_CAP, 55, 145),
    ]


def test_an_unpriced_model_waits_and_is_rated_later(session: Session, clock: ManualClock) -> None:
    org, award = department(session, clock, "1")
    ingest_token_usage(
        session,
        clock,
        [
            event(org, award, 10, 1),
            event(org, award, 10, 1, model="new-model"),
            event(org, award, 1, 1),
        ],
    )
    card(session, clock)
    first = post_all_tokens(session, clock)
    assert (first.charges, first.unpriced) == (1, {"new-model"})
    card(session, clock, "new-model")
    later = post_all_tokens(session, clock)
    assert later.charges == 2


@given(
    st.integers(min_value=0, max_value=10**12),
    st.integers(min_value=0, max_value=10**12),
    st.decimals(min_value=0, max_value=10**4, places=4, allow_nan=False, allow_infinity=False),
    st.decimals(min_value=0, max_value=10**4, places=4, allow_nan=False, allow_infinity=False),
)
def test_token_charge_is_the_decimal_rule(
    prompt: int, completion: int, pin: Decimal, pout: Decimal
) -> None:
    exact = (pin * prompt + pout * completion) * 100 / Decimal(1_000_000)
    expected = int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    price = TokenPrice(uuid.uuid4(), "m", pin, pout, EPOCH)
    assert token_charge_minor(price, prompt, completion) == expected
