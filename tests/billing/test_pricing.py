"""The price list: versions close each other, and a job pays the price in force at its end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from computeport.billing.posting import post_all
from computeport.kit.clock import ManualClock
from computeport.kit.errors import Conflict
from computeport.metering.ingest import ingest_usage
from computeport.models.pricing import PriceVersion
from computeport.pricing.errors import PriceNotFound
from computeport.pricing.service import (
    ASSUMED_H800_PRICE,
    PriceBook,
    price_in_force,
    seed_assumed_prices,
    set_price,
)
from tests.billing.test_posting import ratings
from tests.factories import identity as fi
from tests.factories import metering as fm
from tests.factories import pricing as fp

CHANGE = datetime(2026, 10, 15, tzinfo=UTC)


def test_the_seed_price_is_labelled_an_assumption(session: Session, clock: ManualClock) -> None:
    seed_assumed_prices(session, clock)
    seed_assumed_prices(session, clock)
    version = price_in_force(session, "h800", datetime(2026, 10, 1, tzinfo=UTC))
    assert version.unit_price == ASSUMED_H800_PRICE
    assert version.is_assumption
    assert "ASSUMPTION" in version.note
    assert PriceBook.load(session).multiplier("scavenger") == Decimal("0.5")


def test_a_new_version_closes_the_old_one(session: Session, clock: ManualClock) -> None:
    seed_assumed_prices(session, clock)
    new = set_price(session, clock, "H800", Decimal("30.00"), CHANGE)
    assert new.accelerator_type == "h800"
    assert price_in_force(session, "h800", CHANGE - timedelta(seconds=1)).unit_price == (
        ASSUMED_H800_PRICE
    )
    assert price_in_force(session, "h800", CHANGE).unit_price == Decimal("30.00")
    with pytest.raises(Conflict):
        set_price(session, clock, "h800", Decimal("29.00"), CHANGE)
    with pytest.raises(PriceNotFound):
        price_in_force(session, "b200", CHANGE)
    book = PriceBook.load(session)
    before = book.at("h800", (CHANGE - timedelta(seconds=1)).timestamp())
    after = book.at("h800", CHANGE.timestamp())
    assert before is not None
    assert after is not None
    assert (before.unit_price, after.unit_price) == (
        ASSUMED_H800_PRICE,
        Decimal("30.00"),
    )
    assert book.at("h800", datetime(2020, 1, 1, tzinfo=UTC).timestamp()) is None
    assert session.get(PriceVersion, before.id) is not None


def test_a_job_pays_the_price_in_force_at_its_end(session: Session, clock: ManualClock) -> None:
    org = fi.organisation_row(session, clock, "Pricing org", "pricing-org")
    fp.prices(session, clock)
    set_price(session, clock, "h800", Decimal("30.00"), CHANGE)
    clock.set(datetime(2026, 11, 2, tzinfo=UTC))
    # Starts before the change, ends after it: the new price applies to all of it.
    ingest_usage(
        session,
        clock,
        [
            fm.record(1, "pricing-org", end=CHANGE + timedelta(minutes=30)),
            fm.record(2, "pricing-org", end=CHANGE - timedelta(minutes=30)),
        ],
    )
    post_all(session, clock)
    r = ratings(session)
    assert r[("aisc", "1")] == ("payg", 24_000, 0, 24_000)  # 8 GPU-h × HK$30.00
    assert r[("aisc", "2")] == ("payg", 22_400, 0, 22_400)  # 8 GPU-h × HK$28.00
    assert org.slurm_account == "pricing-org"
