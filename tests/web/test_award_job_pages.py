"""Awards with burn-down, jobs submitted and cancelled through the cluster, invoices list."""

from __future__ import annotations

import re

from fastapi import FastAPI
from sqlalchemy.orm import Session

from computeport.kit.clock import ManualClock
from tests.factories import award as fw
from tests.web.fakes import FakeCluster
from tests.web.fixtures import Browser, People, chart_specs


def test_award_pages_show_use_and_burn_down(
    browser: Browser, people: People, session: Session, clock: ManualClock
) -> None:
    scheme = fw.scheme(session)
    award = fw.approved_award(
        session, clock, scheme, cap_minor=2_000_000_00, organisation=people.org_a
    )
    browser.login(people.applicant_a.email)
    listing = browser.client.get(f"/orgs/{people.org_a.id}/awards")
    assert listing.status_code == 200
    assert award.reference in listing.text
    assert "HK$2,000,000.00" in listing.text
    detail = browser.client.get(f"/orgs/{people.org_a.id}/awards/{award.id}")
    assert detail.status_code == 200
    burn = chart_specs(detail.text)["chart-burn"]
    assert [trace["name"] for trace in burn["data"]] == ["GPU-hours left", "Even pace"]
    # Another organisation's member cannot see it, even through their own URL.
    browser.client.cookies.clear()
    browser.login(people.applicant_b.email)
    assert browser.client.get(f"/orgs/{people.org_b.id}/awards/{award.id}").status_code == 404
    assert browser.client.get(f"/orgs/{people.org_a.id}/awards/{award.id}").status_code == 404


def test_submit_and_cancel_a_job(
    browser: Browser,
    people: People,
    session: Session,
    clock: ManualClock,
    portal_app: FastAPI,
) -> None:
    scheme = fw.scheme(session)
    award = fw.approved_award(session, clock, scheme, organisation=people.org_a)
    cluster = FakeCluster(clock.now())
    portal_app.state.cp.backend = cluster
    browser.login(people.applicant_a.email)
    jobs_url = f"/orgs/{people.org_a.id}/jobs"
    bad = browser.post_form(
        jobs_url,
        {"award_id": str(award.id), "gpus": "0", "time_limit_minutes": "60", "script": "echo"},
        from_page=jobs_url,
    )
    assert bad.status_code == 400
    assert 'id="gpus-error"' in bad.text
    assert 'id="script-error"' in bad.text
    ok = browser.post_form(
        jobs_url,
        {
            "award_id": str(award.id),
            "name": "llm",
            "gpus": "16",
            "time_limit_minutes": "120",
            "script": "#!/bin/bash\nsrun train\n",
        },
        from_page=jobs_url,
    )
    assert ok.status_code == 303
    [job] = cluster.job_list
    assert job.account == award.slurm_account
    assert job.user == people.applicant_a.posix_username
    page = browser.client.get(jobs_url).text
    assert re.search(rf"<code>{job.job_id}</code>", page)
    # Another organisation cannot cancel it.
    browser.client.cookies.clear()
    browser.login(people.applicant_b.email)
    other = browser.post_form(
        f"/orgs/{people.org_b.id}/jobs/{job.job_id}/cancel", {}, from_page="/"
    )
    assert other.status_code == 404
    assert cluster.job_list
    browser.client.cookies.clear()
    browser.login(people.applicant_a.email)
    mine = browser.post_form(
        f"/orgs/{people.org_a.id}/jobs/{job.job_id}/cancel", {}, from_page=jobs_url
    )
    assert mine.status_code == 303
    assert cluster.job_list == []


def test_invoices_page_lists_months(browser: Browser, people: People) -> None:
    browser.login(people.applicant_a.email)
    page = browser.client.get(f"/orgs/{people.org_a.id}/invoices")
    assert page.status_code == 200
    assert "No invoices yet" in page.text


def test_navigation_highlights_the_applicants_area(browser: Browser, people: People) -> None:
    browser.login(people.applicant_a.email)
    base = f"/orgs/{people.org_a.id}"
    for path, label in (
        ("/applications", "Applications"),
        ("/awards", "Awards"),
        ("/jobs", "Jobs"),
        ("/invoices", "Invoices"),
    ):
        html = browser.client.get(base + path).text
        assert f'aria-current="page">{label}</a>' in html, path
