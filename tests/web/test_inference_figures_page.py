"""The operator's and the funder's gateway page: tokens and requests per model and department,
latency percentiles, the error rate and the share of government departments that used the
service in the month; beside them the audio figures (minutes served, spend, departments that
transcribed) and the departments' share for chat and for transcription; in both languages;
refused to applicants; a bad month is refused naming the field (422)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import unescape

from sqlalchemy.orm import Session

from computeport.billing.token_rating import post_all_tokens
from computeport.kit.clock import ManualClock
from computeport.metering.token_ingest import ingest_token_usage
from computeport.models.identity import OrganisationCategory
from tests.factories import identity as identity_factory
from tests.factories import scheme as scheme_factory
from tests.factories.inference import audio_card, audio_event, card, event
from tests.web.fixtures import Browser, People, chart_specs

OCTOBER = datetime(2026, 10, 1, 8, tzinfo=UTC)


def _usage(session: Session, clock: ManualClock) -> None:
    """Three government departments, one of which used the service in October (three
    requests, one failed upstream), and an enterprise that did too."""
    depts = [
        identity_factory.organisation(
            session, name=f"Department {n}", category=OrganisationCategory.GOVERNMENT
        )
        for n in (1, 2, 3)
    ]
    firm = identity_factory.organisation(session, name="Firm", at=clock.now())
    ingest_token_usage(
        session,
        clock,
        [
            event(depts[0].id, None, 100, 20, started_at=OCTOBER, latency_ms=10),
            event(depts[0].id, None, 300, 40, started_at=OCTOBER, latency_ms=30),
            event(depts[0].id, None, 0, 0, started_at=OCTOBER, latency_ms=50, status=502),
            event(firm.id, None, 7, 3, model="qwen", started_at=OCTOBER, latency_ms=20),
            event(depts[1].id, None, 5, 5, started_at=datetime(2026, 9, 30, tzinfo=UTC)),
        ],
    )


def _text(html: str) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


def test_the_funder_reads_the_months_figures(
    browser: Browser, people: People, session: Session, clock: ManualClock
) -> None:
    _usage(session, clock)
    browser.login(people.funder.email)
    home = browser.get("/").text
    assert 'href="/inference"' in home  # in the navigation
    page = browser.get("/inference?period=2026-10")
    assert page.status_code == 200
    text = _text(page.text)
    # One of the three government departments used it in October (September's is not counted).
    assert "1 of 3 government departments made a request in 2026-10" in text
    assert "33.3%" in text
    assert "Requests 4 " in text
    assert "Error rate 25.0%" in text
    assert "20 / 50 / 50 ms" in text  # nearest-rank p50/p95/p99 of 10, 20, 30, 50
    model = _text(page.text.split('id="gateway-by-model"')[1].split("</table>")[0])
    assert "smollm2 3 400 60" in model
    assert "qwen 1 7 3" in model
    by_dept = _text(page.text.split('id="gateway-by-department"')[1].split("</table>")[0])
    assert "Department 1 3 400 60" in by_dept
    assert "Department 2" not in by_dept
    spec = chart_specs(page.text)["chart-gateway-departments"]
    assert spec["data"][0]["y"] == ["Department 1", "Firm"]
    assert spec["data"][0]["x"] == [400, 7]


def _chat_and_speech(session: Session, clock: ManualClock) -> None:
    """Four government departments in October: one chats, one transcribes, one does both,
    one does nothing; a firm transcribes too.  Rated at HK$2/6 per million tokens and HK$0.60
    per audio minute."""
    d = [
        identity_factory.organisation(
            session, name=f"Dept {n}", category=OrganisationCategory.GOVERNMENT
        )
        for n in (1, 2, 3, 4)
    ]
    firm = identity_factory.organisation(session, name="Firm", at=clock.now())
    ingest_token_usage(
        session,
        clock,
        [
            event(d[0].id, None, 500_000, 100_000),  # HK$1.60
            audio_event(d[1].id, None, 90_000),  # 1.5 min: HK$0.90
            audio_event(d[1].id, None, 30_000),  # HK$0.30
            event(d[2].id, None, 250_000, 50_000),  # HK$0.80
            audio_event(d[2].id, None, 60_000),  # HK$0.60
            audio_event(firm.id, None, 30_000),  # HK$0.30
        ],
    )
    card(session, clock)
    audio_card(session, clock)
    post_all_tokens(session, clock)


def test_the_funder_reads_chat_and_transcription_side_by_side(
    browser: Browser, people: People, session: Session, clock: ManualClock
) -> None:
    _chat_and_speech(session, clock)
    browser.login(people.funder.email)
    page = browser.get("/inference?period=2026-10").text
    kpis = _text(page.split('id="gateway-speech-kpis"')[1].split("</section>")[0])
    assert "Departments' share: chat 50.0% 2 of 4 government departments chatted in 2026-10" in kpis
    assert (
        "transcription 50.0% 2 of 4 government departments transcribed in 2026-10; 1 used both"
        in kpis
    )
    assert "Audio minutes served 3.5 " in kpis  # 210 s of audio
    assert "Departments using transcription 3 " in kpis  # the firm counts here, not in the share
    assert "Transcription spend HK$2.10 " in kpis
    assert "Chat spend HK$2.40 " in kpis
    model = _text(page.split('id="gateway-by-model"')[1].split("</table>")[0])
    assert "whisper-1 4 0 0 3.5" in model
    assert "smollm2 2 750,000 150,000 0.0" in model
    by_dept = _text(page.split('id="gateway-by-department"')[1].split("</table>")[0])
    assert "Dept 2 2 0 0 2.0" in by_dept
    category = _text(page.split('id="gateway-by-category"')[1].split("</table>")[0])
    # Unawarded usage is not subsidised: the subsidy columns read zero, the hours are served.
    assert "government 900,000 HK$0.00 0.05 HK$0.00" in category
    assert "enterprise 0 HK$0.00 0.01 HK$0.00" in category


def test_the_page_in_traditional_chinese(
    browser: Browser, people: People, session: Session, clock: ManualClock
) -> None:
    _usage(session, clock)
    browser.login(people.operator.email)
    browser.post_form("/lang", {"locale": "zh-Hant", "next": "/inference"}, from_page="/")
    text = _text(browser.get("/inference?period=2026-10").text)
    assert "推理閘道" in text
    assert "2026-10 3 個政府部門中有 1 個曾發出請求" in text
    assert "錯誤率" in text
    assert "部門使用比例：語音轉寫" in text
    assert "已處理音訊分鐘數" in text


def test_applicants_may_not_and_a_bad_month_is_named(
    browser: Browser, people: People, session: Session
) -> None:
    browser.login(people.applicant_a.email)
    assert browser.get("/inference").status_code == 403
    browser.client.cookies.clear()
    browser.login(people.officer.email)
    bad = browser.get("/inference?period=2026-13")
    assert bad.status_code == 422  # the house's ValidationFailed
    assert "period" in bad.text
    assert browser.get("/inference").status_code == 200  # this month: empty, not an error


def test_the_funder_page_shows_the_services_month_as_the_gateway_page_does(
    browser: Browser, people: People, session: Session, clock: ManualClock
) -> None:
    """The funder's own page answers the seed's question too: the departments' share for chat
    and for transcription, and each category's tokens and audio hours with the subsidy paid,
    for the month it names, in the very figures of the gateway's page (one template)."""
    _chat_and_speech(session, clock)
    scheme_factory.scheme(session)
    browser.login(people.funder.email)
    funder = browser.get("/funder")
    assert funder.status_code == 200
    section = funder.text.split('id="funder-government-service"')[1].split(
        "</section>\n</section>"
    )[0]
    assert "Government AI service · 2026-10" in _text(section)  # the period is stated
    kpis = _text(section.split('id="funder-service-kpis"')[1].split("</section>")[0])
    assert "Departments' share: chat 50.0% 2 of 4 government departments chatted in 2026-10" in kpis
    assert "transcription 50.0% 2 of 4 government departments transcribed" in kpis
    gateway = browser.get("/inference?period=2026-10").text
    same = _text(gateway.split('id="gateway-speech-kpis"')[1].split("</section>")[0])
    assert kpis == same
    category = _text(section.split('id="funder-service-by-category"')[1].split("</table>")[0])
    assert "government 900,000 HK$0.00 0.05 HK$0.00" in category
    assert 'href="/inference?period=2026-10"' in section  # the funder may read the gateway page
    # A committee member sees the funder page, not the gateway's: no link to a page they lack.
    browser.client.cookies.clear()
    browser.login(people.committee.email)
    page = browser.get("/funder").text
    assert 'id="funder-service-kpis"' in page
    assert 'href="/inference' not in page.split('id="funder-government-service"')[1]
