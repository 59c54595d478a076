"""The staff award page's GPU-hours per cluster, and the form that moves them (an audited
amendment, the API's own call): moved, refused below the floor that queued and running jobs
hold (at its field, nothing moved), and closed to staff who may not move hours."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING
from uuid import UUID

from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from computeport.award.shares import show_shares
from computeport.kit.clock import ManualClock
from computeport.models.award_share import AwardShareMove
from tests.award.share_centre import load_centre
from tests.factories import award as builders
from tests.web.fakes import FakeCluster, job_info
from tests.web.fixtures import Browser, People

if TYPE_CHECKING:
    from httpx2 import Response


@dataclass
class RidgeCluster(FakeCluster):
    """The deployment's own cluster is ``ridge``: its jobs are the floor's committed part."""

    @property
    def cluster(self) -> str:
        return "ridge"


def _move(
    browser: Browser,
    award_id: UUID,
    kind: str,
    source: str,
    target: str,
    hours: str,
    reason: str,
    *,
    from_page: str | None = None,
) -> Response:
    """Post the award page's move form as a person would (its CSRF token from ``from_page``)."""
    return browser.post_form(
        f"/awards/{award_id}/shares",
        {"accelerator_type": kind, "from": source, "to": target, "hours": hours, "reason": reason},
        from_page=from_page or f"/awards/{award_id}",
    )  # fmt: skip


def _moves(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(AwardShareMove)) or 0


def test_an_operator_moves_hours_and_the_floor_of_running_jobs_holds(
    browser: Browser, people: People, session: Session, clock: ManualClock, portal_app: FastAPI
) -> None:
    load_centre(session, clock)
    award = builders.approved_award(
        session, clock, builders.scheme(session), organisation=people.org_a, gpu_hours=1000
    )
    browser.login(people.operator.email)
    page = browser.get(f"/awards/{award.id}")
    assert page.status_code == 200
    assert 'id="move-hours"' in page.text  # three H800 clusters: the hours wait in the reserve
    moved = _move(browser, award.id, "h800", "reserve", "ridge", "600", "team moved to Sandy Ridge")
    assert moved.status_code == 303
    session.expire_all()
    (line,) = show_shares(session, award.id).lines
    assert (line.shares, line.reserve) == ({"ridge": 600}, 400)

    # Two running 8-GPU jobs of an hour on ridge hold 16 GPU-hours: ridge keeps at least 16.
    now = clock.now()
    jobs = [
        job_info(str(i), now - timedelta(minutes=5), account=award.slurm_account) for i in (1, 2)
    ]
    portal_app.state.cp.backend = RidgeCluster(now, job_list=jobs)
    refused = _move(browser, award.id, "h800", "ridge", "reserve", "590", "give back")
    assert refused.status_code == 400
    error = refused.text.split('id="hours-error"')[1].split("</p>")[0]
    assert "used or committed 16" in error
    assert "at most 584" in error
    assert _moves(session) == 1  # nothing moved
    ok = _move(browser, award.id, "h800", "ridge", "reserve", "584", "give back")
    assert ok.status_code == 303
    assert _moves(session) == 2


def test_bad_input_is_named_and_others_may_not_move(
    browser: Browser, people: People, session: Session, clock: ManualClock
) -> None:
    load_centre(session, clock)
    award = builders.approved_award(
        session, clock, builders.scheme(session), organisation=people.org_a, gpu_hours=1000
    )
    browser.login(people.officer.email)
    bad = _move(browser, award.id, "h800", "reserve", "domestic", "ten", "")
    assert bad.status_code == 400
    assert 'id="hours-error"' in bad.text
    assert 'id="reason-error"' in bad.text
    assert 'id="to-error"' in bad.text  # domestic holds another accelerator type
    assert _moves(session) == 0
    browser.client.cookies.clear()
    browser.login(people.funder.email)
    refused = _move(browser, award.id, "h800", "reserve", "ridge", "1", "r", from_page="/funder")
    assert refused.status_code == 403  # the funder reads the scheme, places no hours
    assert _moves(session) == 0
