"""The department's inference page: its keys (never the secret) and its usage by day and
model, tokens and audio seconds side by side; another organisation's member gets 404."""

from __future__ import annotations

from sqlalchemy.orm import Session

from computeport.gateway.keys import issue_key
from computeport.kit.clock import ManualClock
from computeport.metering.token_ingest import ingest_token_usage
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
