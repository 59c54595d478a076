"""The department's inference page: its keys (never the secret) and its usage by day and
model, tokens and audio seconds side by side; another organisation's member gets 404."""

from __future__ import annotations

from sqlalchemy.orm import Session

from computeport.gateway.budget_admin import set_budget
from computeport.gateway.data_policy import set_policy
from computeport.gateway.keys import issue_key
from computeport.kit.clock import ManualClock
from computeport.metering.token_ingest import ingest_token_usage
from computeport.models.centre import CentreSite
from computeport.models.inference import BudgetScope
from tests.factories.inference import audio_event, event
from tests.web.fixtures import Browser, People


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
