"""The month's spend that seeds every budget counter, summed in the database by groups of equal
usage: always the sum of each request's own charge (rated ones at their charge, the others
priced as billing will rate them), also across a price change inside the month and for the
narrowing to one key — on both engines."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from computeport.billing.token_rating import post_all_tokens
from computeport.gateway.budgets import UsagePricer, audio_cost_minor, token_cost_minor
from computeport.gateway.repository import spent_minor
from computeport.kit.clock import ManualClock
from computeport.metering.token_ingest import TokenUsageEvent, ingest_token_usage
from computeport.pricing.book import PriceBook
from computeport.pricing.service import set_audio_price, set_token_price
from tests.factories.inference import audio_card, audio_event, card, department, event

MONTH = datetime(2026, 9, 30, 16, tzinfo=UTC)
"""1 October 2026, 00:00 in Hong Kong: the period's start."""
CHANGE = MONTH + timedelta(days=14, hours=3)
"""A new token and audio price mid-month: the same usage costs differently either side."""

Usage = tuple[bool, int, int, int, int, bool]
"""(speech, prompt or audio seconds, completion, hours into the month, key, rated first)."""

usages = st.lists(
    st.tuples(
        st.booleans(),
        st.integers(0, 3),  # few values: many requests share a group
        st.integers(0, 2),
        st.integers(-24, 30 * 24 - 1),  # a day before the month too (not counted)
        st.integers(0, 1),
        st.booleans(),
    ),
    max_size=40,
)


def record(org: uuid.UUID, award: uuid.UUID, keys: list[uuid.UUID], u: Usage) -> TokenUsageEvent:
    speech, amount, completion, hours, key, _ = u
    started = MONTH + timedelta(hours=hours, minutes=7)
    if speech:
        return audio_event(org, award, amount * 1_700 + 1, started_at=started, key_id=keys[key])
    return event(org, award, amount * 1_100, completion * 700, started_at=started, key_id=keys[key])


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(found=usages)
def test_the_spend_is_each_requests_own_charge_summed(
    session: Session, clock: ManualClock, found: list[Usage]
) -> None:
    with session.begin_nested() as example:
        org, award = department(session, clock, "0.7")
        card(session, clock)
        audio_card(session, clock)
        set_token_price(session, clock, "smollm2", Decimal("3.37"), Decimal("7.11"), CHANGE)
        set_audio_price(session, clock, "whisper-1", Decimal("0.83"), CHANGE)
        keys = [uuid.uuid4(), uuid.uuid4()]
        first = [record(org, award, keys, u) for u in found if u[5]]
        later = [record(org, award, keys, u) for u in found if not u[5]]
        ingest_token_usage(session, clock, first)
        post_all_tokens(session, clock)  # these are rated: their charges count
        ingest_token_usage(session, clock, later)

        book = PriceBook.load(session)
        expected: dict[uuid.UUID | None, int] = {None: 0, keys[0]: 0, keys[1]: 0}
        for e in [*first, *later]:
            if e.started_at < MONTH:
                continue
            when = e.started_at.timestamp()
            cost = (
                audio_cost_minor(book.audio_price(e.model, when), e.audio_ms)
                if e.audio_ms
                else token_cost_minor(
                    book.token_price(e.model, when),
                    e.prompt_tokens,
                    e.completion_tokens,
                )
            )
            expected[None] += cost
            expected[e.key_id] += cost

        price = UsagePricer(book)
        assert spent_minor(session, org, MONTH, price) == expected[None]
        for k in keys:
            assert spent_minor(session, org, MONTH, price, key_id=k) == expected[k]
        example.rollback()
