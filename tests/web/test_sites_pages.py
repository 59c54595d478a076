"""The sites page: the inventory per site, in English and Traditional Chinese, for staff only."""

from __future__ import annotations

from sqlalchemy.orm import Session

from computeport.inventory.declaration import parse_inventory
from computeport.inventory.loader import load_inventory
from computeport.kit.clock import ManualClock
from tests.inventory.inventory_files import cyberport_text
from tests.web.fixtures import Browser, People


def load_cyberport(session: Session, clock: ManualClock) -> None:
    decl = parse_inventory(cyberport_text())
    load_inventory(session, decl, actor_id=None, at=clock.now(), source="cyberport.toml")


def test_operator_sees_both_sites_with_their_clusters(
    browser: Browser, people: People, session: Session, clock: ManualClock
) -> None:
    load_cyberport(session, clock)
    browser.login(people.operator.email)
    home = browser.client.get("/")
    assert 'href="/sites"' in home.text
    page = browser.client.get("/sites")
    assert page.status_code == 200
    text = page.text
    for name in ("Cyberport", "Sandy Ridge", "cyberport-h800", "sandy-ridge-a"):
        assert name in text
    assert "3,040" in text  # Cyberport's H800s
    assert "3,009.6 PF" in text  # in service: the active cluster only
    assert "1,024.0 PF" in text  # planned: Sandy Ridge
    assert "372 × 8 h800" in text
    assert "Opens 2027-07-01" in text


def test_the_page_in_traditional_chinese_names_the_sites_in_chinese(
    browser: Browser, people: People, session: Session, clock: ManualClock
) -> None:
    load_cyberport(session, clock)
    browser.login(people.funder.email)
    browser.post_form("/lang", {"locale": "zh-Hant", "next": "/sites"}, from_page="/sites")
    page = browser.client.get("/sites")
    assert '<html lang="zh-Hant">' in page.text
    for words in ("站點與叢集", "數碼港", "沙嶺", "加速器類型", "規劃中的 PFLOPS"):
        assert words in page.text
    assert "Sites and clusters" not in page.text


def test_before_any_inventory_the_page_names_the_settings_cluster(
    browser: Browser, people: People
) -> None:
    browser.login(people.reviewer.email)
    page = browser.client.get("/sites")
    assert page.status_code == 200
    assert "No inventory loaded yet" in page.text
    assert "aisc (back end sim)" in page.text
    assert "computeport clusters load deploy/inventory/cyberport.toml" in page.text


def test_an_applicant_cannot_see_the_inventory(browser: Browser, people: People) -> None:
    browser.login(people.applicant_a.email)
    assert browser.client.get("/sites").status_code == 403
    assert 'href="/sites"' not in browser.client.get("/").text


def test_the_demo_sandy_ridge_counts_as_in_service_from_its_date(
    browser: Browser, people: People, session: Session, clock: ManualClock
) -> None:
    from datetime import UTC, datetime

    from computeport.seed.demo_centre import DEMO_INVENTORY

    decl = parse_inventory(DEMO_INVENTORY.read_text(encoding="utf-8"))
    load_inventory(session, decl, actor_id=None, at=clock.now(), source="demo_inventory.toml")
    browser.login(people.operator.email)
    before = browser.client.get("/sites").text
    assert "Opens 2027-07-01" in before
    assert "1,024.0 PF" in before  # planned
    clock.set(datetime(2027, 7, 1, tzinfo=UTC))
    after = browser.client.get("/sites").text
    assert "Opened 2027-07-01" in after
    assert "4,033.6 PF" in after  # in service: Cyberport's 3,009.6 and Sandy Ridge's 1,024
    ridge = after.split('id="site-sandy-ridge"')[1].split("</section>")[0]
    assert "planned" not in ridge
