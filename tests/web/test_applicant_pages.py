"""Applicant pages: create with field errors, edit, submit; other organisations see nothing."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy.orm import Session

from computeport.kit.clock import ManualClock
from computeport.models.application import Application, ApplicationStatus
from tests.web.fixtures import Browser, People, open_scheme

GOOD = {
    "title": "Cantonese LLM pre-training",
    "abstract": "",
    "sector": "ai",
    "accelerator_type": "h800",
    "gpus": "64",
    "gpu_hours": "120,000",
    "duration_months": "12",
    "precision": "bf16",
    "workload": "training",
    "justification": "",
}


def _create(browser: Browser, org_id: object, **overrides: str) -> Any:
    new = f"/orgs/{org_id}/applications/new"
    return browser.post_form(new, {**GOOD, **overrides}, from_page=new)


def test_create_shows_errors_next_to_fields_and_keeps_input(
    browser: Browser, people: People, session: Session, clock: ManualClock
) -> None:
    open_scheme(session, clock)
    browser.login(people.applicant_a.email)
    response = _create(browser, people.org_a.id, gpus="many", duration_months="99")
    assert response.status_code == 400
    assert 'id="gpus-error"' in response.text
    assert 'id="duration_months-error"' in response.text
    assert "Enter a whole number." in response.text
    assert 'value="Cantonese LLM pre-training"' in response.text  # input kept
    assert session.query(Application).count() == 0


def test_text_no_database_can_store_is_an_error_next_to_its_field(
    browser: Browser, people: People, session: Session, clock: ManualClock
) -> None:
    """A NUL (``%00`` in the form) would be a 500 on PostgreSQL; here it is the field's error."""
    open_scheme(session, clock)
    browser.login(people.applicant_a.email)
    response = _create(browser, people.org_a.id, title="Cantonese\x00LLM")
    assert response.status_code == 400
    assert 'id="title-error"' in response.text
    assert "cannot be stored" in response.text
    assert session.query(Application).count() == 0


def test_draft_then_submit_after_completing_required_text(
    browser: Browser, people: People, session: Session, clock: ManualClock
) -> None:
    open_scheme(session, clock)
    browser.login(people.applicant_a.email)
    created = _create(browser, people.org_a.id)
    assert created.status_code == 303
    detail_url = created.headers["location"]
    page = browser.client.get(detail_url)
    assert re.search(r"AISS-\d{4}-\d{4}", page.text)
    assert "120,000" in page.text

    submit = browser.post_form(
        detail_url + "/transition", {"action": "submit"}, from_page=detail_url
    )
    assert submit.status_code in (400, 409)
    assert "abstract" in submit.text  # the service says what is missing

    edit_url = detail_url + "/edit"
    edited = browser.post_form(
        edit_url,
        {**GOOD, "abstract": "A 7B model for Cantonese.", "justification": "Chinchilla-optimal."},
        from_page=edit_url,
    )
    assert edited.status_code == 303
    submit = browser.post_form(
        detail_url + "/transition", {"action": "submit"}, from_page=detail_url
    )
    assert submit.status_code == 303
    application = session.query(Application).one()
    assert application.status is ApplicationStatus.SUBMITTED


def test_another_organisation_gets_404_everywhere(
    browser: Browser, people: People, session: Session, clock: ManualClock
) -> None:
    open_scheme(session, clock)
    browser.login(people.applicant_a.email)
    detail_url = _create(browser, people.org_a.id).headers["location"]
    browser.post_form("/logout", {}, from_page="/")
    browser.login(people.applicant_b.email)
    for url in (
        detail_url,
        detail_url + "/edit",
        f"/orgs/{people.org_a.id}/applications",
        f"/orgs/{people.org_a.id}/applications/new",
    ):
        page = browser.client.get(url)
        assert page.status_code == 404, url
        assert "Page not found" in page.text
    # Their own organisation's URL with A's application id is 404 too.
    other = detail_url.replace(str(people.org_a.id), str(people.org_b.id))
    assert browser.client.get(other).status_code == 404
