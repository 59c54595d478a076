"""The rate-card page over the portal (no browser): the price in force and the next announced
change, in English and Traditional Chinese, for an applicant; a price never in force is absent."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from computeport.inventory.declaration import parse_inventory
from computeport.inventory.loader import load_inventory
from computeport.kit.clock import ManualClock
from computeport.pricing.service import seed_assumed_prices, set_price, set_token_price
from tests.inventory.inventory_files import cyberport_text
from tests.web.fixtures import Browser, People


def _prices(session: Session, clock: ManualClock) -> None:
    seed_assumed_prices(session, clock)
    set_price(session, clock, "h800", Decimal("31.50"), datetime(2026, 12, 1, tzinfo=UTC))
    set_token_price(
        session, clock, "qwen-72b", Decimal("4"), Decimal("12"), datetime(2026, 1, 1, tzinfo=UTC)
    )


def test_an_applicant_reads_the_card_in_both_languages(
    browser: Browser, people: People, session: Session, clock: ManualClock
) -> None:
    _prices(session, clock)
    browser.login(people.applicant_a.email)
    page = browser.client.get("/prices").text
    assert '<a href="/prices" aria-current="page">Rate card</a>' in page
    assert "HK$28.00 per GPU-hour" in page
    assert "HK$31.50 per GPU-hour" in page  # announced, with its date
    assert "2026-12-01" in page
    assert "HK$4.00 per million input tokens; HK$12.00 per million output tokens" in page
    assert "0.5 × the list price" in page  # scavenger
    switched = browser.post_form(
        "/lang", {"locale": "zh-Hant", "next": "/prices"}, from_page="/prices"
    )
    assert switched.status_code == 303
    page = browser.client.get("/prices").text
    assert '<html lang="zh-Hant">' in page
    for text in ("收費表", "HK$28.00 每 GPU 小時", "下次調整", "HK$31.50 每 GPU 小時", "假設"):
        assert text in page, text


def test_an_empty_card_says_so(browser: Browser, people: People) -> None:
    browser.login(people.operator.email)
    assert "No prices have been set yet." in browser.client.get("/prices").text


def test_a_site_price_is_shown_for_its_site_in_both_languages(
    browser: Browser, people: People, session: Session, clock: ManualClock
) -> None:
    load_inventory(session, parse_inventory(cyberport_text()), actor_id=None, at=clock.now(),
                   source="cyberport.toml")  # fmt: skip
    seed_assumed_prices(session, clock)
    set_price(session, clock, "h800", Decimal("36.00"), datetime(2026, 1, 1, tzinfo=UTC),
              site="sandy-ridge")  # fmt: skip
    browser.login(people.applicant_a.email)
    page = browser.client.get("/prices").text
    assert "Applies to" in page
    centre, ridge = page.split('data-subject="h800"')[1:3]
    assert "Whole centre" in centre
    assert "HK$28.00 per GPU-hour" in centre
    assert "Sandy Ridge" in ridge
    assert "HK$36.00 per GPU-hour" in ridge
    browser.post_form("/lang", {"locale": "zh-Hant", "next": "/prices"}, from_page="/prices")
    page = browser.client.get("/prices").text
    for text in ("適用範圍", "全中心", "沙嶺", "HK$36.00 每 GPU 小時"):
        assert text in page, text
