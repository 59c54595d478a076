"""The staff page of the centre's jobs (``/jobs``): who may open it, its filters, its pages, and
the staff view of the award each job links to."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI
from sqlalchemy.orm import Session

from computeport.backends import JobState
from computeport.kit.clock import ManualClock
from computeport.web.views.staff_jobs import PAGE
from tests.factories import award as builders
from tests.web.fakes import FakeCluster, job_info
from tests.web.fixtures import Browser, People


def _cluster(session: Session, clock: ManualClock, people: People, portal_app: FastAPI) -> str:
    """A cluster with PAGE + 5 running jobs on org A's award and 3 pending on a stray account;
    returns the award's id."""
    scheme = builders.scheme(session)
    award = builders.approved_award(session, clock, scheme, organisation=people.org_a)
    now = clock.now()
    jobs = [
        job_info(str(100 + i), now - timedelta(minutes=i), account=award.slurm_account)
        for i in range(PAGE + 5)
    ]
    jobs += [
        job_info(str(900 + i), now, state=JobState.PENDING, account="stray", user="bob")
        for i in range(3)
    ]
    portal_app.state.cp.backend = FakeCluster(now, job_list=jobs)
    return str(award.id)


def test_operators_page_through_every_job_and_filter_them(
    browser: Browser, people: People, session: Session, clock: ManualClock, portal_app: FastAPI
) -> None:
    award_id = _cluster(session, clock, people, portal_app)
    browser.login(people.operator.email)
    first = browser.client.get("/jobs")
    assert first.status_code == 200
    assert f"Jobs 1–{PAGE} of {PAGE + 8}" in first.text
    assert first.text.count(f'href="/awards/{award_id}"') == PAGE - 3
    second = browser.client.get("/jobs?page=2")
    assert f"Jobs {PAGE + 1}–{PAGE + 8} of {PAGE + 8}" in second.text
    pending = browser.client.get("/jobs?state=PENDING").text
    assert "Jobs 1–3 of 3" in pending
    assert "<code>900</code>" in pending
    assert "<code>100</code>" not in pending
    by_org = browser.client.get(f"/jobs?organisation={people.org_a.id}").text
    assert f"of {PAGE + 5}" in by_org
    by_user = browser.client.get("/jobs?user=bob&partition=gpu").text
    assert "Jobs 1–3 of 3" in by_user
    # Filters and page numbers a form cannot hold are ignored, not errors.
    odd = browser.client.get("/jobs?state=NOPE&page=x&organisation=1")
    assert odd.status_code == 200
    assert f"of {PAGE + 8}" in odd.text
    award = browser.client.get(f"/awards/{award_id}")
    assert award.status_code == 200
    assert "Jobs on this award" in award.text


def test_only_operators_and_scheme_officers_see_the_centres_jobs(
    browser: Browser, people: People, session: Session, clock: ManualClock, portal_app: FastAPI
) -> None:
    award_id = _cluster(session, clock, people, portal_app)
    browser.login(people.officer.email)
    assert browser.client.get("/jobs").status_code == 200
    for user in (people.applicant_a, people.funder):
        browser.client.cookies.clear()
        browser.login(user.email)
        assert browser.client.get("/jobs").status_code == 403
        assert browser.client.get(f"/awards/{award_id}").status_code == 403


def test_the_operations_page_links_to_the_full_list(
    browser: Browser, people: People, session: Session, clock: ManualClock, portal_app: FastAPI
) -> None:
    _cluster(session, clock, people, portal_app)
    browser.login(people.operator.email)
    ops = browser.client.get("/ops").text
    assert f"Showing {PAGE} of {PAGE + 5}." in ops
    assert 'href="/jobs?state=RUNNING"' in ops
