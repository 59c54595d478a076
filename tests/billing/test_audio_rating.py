"""Speech usage: rated per audio minute from the rate card, split under the award, posted
through the same journal as tokens, and on the invoice as ``audio:<model>`` lines — on both
engines."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from computeport.billing.token_rating import audio_charge_minor, post_all_tokens
from computeport.invoicing.close import close_period
from computeport.kit.clock import ManualClock
from computeport.metering.token_ingest import ingest_token_usage
from computeport.models.inference import TokenCharge
from computeport.models.invoicing import BillingDocument, DocumentKind, DocumentLine
from computeport.models.ledger import Posting
from computeport.models.metering import ChargeKind
from computeport.pricing.book import AudioPrice
from tests.factories.inference import EPOCH, audio_card, audio_event, card, department, event


def test_audio_is_rated_per_minute_beside_tokens_and_posted_balanced(
    session: Session, clock: ManualClock
) -> None:
    org, award = department(session, clock, "0.7")
    ingest_token_usage(
        session,
        clock,
        [
            audio_event(org, award, 90_000),  # 1.5 min × HK$0.60 = 90 cents
            event(org, award, 1_000_000, 250_000),  # HK$3.50 of tokens
            audio_event(org, award, 0, status=502),  # upstream failed: nothing to rate
        ],
    )
    card(session, clock)
    audio_card(session, clock)
    report = post_all_tokens(session, clock)
    assert (report.records, report.charges) == (3, 2)
    rows = session.scalars(select(TokenCharge).order_by(TokenCharge.id)).all()
    assert [(r.model, r.audio_ms, r.list_minor, r.subsidy_minor, r.copay_minor) for r in rows] == [
        ("whisper-1", 90_000, 90, 63, 27),
        ("smollm2", 0, 350, 245, 105),
    ]
    assert {r.kind for r in rows} == {ChargeKind.SUBSIDISED}
    journal = rows[0].journal_id
    assert (
        session.scalar(select(func.sum(Posting.amount_minor)).where(Posting.journal_id == journal))
        == 0
    )


def test_an_unpriced_speech_model_waits_for_its_audio_price(
    session: Session, clock: ManualClock
) -> None:
    org, award = department(session, clock, "1")
    ingest_token_usage(session, clock, [audio_event(org, award, 60_000)])
    card(session, clock, "whisper-1")  # a token price is not an audio price
    assert post_all_tokens(session, clock).unpriced == {"whisper-1"}
    audio_card(session, clock)
    assert post_all_tokens(session, clock).list_minor == 60


def test_audio_lines_on_the_invoice_apart_from_token_lines(
    session: Session, clock: ManualClock
) -> None:
    card(session, clock)
    audio_card(session, clock)
    org, award = department(session, clock, "0.7")
    ingest_token_usage(
        session,
        clock,
        [
            audio_event(org, award, 30_000),
            audio_event(org, award, 30_000),
            event(org, award, 1_000_000, 250_000),
        ],
    )
    post_all_tokens(session, clock)
    clock.advance(timedelta(days=40))
    close_period(session, clock, "2026-10")
    lines = session.execute(
        select(DocumentLine.accelerator_type, DocumentLine.jobs, DocumentLine.list_minor)
        .join(BillingDocument, BillingDocument.id == DocumentLine.document_id)
        .where(BillingDocument.kind == DocumentKind.INVOICE)
        .order_by(DocumentLine.accelerator_type)
    ).all()
    assert [tuple(r) for r in lines] == [("audio:whisper-1", 2, 60), ("tokens:smollm2", 1, 350)]


@given(
    st.integers(min_value=0, max_value=10**10),
    st.decimals(min_value=0, max_value=10**3, places=4, allow_nan=False, allow_infinity=False),
)
def test_audio_charge_is_the_decimal_rule(audio_ms: int, per_minute: Decimal) -> None:
    exact = per_minute * audio_ms * 100 / Decimal(60_000)
    expected = int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    price = AudioPrice(uuid.uuid4(), "whisper-1", per_minute, EPOCH)
    assert audio_charge_minor(price, audio_ms) == expected
