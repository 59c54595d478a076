"""The rate card in a real headless Chromium against the real ``computeport demo``, in English
and in Traditional Chinese.

Before the browser opens, the README's walk is done with the real CLI on the demo's database:
the operator drafts the next H800 price, the scheme officer approves it.  The applicant then
finds the rate card in the navigation with the price in force (the scenario's assumption) and
the announced change with its date, reads it again in zh-Hant, and sees the cost of a request
(list price, subsidy, co-payment) on the application form.

Skipped where Chromium is missing, except in CI where that fails the run.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from computeport.seed.demo import demo_logins
from tests.web.browser_support import SCREENSHOTS, CspWatch, RunningDemo, chromium, demo_for_browser

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LOGINS = {d.role.value: d for d in demo_logins()}
NEXT = (datetime.now(UTC) + timedelta(days=60)).date()
"""The announced change: far enough ahead that the demo's fast clock does not reach it."""


def _cli(demo: RunningDemo, *args: str) -> str:
    env = {
        **os.environ,
        "COMPUTEPORT_DATABASE_URL": f"sqlite:///{demo.database}",
        "NO_COLOR": "1",
        "COLUMNS": "200",
    }
    done = subprocess.run(
        [str(Path(sys.executable).with_name("computeport")), *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningDemo]:
    with demo_for_browser(tmp_path_factory.mktemp("rate-card-demo")) as running:
        drafted = _cli(
            running, "prices", "draft", "gpu-hour", "h800", "32.00", "--from", NEXT.isoformat(),
            "--reason", "the 2027 tariff", "--as", LOGINS["operator"].email,
        )  # fmt: skip
        change = re.search(r"drafted price change ([0-9a-f-]{36})", drafted)
        assert change is not None, drafted
        _cli(running, "prices", "approve", change[1], "--as", LOGINS["scheme_officer"].email)
        yield running


@pytest.fixture
def applicant(demo: RunningDemo) -> Iterator[Page]:
    with chromium() as browser:
        csp = CspWatch()
        context = csp.watch(
            browser.new_context(viewport={"width": 1360, "height": 900}, locale="en-GB")
        )
        page = context.new_page()
        page.goto(demo.url + "/login")
        page.fill("#email", LOGINS["org_admin"].email)
        page.fill("#password", LOGINS["org_admin"].password)
        page.click("form[action='/login'] button[type=submit]")
        page.wait_for_url(re.compile(r".*/$"))
        yield page
        context.close()
    csp.assert_clean()


def _shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def _language(page: Page, locale: str) -> None:
    with page.expect_navigation():
        page.select_option("#lang-select", locale)
    page.wait_for_load_state("networkidle")


def test_the_applicant_reads_the_rate_card_in_both_languages(
    applicant: Page, demo: RunningDemo
) -> None:
    page = applicant
    page.click("nav.mainnav >> text=Rate card")
    page.wait_for_load_state("networkidle")
    assert page.locator("h1").first.inner_text() == "Rate card"
    h800 = page.locator("#rate-card tr[data-subject='h800']")
    now = h800.locator("td.price-now").inner_text()
    assert "HK$30.00 per GPU-hour" in now
    assert "assumed" in now
    assert "HK$32.00 per GPU-hour" in h800.locator("td.price-next").inner_text()
    assert h800.locator("td.price-next-from").inner_text() == NEXT.isoformat()
    tokens = page.locator("#rate-card tr[data-subject='qwen2.5-72b-instruct']").inner_text()
    assert "HK$4.00 per million input tokens; HK$12.00 per million output tokens" in tokens
    _shot(page, "rate-card-en")

    _language(page, "zh-Hant")
    assert page.locator("html").get_attribute("lang") == "zh-Hant"
    assert page.locator("h1").first.inner_text() == "收費表"
    h800 = page.locator("#rate-card tr[data-subject='h800']")
    assert "HK$30.00 每 GPU 小時" in h800.locator("td.price-now").inner_text()
    assert "HK$32.00 每 GPU 小時" in h800.locator("td.price-next").inner_text()
    _shot(page, "rate-card-zh-hant")

    page.click("nav.mainnav >> text=申請")
    page.wait_for_load_state("networkidle")
    page.goto(page.url.rsplit("/applications", 1)[0] + "/applications/new")
    page.wait_for_load_state("networkidle")
    estimate = page.locator("#cost-estimate")
    assert "按今天收費表計算的費用" in estimate.inner_text()
    _language(page, "en")
    estimate = page.locator("#cost-estimate")
    assert "HK$30.00 per GPU-hour" in estimate.locator(".estimate-unit").inner_text()
    # One GPU-hour at the scheme's 70%: HK$30.00 list, HK$21.00 subsidy, HK$9.00 co-payment.
    assert estimate.locator(".estimate-list").inner_text() == "HK$30.00"
    assert estimate.locator(".estimate-subsidy").inner_text() == "HK$21.00"
    assert estimate.locator(".estimate-copay").inner_text() == "HK$9.00"
    # Typing the request updates the estimate in place, with billing's rounding.
    page.fill("#gpu_hours", "1333")
    assert estimate.locator(".estimate-list").inner_text() == "HK$39,990.00"
    assert estimate.locator(".estimate-subsidy").inner_text() == "HK$27,993.00"
    assert estimate.locator(".estimate-copay").inner_text() == "HK$11,997.00"
    _shot(page, "application-estimate")
