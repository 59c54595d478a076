"""The department's inference page: its keys (never the secret) and its usage by day and
model, tokens and audio seconds side by side; another organisation's member gets 404; the
admin (or an operator) issues a key per application, shown once, and revokes it; a member may
not, nor a form without its token."""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from computeport.gateway.budget_admin import set_budget
from computeport.gateway.data_policy import set_policy
from computeport.gateway.keys import issue_key, organisation_keys
from computeport.identity.tokens import hash_token
from computeport.kit.clock import ManualClock
from computeport.metering.token_ingest import ingest_token_usage
from computeport.models.centre import CentreSite
from computeport.models.identity import Role
from computeport.models.inference import BudgetScope
from tests.factories import identity as identity_factory
from tests.factories.inference import audio_event, event
from tests.web.fixtures import Browser, People, with_password


def test_keys_and_usage_on_the_department_page(
    browser: Browser, people: People, session: Session, clock: ManualClock
) -> None:
    issued = issue_key(session, clock, people.org_a.id, "Policy assistant")
    ingest_token_usage(
        session,
        clock,
        [
            event(people.org_a.id, None, 1234, 56, started_at=clock.now()),
            audio_event(people.org_a.id, None, 42_400, started_at=clock.now()),
        ],
    )
    browser.login(people.applicant_a.email)
    page = browser.get(f"/orgs/{people.org_a.id}/inference")
    assert page.status_code == 200
    assert "Policy assistant" in page.text
    assert f"cpk_{issued.key.prefix}_" in page.text
    assert issued.plaintext not in page.text
    assert ">1234<" in page.text
    assert ">56<" in page.text
    assert "<code>whisper-1</code>" in page.text  # transcription beside chat
    assert ">42<" in page.text  # its audio seconds
    other = browser.get(f"/orgs/{people.org_b.id}/inference")
    assert other.status_code == 404


def test_the_data_policy_and_its_redactions_in_english_and_chinese(
    browser: Browser, people: People, session: Session, clock: ManualClock
) -> None:
    session.add(CentreSite(key="cyberport", name="Cyberport", name_zh="數碼港", status="operating"))
    session.flush()
    page_url = f"/orgs/{people.org_a.id}/inference"
    browser.login(people.applicant_a.email)
    default = browser.get(page_url).text
    assert "Data protection" in default
    assert "Any site" in default
    assert ">Off<" in default
    set_policy(
        session, clock, people.org_a.id, redact=True, allowed_sites=["cyberport"], actor_id=None
    )
    ingest_token_usage(
        session,
        clock,
        [event(people.org_a.id, None, 10, 5, started_at=clock.now(), redactions=n) for n in (2, 3)],
    )
    page = browser.get(page_url).text
    assert "Hong Kong identity card numbers" in page
    assert "<dd>Cyberport</dd>" in page
    assert "<dd>5</dd>" in page  # redactions this month, counted, never shown
    browser.post_form("/lang", {"locale": "zh-Hant", "next": page_url}, from_page=page_url)
    zh = browser.client.get(page_url).text
    for text in (
        "資料保護",
        "香港身份證號碼",
        "允許的站點",
        "<dd>數碼港</dd>",
        "本月已遮蔽的身分資料",
    ):
        assert text in zh


def test_budgets_on_the_department_page_with_their_hong_kong_month(
    browser: Browser, people: People, session: Session, clock: ManualClock
) -> None:
    set_budget(session, clock, people.org_a.id, BudgetScope.DEPARTMENT, 150_050)
    browser.login(people.applicant_a.email)
    page = browser.get(f"/orgs/{people.org_a.id}/inference")
    assert page.status_code == 200
    assert "calendar month, Hong Kong time" in page.text
    assert "1,500.50" in page.text
    assert "2026-11-01 00:00 HKT" in page.text  # the clock's October resets on 1 November


def test_the_admin_issues_a_key_shown_once_and_revokes_it(
    browser: Browser, people: People, session: Session
) -> None:
    browser.login(people.applicant_a.email)
    page = f"/orgs/{people.org_a.id}/inference"
    answer = browser.post_form(
        f"{page}/keys", {"application": "Flood bulletin drafter"}, from_page=page
    )
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "no-store"
    shown = re.search(r"<code>(cpk_[0-9a-f]{8}_[A-Za-z0-9_-]{43})</code>", answer.text)
    assert shown is not None
    (key,) = organisation_keys(session, people.org_a.id)
    assert key.application == "Flood bulletin drafter"
    assert key.key_hash == hash_token(shown[1])  # the key shown is the key stored
    again = browser.get(page).text
    assert shown[1] not in again  # shown once
    assert f"cpk_{key.prefix}_" in again
    revoked = browser.post_form(f"{page}/keys/{key.id}/revoke", {}, from_page=page)
    assert revoked.status_code == 303
    session.refresh(key)
    assert key.revoked_at is not None


def test_a_bad_application_name_is_refused_at_its_field_and_nothing_is_issued(
    browser: Browser, people: People, session: Session
) -> None:
    browser.login(people.applicant_a.email)
    page = f"/orgs/{people.org_a.id}/inference"
    answer = browser.post_form(f"{page}/keys", {"application": "  "}, from_page=page)
    assert answer.status_code == 400
    assert 'id="application-error"' in answer.text
    answer = browser.post_form(f"{page}/keys", {"application": "x" * 101}, from_page=page)
    assert answer.status_code == 400
    assert "At most 100 characters." in answer.text
    assert organisation_keys(session, people.org_a.id) == []


def test_without_the_forms_token_nothing_is_issued(
    browser: Browser, people: People, session: Session
) -> None:
    browser.login(people.applicant_a.email)
    answer = browser.client.post(
        f"/orgs/{people.org_a.id}/inference/keys",
        data={"application": "Forged"},
        follow_redirects=False,
    )
    assert answer.status_code in (400, 403)
    assert organisation_keys(session, people.org_a.id) == []


def test_a_member_sees_keys_but_may_not_issue_or_revoke(
    browser: Browser, people: People, session: Session, clock: ManualClock
) -> None:
    member = with_password(
        identity_factory.user(
            session, roles=(Role.MEMBER,), organisation=people.org_a, at=clock.now()
        )
    )
    issued = issue_key(session, clock, people.org_a.id, "Chat")
    browser.login(member.email)
    page = f"/orgs/{people.org_a.id}/inference"
    text = browser.get(page).text
    assert f"cpk_{issued.key.prefix}_" in text
    assert 'id="issue-key"' not in text
    assert "/revoke" not in text
    refused = browser.post_form(f"{page}/keys", {"application": "Mine"}, from_page=page)
    assert refused.status_code == 403
    refused = browser.post_form(f"{page}/keys/{issued.key.id}/revoke", {}, from_page=page)
    assert refused.status_code == 403
    session.refresh(issued.key)
    assert issued.key.revoked_at is None
    assert len(organisation_keys(session, people.org_a.id)) == 1


def test_an_operator_manages_any_departments_keys_another_admin_none(
    browser: Browser, people: People, session: Session, clock: ManualClock
) -> None:
    issued = issue_key(session, clock, people.org_a.id, "Chat")
    browser.login(people.applicant_b.email)
    page = f"/orgs/{people.org_a.id}/inference"
    foreign = browser.post_form(f"{page}/keys/{issued.key.id}/revoke", {}, from_page="/login")
    assert foreign.status_code == 404
    browser.client.cookies.clear()
    browser.login(people.operator.email)
    assert 'id="issue-key"' in browser.get(page).text
    done = browser.post_form(f"{page}/keys/{issued.key.id}/revoke", {}, from_page=page)
    assert done.status_code == 303
    session.refresh(issued.key)
    assert issued.key.revoked_at is not None
