"""Reports: grouping, CSV export, the funder's yearly report (page and PDF), /metrics."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session

from computeport.kit.clock import ManualClock
from computeport.metering.rollups import refresh_usage_rollups
from computeport.models.award import Award
from computeport.models.metering import ChargeKind, UsageCharge, UsageRecord
from tests.factories import award as fw
from tests.web.fakes import FakeCluster
from tests.web.fixtures import Browser, People, chart_specs


def _usage(
    session: Session, award: Award, clock: ManualClock, job: str, hours: int, wait_s: int
) -> None:
    now = clock.now()
    end = now - timedelta(days=1)
    start = end - timedelta(hours=1)
    record = UsageRecord(
        cluster="fake",
        job_id=job,
        submit_time=start - timedelta(seconds=wait_s),
        digest="d",
        account=award.slurm_account,
        user_name="alice",
        partition="gpu",
        qos="normal",
        accelerator_type="h800",
        gpus=hours,
        start_time=start,
        end_time=end,
        state="COMPLETED",
        gpu_seconds=hours * 3600,
        ingested_at=now,
    )
    session.add(record)
    session.flush()
    list_minor = hours * 30_00
    subsidy = list_minor * 7 // 10
    session.add(
        UsageCharge(
            record_id=record.id,
            sign=1,
            kind=ChargeKind.SUBSIDISED,
            award_id=award.id,
            organisation_id=award.organisation_id,
            accelerator_type="h800",
            cluster="fake",
            job_id=job,
            submit_time=record.submit_time,
            end_time=end,
            period=end.strftime("%Y-%m"),
            gpu_seconds=hours * 3600,
            list_minor=list_minor,
            subsidy_minor=subsidy,
            copay_minor=list_minor - subsidy,
            rated_at=now,
        )
    )
    session.flush()
    refresh_usage_rollups(session)  # as the poster does after each batch


@pytest.fixture
def usage(session: Session, clock: ManualClock, people: People) -> list[Award]:
    scheme = fw.scheme(session)
    a = fw.approved_award(session, clock, scheme, organisation=people.org_a)
    b = fw.approved_award(session, clock, scheme, organisation=people.org_b)
    _usage(session, a, clock, "1", 100, 600)
    _usage(session, a, clock, "2", 50, 1800)
    _usage(session, b, clock, "3", 10, 60)
    return [a, b]


def test_report_groups_by_organisation_with_waits(
    browser: Browser, people: People, usage: list[Award]
) -> None:
    browser.login(people.funder.email)
    page = browser.client.get("/reports?by=organisation")
    assert page.status_code == 200
    assert "Alpha AI Lab" in page.text
    assert "HK$4,500.00" in page.text  # 150 GPU-hours × HK$30 list price for Alpha
    assert chart_specs(page.text)["chart-report"]["data"]
    exported = browser.client.get("/reports/usage.csv?by=organisation")
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    alpha = next(r for r in rows if r["organisation"] == "Alpha AI Lab")
    assert alpha["jobs"] == "2"
    assert alpha["gpu_seconds"] == str(150 * 3600)
    assert alpha["mean_wait_seconds"] == "1200"  # (600 + 1800) / 2
    assert alpha["subsidy_hkd_cents"] == str(4500_00 * 7 // 10)


def test_report_rejects_a_bad_dimension(browser: Browser, people: People) -> None:
    browser.login(people.funder.email)
    page = browser.client.get("/reports?by=colour")
    assert page.status_code == 422
    assert "Something went wrong" in page.text


def test_a_funder_report_for_no_plausible_year_is_not_found(
    browser: Browser, people: People
) -> None:
    """Year 0, 10000 or a 30-digit year broke the date arithmetic (a 500)."""
    browser.login(people.funder.email)
    for year in ("0", "1999", "10000", "9" * 30):
        for suffix in ("", ".pdf"):
            page = browser.client.get(f"/reports/funder/{year}{suffix}")
            assert page.status_code == 404, (year, suffix)


def test_funder_report_page_and_pdf(
    browser: Browser,
    people: People,
    usage: list[Award],
    clock: ManualClock,
    portal_app: FastAPI,
) -> None:
    portal_app.state.cp.backend = FakeCluster(clock.now())
    browser.login(people.funder.email)
    year = (clock.now() - timedelta(days=1)).year
    page = browser.client.get(f"/reports/funder/{year}")
    assert page.status_code == 200
    assert "HK$3,360.00" in page.text  # subsidy paid: 160 GPU-hours × HK$30 × 70%
    pdf = browser.client.get(f"/reports/funder/{year}.pdf")
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")


def test_applicant_cannot_read_reports(browser: Browser, people: People) -> None:
    browser.login(people.applicant_a.email)
    assert browser.client.get("/reports").status_code == 403
    assert browser.client.get("/reports/usage.csv").status_code == 403
    assert browser.client.get("/funder").status_code == 403


def test_funder_dashboard(browser: Browser, people: People, usage: list[Award]) -> None:
    browser.login(people.funder.email)
    page = browser.client.get("/funder")
    assert page.status_code == 200
    assert 'id="chart-funnel-spec"' in page.text


def test_funder_report_per_site_and_accelerator_type(
    browser: Browser,
    people: People,
    usage: list[Award],
    session: Session,
    clock: ManualClock,
    portal_app: FastAPI,
) -> None:
    """The usage's cluster placed at a site by the inventory: the yearly report has its line,
    with the site's installed GPUs of the type and its utilisation."""
    from computeport.inventory.declaration import parse_inventory
    from computeport.inventory.loader import load_inventory
    from computeport.web.views.funder import funder_report
    from tests.inventory.inventory_files import SMALL

    centre = SMALL.replace("[clusters.alpha", "[clusters.fake")  # 4 nodes × 8 H800
    load_inventory(session, parse_inventory(centre), actor_id=None, at=clock.now(), source="t")
    year = (clock.now() - timedelta(days=1)).year
    report = funder_report(session, year, clock.now())
    (line,) = report.by_site
    assert line.usage.key == "cyberport · h800"
    assert line.installed_gpus == 32
    assert line.usage.gpu_seconds == report.gpu_seconds  # the one site holds all the usage
    assert line.utilisation == line.usage.gpu_seconds / Decimal(32 * report.year_seconds)
    portal_app.state.cp.backend = FakeCluster(clock.now())
    browser.login(people.funder.email)
    page = browser.client.get(f"/reports/funder/{year}")
    assert 'id="funder-sites"' in page.text
    assert "cyberport · h800" in page.text
