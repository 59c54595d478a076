"""From draft to award through the pages: applicant, officer, reviewer, committee."""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from computeport.kit.clock import ManualClock
from computeport.models.application import Application, ApplicationStatus
from computeport.models.award import Award
from computeport.models.review import ReviewAssignment
from tests.api.permission_suite import Response
from tests.web.fixtures import Browser, People, open_scheme

APPLICATION = {
    "title": "Cantonese speech model",
    "abstract": "Speech recognition for Cantonese.",
    "sector": "ai",
    "accelerator_type": "h800",
    "gpus": "32",
    "gpu_hours": "50000",
    "duration_months": "6",
    "precision": "bf16",
    "workload": "training",
    "justification": "10k hours of audio.",
}


def _as(browser: Browser, email: str) -> None:
    browser.client.cookies.clear()
    browser.login(email)


def _ok(response: Response) -> None:
    assert response.status_code == 303, response.text[:2000]


def test_draft_to_award(
    browser: Browser, people: People, session: Session, clock: ManualClock
) -> None:
    open_scheme(session, clock)
    _as(browser, people.applicant_a.email)
    new = f"/orgs/{people.org_a.id}/applications/new"
    created = browser.post_form(new, APPLICATION, from_page=new)
    _ok(created)
    detail = created.headers["location"]
    _ok(browser.post_form(detail + "/transition", {"action": "submit"}, from_page=detail))
    app_id = detail.rsplit("/", 1)[1]
    staff_page = f"/committee/applications/{app_id}"

    _as(browser, people.officer.email)
    assert "Cantonese speech model" in browser.client.get("/committee").text
    _ok(browser.post_form(staff_page + "/move", {"action": "start_review"}, from_page=staff_page))
    _ok(
        browser.post_form(
            staff_page + "/reviewers",
            {"reviewer_id": str(people.reviewer.id)},
            from_page=staff_page,
        )
    )

    _as(browser, people.reviewer.email)
    listing = browser.client.get("/review").text
    assert "Cantonese speech model" not in listing  # hidden until the declaration
    assignment = session.query(ReviewAssignment).one()
    page = f"/review/{assignment.id}"
    too_long = browser.post_form(
        page + "/declaration", {"has_conflict": "no", "statement": "s" * 5001}, from_page=page
    )
    assert too_long.status_code == 400  # the statement's error is not skipped
    assert 'id="statement-error"' in too_long.text
    _ok(browser.post_form(page + "/declaration", {"has_conflict": "no"}, from_page=page))
    assert "Cantonese speech model" in browser.client.get(page).text
    bad = browser.post_form(
        page + "/scores",
        {"score_alignment": "11", "score_reasonableness": "7", "action": "submit"},
        from_page=page,
    )
    assert bad.status_code == 400
    assert 'id="score_alignment-error"' in bad.text
    bad_comment = browser.post_form(
        page + "/scores",
        {"score_alignment": "9", "comment_alignment": "x" * 5001, "action": "save"},
        from_page=page,
    )
    assert bad_comment.status_code == 400  # shown at its field, as typed
    assert 'id="comment_alignment-error"' in bad_comment.text
    assert "x" * 5001 in bad_comment.text
    _ok(
        browser.post_form(
            page + "/scores",
            {"score_alignment": "9", "score_reasonableness": "7", "action": "submit"},
            from_page=page,
        )
    )

    _as(browser, people.officer.email)
    side_by_side = browser.client.get(staff_page).text
    assert re.search(r"8\.20", side_by_side)  # 9 × 0.6 + 7 × 0.4
    long_reason = browser.post_form(
        staff_page + "/move", {"action": "recommend", "reason": "r" * 5001}, from_page=staff_page
    )
    assert long_reason.status_code == 400
    assert 'id="reason-error"' in long_reason.text
    _ok(
        browser.post_form(
            staff_page + "/move", {"action": "recommend", "reason": "strong"}, from_page=staff_page
        )
    )

    _as(browser, people.committee.email)
    missing_cap = browser.post_form(
        staff_page + "/decision", {"outcome": "approve", "gpu_hours": "50000"}, from_page=staff_page
    )
    assert missing_cap.status_code == 400
    assert 'id="cap_minor-error"' in missing_cap.text
    form = {
        "outcome": "approve",
        "gpu_hours": "48,000",
        "cap_minor": "1,250,000.00",
        "subsidy_rate": "0.7",
        "starts_at": "2026-10-02",
        "ends_at": "2027-04-01",
        "reason": "meets the criteria",
    }
    year_one = browser.post_form(
        staff_page + "/decision",
        {**form, "starts_at": "0001-01-02", "ends_at": "0001-02-01"},
        from_page=staff_page,
    )
    assert year_one.status_code == 400  # was a 500 (year 1 at HKT) or an award expired at once
    assert 'id="starts_at-error"' in year_one.text
    _ok(browser.post_form(staff_page + "/decision", form, from_page=staff_page))
    application = session.query(Application).one()
    assert application.status is ApplicationStatus.APPROVED
    award = session.query(Award).one()
    assert award.cap_minor == 1_250_000_00
    assert [line.gpu_hours for line in award.lines] == [48_000]


def test_reviewer_cannot_open_someone_elses_assignment(
    browser: Browser, people: People, session: Session, clock: ManualClock
) -> None:
    _as(browser, people.reviewer.email)
    assert browser.client.get("/review/0190e0e0-0000-7000-8000-000000000000").status_code == 404
    assert browser.client.get("/committee").status_code == 403
