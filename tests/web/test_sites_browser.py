"""The sites page in a real headless Chromium against the real ``computeport demo``.

The inventory file shipped in ``deploy/inventory/cyberport.toml`` is loaded into the running
demo's database with the real CLI; an operator follows the navigation to the sites page, reads
both sites, then switches to Traditional Chinese and reads them again.

Skipped where Chromium is missing, except in CI where that fails the run.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from computeport.seed.demo import demo_logins
from tests.inventory.inventory_files import CYBERPORT
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


def load_inventory_into(demo: RunningDemo) -> str:
    """``computeport clusters load`` against the demo's own database, as an operator would."""
    env = {
        **os.environ,
        "COMPUTEPORT_DATABASE_URL": f"sqlite:///{demo.database}",
        "NO_COLOR": "1",
        "COLUMNS": "160",
    }
    result = subprocess.run(
        [str(Path(sys.executable).with_name("computeport")), "clusters", "load", str(CYBERPORT)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningDemo]:
    with demo_for_browser(tmp_path_factory.mktemp("sites-demo")) as running:
        out = load_inventory_into(running)
        # the demo runs the centre's file with virtual clusters; the real file makes them Slurm
        assert "updated  cluster cyberport-h800" in out
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


def _shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_an_operator_reads_both_sites_in_english_and_in_chinese(
    operator_page: Page, demo: RunningDemo
) -> None:
    page = operator_page
    with page.expect_navigation():
        page.click("nav.mainnav a[href='/sites']")
    page.wait_for_load_state("networkidle")
    assert page.locator("h1").inner_text() == "Sites and clusters"
    cyberport = page.locator("#site-cyberport")
    assert "Cyberport" in cyberport.locator("h2").inner_text()
    assert "cyberport-h800" in cyberport.locator("table").inner_text()
    sandy = page.locator("#site-sandy-ridge")
    assert "planned" in sandy.locator("h2").inner_text()
    assert page.locator("#accelerator-types tbody tr").count() == 2
    _shot(page, "sites-en")

    with page.expect_navigation():
        page.select_option("#lang-select", "zh-Hant")
    page.wait_for_load_state("networkidle")
    assert page.locator("html").get_attribute("lang") == "zh-Hant"
    assert page.locator("h1").inner_text() == "站點與叢集"
    assert "數碼港" in page.locator("#site-cyberport h2").inner_text()
    assert "沙嶺" in page.locator("#site-sandy-ridge h2").inner_text()
    _shot(page, "sites-zh-hant")

    with page.expect_navigation():
        page.select_option("#lang-select", "en")
    page.wait_for_load_state("networkidle")
    assert page.locator("html").get_attribute("lang") == "en"


def test_an_operator_reads_use_and_wait_per_site_on_the_operations_page(
    operator_page: Page, demo: RunningDemo
) -> None:
    """The live demo's virtual cluster is Cyberport's ``cyberport-h800``: its rated history is
    Cyberport's, beside Sandy Ridge's planned cluster (no GPUs in service yet)."""
    page = operator_page
    with page.expect_navigation():
        page.click("nav.mainnav a[href='/ops']")
    page.wait_for_load_state("networkidle")
    table = page.locator("#by-site")
    assert table.locator("h2").inner_text() == "By site and accelerator type"
    cyberport = table.locator('tr[data-site="cyberport"][data-accelerator="h800"]')
    cells = cyberport.locator("td").all_inner_texts()
    assert cells[0] == "Cyberport"
    assert cells[2] == "cyberport-h800"
    assert cells[3] == "3,040"
    assert int(cells[6].replace(",", "")) > 0  # the replayed, rated jobs
    assert cells[7] != "—"  # their median wait
    assert table.locator('tr[data-site=""]').count() == 0  # nothing without a site
    _shot(page, "ops-sites-en")

    with page.expect_navigation():
        page.select_option("#lang-select", "zh-Hant")
    page.wait_for_load_state("networkidle")
    assert page.locator("#by-site h2").inner_text() == "按站點及加速器類型"
    assert "數碼港" in cyberport.locator("td").first.inner_text()
    _shot(page, "ops-sites-zh-hant")
    with page.expect_navigation():
        page.select_option("#lang-select", "en")
    page.wait_for_load_state("networkidle")


def _demo_award(demo: RunningDemo) -> str:
    """The demo applicant's open award (it holds H800 at Cyberport and Sandy Ridge's type)."""
    from sqlalchemy import create_engine, select

    from computeport.award.workflow import OPEN_STATES
    from computeport.models.award import Award
    from computeport.models.identity import Organisation
    from computeport.seed.demo import DEMO_ORGANISATION

    engine = create_engine(f"sqlite:///{demo.database}")
    try:
        with engine.connect() as conn:
            return str(
                conn.execute(
                    select(Award.id)
                    .join(Organisation, Organisation.id == Award.organisation_id)
                    .where(Organisation.name == DEMO_ORGANISATION, Award.status.in_(OPEN_STATES))
                ).scalar_one()
            )
    finally:
        engine.dispose()


def test_an_operator_moves_an_awards_hours_between_its_clusters(
    operator_page: Page, demo: RunningDemo
) -> None:
    """The award page lists the award's GPU-hours per cluster at both sites; the form moves
    ten H800 hours from Cyberport back to the reserve (an audited amendment) and the table
    says so; a move past what the source holds is refused at its field."""
    page = operator_page
    award = _demo_award(demo)
    page.goto(f"{demo.url}/awards/{award}")
    table = page.locator("#shares-table")
    text = table.inner_text()
    assert "cyberport-h800" in text
    assert "sandy-ridge-a" in text
    assert "cn-accel-a" in text

    def reserve_of(kind: str) -> int:
        row = table.locator("tbody tr", has_text=kind).filter(has_text="reserve")
        return int(row.locator("td").nth(2).inner_text().replace(",", ""))

    def move(kind: str, source: str, hours: str, reason: str) -> None:
        page.select_option("#accelerator_type", kind)
        page.select_option("#from", source)
        page.select_option("#to", "reserve")
        page.fill("#hours", hours)
        page.fill("#reason", reason)
        with page.expect_navigation():
            page.click("#move-hours button[type=submit]")

    before = reserve_of("h800")
    move("h800", "cyberport-h800", "10", "held back for the next phase")
    assert reserve_of("h800") == before + 10
    _shot(page, "award-shares-en")

    move("cn-accel-a", "sandy-ridge-a", "999999", "too many")
    assert "cannot move 999999" in page.locator("#hours-error").inner_text()
    assert reserve_of("h800") == before + 10  # nothing else moved
