"""The billing desk in a real headless Chromium against the real ``computeport demo``.

An operator follows the navigation to the billing pages, opens each tab, and posts a goodwill
credit through the adjustment form: first with the reason left out (the error appears next to
the field, nothing is written), then complete (the adjustment is listed, and the demo's
database holds exactly one adjustment and its balanced journal).

Skipped where Chromium is missing, except in CI where that fails the run.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from computeport.seed.demo import DEMO_ORGANISATION, demo_logins
from tests.web.browser_support import (
    SCREENSHOTS,
    CspWatch,
    RunningDemo,
    chromium,
    demo_for_browser,
)

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = [pytest.mark.browser, pytest.mark.slow]

OPERATOR = next(d for d in demo_logins() if d.role.value == "operator")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningDemo]:
    with demo_for_browser(tmp_path_factory.mktemp("billing-demo")) as running:
        yield running


@pytest.fixture
def operator_page(demo: RunningDemo) -> Iterator[Page]:
    with chromium() as browser:
        csp = CspWatch()
        context = csp.watch(
            browser.new_context(viewport={"width": 1360, "height": 900}, locale="en-GB")
        )
        page = context.new_page()
        page.goto(demo.url + "/login")
        page.fill("#email", OPERATOR.email)
        page.fill("#password", OPERATOR.password)
        page.click("form[action='/login'] button[type=submit]")
        page.wait_for_url(re.compile(r".*/$"))
        yield page
        context.close()
    csp.assert_clean()


def _submit(page: Page, selector: str) -> None:
    with page.expect_navigation():
        page.click(selector)
    page.wait_for_load_state("networkidle")


def _shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def _count(demo: RunningDemo, sql: str) -> int:
    with sqlite3.connect(f"file:{demo.database}?mode=ro", uri=True) as conn:
        return int(conn.execute(sql).fetchone()[0])


def test_an_operator_opens_the_billing_pages_and_posts_an_adjustment(
    operator_page: Page, demo: RunningDemo
) -> None:
    page = operator_page
    page.click("nav.mainnav >> text=Billing")
    page.wait_for_load_state("networkidle")
    assert page.locator("h1").first.inner_text() == "Billing desk"
    assert page.locator("table#documents").is_visible()
    _shot(page, "billing-documents")
    for tab, table in (
        ("Receivable ageing", "ageing"),
        ("Quarantine", "quarantine"),
        ("Ledger balances", "ledger"),
    ):
        page.click(f"nav.tabs >> text={tab}")
        page.wait_for_load_state("networkidle")
        assert page.locator(f"table#{table}").is_visible(), tab
        _shot(page, f"billing-{table}")
    assert page.locator("text=Every journal balances").is_visible()

    page.click("nav.tabs >> text=Adjustments")
    page.wait_for_load_state("networkidle")
    page.select_option("#organisation_id", label=DEMO_ORGANISATION)
    page.fill("#amount_minor", "-25.00")
    _submit(page, "#adjustment-form button[type=submit]")
    error = page.locator("#reason-error")
    assert error.is_visible()
    assert "required" in error.inner_text()
    assert _count(demo, "select count(*) from adjustment") == 0
    _shot(page, "billing-adjustment-error")

    key = page.input_value("#idempotency_key")
    page.fill("#reason", "Goodwill credit: login outage")
    _submit(page, "#adjustment-form button[type=submit]")
    assert "posted=" in page.url
    row = page.locator("table#adjustments tbody tr").first
    assert key in row.inner_text()
    assert "-HK$25.00" in row.inner_text()
    _shot(page, "billing-adjustment-posted")
    assert _count(demo, "select count(*) from adjustment") == 1
    assert (
        _count(
            demo,
            "select count(*) from posting p join journal j on j.id = p.journal_id "
            "where j.kind = 'adjustment' group by j.id having sum(p.amount_minor) = 0",
        )
        == 2
    )
