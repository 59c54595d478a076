"""The rate card's lookups: the version in force per key and instant, tokens and audio included.

These are what rating and the inference gateway call; each answer names the version id a
charge records.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from computeport.kit.clock import ManualClock
from computeport.kit.errors import Conflict, ValidationFailed
from computeport.models.pricing import PriceKind, PriceVersion
from computeport.pricing import (
    PriceBook,
    audio_minute_price,
    price_in_force,
    set_audio_price,
    set_token_price,
    token_price,
)
from computeport.pricing.errors import PriceNotFound
from computeport.pricing.service import append_version, set_price, set_qos_multiplier

JAN = datetime(2027, 1, 1, tzinfo=UTC)
FEB = datetime(2027, 2, 1, tzinfo=UTC)
MODEL = "Qwen/Qwen2.5-72B-Instruct"


def test_a_token_price_in_force_names_its_version(session: Session, clock: ManualClock) -> None:
    first = set_token_price(session, clock, MODEL, Decimal("4.00"), Decimal("12.00"), JAN)
    second = set_token_price(session, clock, MODEL, Decimal("3.50"), Decimal("10.50"), FEB)
    before = token_price(session, MODEL, FEB - timedelta(microseconds=1))
    after = token_price(session, MODEL, FEB)
    assert (before.version_id, before.per_million_input, before.per_million_output) == (
        first.id,
        Decimal("4.00"),
        Decimal("12.00"),
    )
    assert (after.version_id, after.per_million_input, after.per_million_output) == (
        second.id,
        Decimal("3.50"),
        Decimal("10.50"),
    )
    assert after.currency == "HKD"
    with pytest.raises(PriceNotFound):
        token_price(session, MODEL, JAN - timedelta(seconds=1))
    with pytest.raises(PriceNotFound):
        token_price(session, "another-model", FEB)
    book = PriceBook.load(session)
    found = book.token_price(MODEL, FEB.timestamp() + 5)
    assert found is not None
    assert found.version_id == second.id


def test_an_audio_minute_price_is_per_model(session: Session, clock: ManualClock) -> None:
    whisper = set_audio_price(session, clock, "whisper-large-v3", Decimal("0.12"), JAN)
    found = audio_minute_price(session, "whisper-large-v3", FEB)
    assert (found.version_id, found.per_minute) == (whisper.id, Decimal("0.12"))
    with pytest.raises(PriceNotFound):
        audio_minute_price(session, MODEL, FEB)
    # A model's token price is not its audio price.
    set_token_price(session, clock, "whisper-large-v3", Decimal("1"), Decimal("2"), JAN)
    assert audio_minute_price(session, "whisper-large-v3", FEB).version_id == whisper.id


def test_a_token_price_needs_both_halves(session: Session, clock: ManualClock) -> None:
    with pytest.raises(ValidationFailed) as caught:
        append_version(session, clock, PriceKind.TOKENS, MODEL, Decimal("1"), JAN)
    assert caught.value.field == "unit_price_output"
    with pytest.raises(ValidationFailed) as caught:
        set_token_price(session, clock, MODEL, Decimal("1"), Decimal("0"), JAN)
    assert caught.value.field == "unit_price_output"
    with pytest.raises(ValidationFailed) as caught:
        append_version(
            session, clock, PriceKind.GPU_HOUR, "h800", Decimal("1"), JAN, currency="USD"
        )
    assert caught.value.field == "currency"
    assert session.scalars(select(PriceVersion)).all() == []


def test_a_cluster_price_wins_over_the_centre_price_while_in_force(
    session: Session, clock: ManualClock
) -> None:
    centre = set_price(session, clock, "h800", Decimal("28.00"), JAN)
    local = set_price(session, clock, "h800", Decimal("25.00"), FEB, cluster="sandy")
    book = PriceBook.load(session)
    at_jan = book.at("h800", (JAN + timedelta(days=3)).timestamp(), cluster="sandy")
    at_feb = book.at("h800", (FEB + timedelta(days=3)).timestamp(), cluster="sandy")
    assert at_jan is not None
    assert at_jan.id == centre.id
    assert at_feb is not None
    assert at_feb.id == local.id
    elsewhere = book.at("h800", (FEB + timedelta(days=3)).timestamp(), cluster="aisc")
    assert elsewhere is not None
    assert elsewhere.id == centre.id
    # Rating caches an answer until it may change: the centre price holds for sandy until FEB.
    entry, until = book.resolve(PriceKind.GPU_HOUR, "h800", JAN.timestamp(), cluster="sandy")
    assert entry is not None
    assert entry.id == centre.id
    assert until == FEB.timestamp()
    assert price_in_force(session, "H800", FEB, cluster="sandy").id == local.id


def test_qos_multipliers_are_versioned(session: Session, clock: ManualClock) -> None:
    set_qos_multiplier(session, clock, "scavenger", Decimal("0.5"), valid_from=JAN)
    set_qos_multiplier(session, clock, "scavenger", Decimal("0.4"), valid_from=FEB)
    book = PriceBook.load(session)
    assert book.multiplier("scavenger", JAN.timestamp()) == Decimal("0.5")
    assert book.multiplier("scavenger", FEB.timestamp()) == Decimal("0.4")
    assert book.multiplier("scavenger", (JAN - timedelta(days=1)).timestamp()) == Decimal(1)
    assert book.multiplier("normal", FEB.timestamp()) == Decimal(1)
    factor, start, end = book.multiplier_at("scavenger", JAN.timestamp() + 1)
    assert (factor, start, end) == (Decimal("0.5"), JAN.timestamp(), FEB.timestamp())


def test_history_is_only_ever_extended(session: Session, clock: ManualClock) -> None:
    set_price(session, clock, "h800", Decimal("28.00"), FEB)
    with pytest.raises(Conflict) as caught:
        set_price(session, clock, "h800", Decimal("27.00"), JAN)
    assert caught.value.field == "valid_from"


def test_price_versions_are_append_only(session: Session, clock: ManualClock) -> None:
    version = set_price(session, clock, "h800", Decimal("28.00"), JAN)
    with pytest.raises(DBAPIError, match="append-only"), session.begin_nested():
        session.execute(
            update(PriceVersion).where(PriceVersion.id == version.id).values(unit_price=1)
        )
    with pytest.raises(DBAPIError, match="append-only"), session.begin_nested():
        session.execute(delete(PriceVersion).where(PriceVersion.id == version.id))
