"""The policy lab page: an operator asks "reserve 10% for government" over the last days.

The virtual cluster has a few days of history (background jobs charged to two awards: a
government department's and a start-up's); the page replays them and shows the answer, in
English and in Chinese; a bad question is refused with the reason (422) and saves nothing.
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from computeport.award.desired import desired_state
from computeport.backends.sim import MemoryJournal, SimBackend, cyberport_inventory
from computeport.backends.sim.workload import BackgroundConfig
from computeport.kit.clock import ManualClock
from computeport.models.award import AwardLine
from computeport.models.identity import OrganisationCategory, Role
from computeport.models.lab import LabStudy
from computeport.simulator.synthetic import WorkloadModel
from tests.factories import award as fw
from tests.factories import identity as identity_factory
from tests.factories import scheme as fs
from tests.web.fixtures import Browser, People, chart_specs

SMALL_JOBS = WorkloadModel(
    sizes=((4, 0.5), (8, 0.4), (16, 0.1)), log_run_mean=8.0, log_run_sigma=1.0
)


def _cluster(session: Session, clock: ManualClock, people: People) -> SimBackend:
    government = identity_factory.organisation(
        session,
        name="Transport Department",
        category=OrganisationCategory.GOVERNMENT,
        at=clock.now(),
    )
    identity_factory.user(  # an award's account takes background jobs once it has members
        session, roles=(Role.ORG_ADMIN,), organisation=government, at=clock.now()
    )
    sch = fs.scheme_row(session, clock)
    for org, account in ((government, "aw_gov"), (people.org_a, "aw_alpha")):
        a = fw.award(
            session, clock, sch, org, account,
            starts=clock.now() - timedelta(days=30), ends=clock.now() + timedelta(days=300),
        )  # fmt: skip
        session.add(AwardLine(award_id=a.id, accelerator_type="h800", gpu_hours=1_000_000))
    session.flush()
    backend = SimBackend(
        cyberport_inventory(4, cluster="labweb"),
        clock,
        epoch=clock.now() - timedelta(days=6),
        background=BackgroundConfig(model=SMALL_JOBS, block_jobs=200),
        journal=MemoryJournal(),
        initial=desired_state(session, clock.now()),
    )
    backend.advance()
    return backend


def test_an_operator_asks_what_a_government_reservation_does(
    browser: Browser, people: People, portal_app: FastAPI, session: Session, clock: ManualClock
) -> None:
    portal_app.state.cp.backend = _cluster(session, clock, people)
    browser.login(people.operator.email)
    assert "/lab" in browser.get("/lab").text
    answer = browser.post_form(
        "/lab", {"days": "5", "changes": "reserve=government:25\nbackfill=none"}, from_page="/lab"
    )
    assert answer.status_code == 303, answer.text
    page = browser.get(answer.headers["location"])
    assert page.status_code == 200
    assert "reserve=government:25" in page.text
    assert "starts reproduced exactly" in page.text
    spec = chart_specs(page.text)["chart-lab"]
    assert [d["name"] for d in spec["data"]] == [
        "baseline",
        "reserve=government:25",
        "backfill=none",
    ]
    assert "government" in page.text
    csv = browser.get(f"{answer.headers['location']}/table.csv")
    assert "reserve=government:25,category,government" in csv.text
    assert browser.get(f"{answer.headers['location']}/study.json").json()["scenarios"]
    assert session.scalar(select(func.count()).select_from(LabStudy)) == 1


def test_the_page_reads_in_chinese(
    browser: Browser, people: People, portal_app: FastAPI, session: Session, clock: ManualClock
) -> None:
    portal_app.state.cp.backend = _cluster(session, clock, people)
    people.committee.locale = "zh-Hant"
    session.flush()
    browser.login(people.committee.email)
    assert "政策實驗室" in browser.get("/lab").text
    answer = browser.post_form("/lab", {"days": "5", "changes": "nodes=+2"}, from_page="/lab")
    assert "基線重演有多準確" in browser.get(answer.headers["location"]).text


def test_a_bad_question_is_refused_and_saves_nothing(
    browser: Browser, people: People, portal_app: FastAPI, session: Session, clock: ManualClock
) -> None:
    portal_app.state.cp.backend = _cluster(session, clock, people)
    browser.login(people.officer.email)
    refused = browser.post_form(
        "/lab", {"days": "5", "changes": "reserve=army:10"}, from_page="/lab"
    )
    assert refused.status_code == 422
    assert "unknown category &#39;army&#39;" in refused.text
    bad_policy = browser.post_form(
        "/lab", {"days": "5", "changes": "", "policy": 'order = "fifo"\nspeed = 3\n'},
        from_page="/lab",
    )  # fmt: skip
    assert bad_policy.status_code == 422
    assert "policy line 2: unknown key &#39;speed&#39;" in bad_policy.text
    assert session.scalar(select(func.count()).select_from(LabStudy)) == 0


def test_applicants_and_funders_cannot_use_the_lab(browser: Browser, people: People) -> None:
    for user in (people.applicant_a, people.funder):
        browser.client.cookies.clear()
        browser.login(user.email)
        assert browser.get("/lab").status_code == 403
