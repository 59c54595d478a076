"""Issue 13 in a real Chromium against the real ``computeport demo``: the department's admin
issues a key for an application on its Inference page (shown once), the application calls the
demo's gateway with it through the ``openai`` client (the demo's own llama.cpp server behind
it), the tokens appear on the page, the admin revokes the key and the gateway refuses it; the
funder's gateway page counts the department among the government departments using the
service, in English and 繁體中文; and (issue 21) the department transcribes English speech
through the demo's own faster-whisper-server with the same key, and the funder's page shows the
audio minutes and the departments' share for chat and for transcription.

Skipped where Chromium is missing, except in CI where that fails the run.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import openai
import pytest

from computeport.seed.demo import demo_gateway_key, demo_logins, department_login
from computeport.seed.gateway_demo import DEMO_MODEL, DEMO_SPEECH_MODEL
from tests.gateway.whisper_upstream import ENGLISH, require_speech_tools, speak
from tests.support.processes import poll
from tests.web.browser_support import SCREENSHOTS, RunningDemo, chromium, demo_for_browser

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LOGINS = {d.role.value: d for d in demo_logins()}
KEY = re.compile(r"cpk_[0-9a-f]{8}_[A-Za-z0-9_-]{43}")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningDemo]:
    with demo_for_browser(tmp_path_factory.mktemp("gateway")) as running:
        yield running


@pytest.fixture(scope="module")
def browser(demo: RunningDemo) -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


def _signed_in(browser: Browser, demo: RunningDemo, email: str, password: str) -> Page:
    page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    page.goto(demo.url + "/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(re.compile(r".*/$"))
    return page


def _ask(demo: RunningDemo, key: str) -> int:
    reply = openai.OpenAI(base_url=demo.url + "/v1", api_key=key, max_retries=0).completions
    answer = reply.create(model=DEMO_MODEL, prompt="The Observatory says", max_tokens=7)
    assert answer.usage is not None
    return answer.usage.prompt_tokens


def test_a_department_issues_uses_and_revokes_a_key(browser: Browser, demo: RunningDemo) -> None:
    login = department_login()
    page = _signed_in(browser, demo, login.email, login.password)
    page.click("nav >> text=Inference")
    page.wait_for_url(re.compile(r".*/orgs/[0-9a-f-]{36}/inference$"))
    page_url = page.url
    page.fill("#application", "Flood bulletin drafter")
    page.click("#issue-key button[type=submit]")
    shown = page.locator("#issued-key code").inner_text()
    assert KEY.fullmatch(shown)
    row = page.locator("tr", has_text="Flood bulletin drafter")
    assert f"cpk_{shown.split('_')[1]}_" in row.inner_text()
    page.screenshot(path=str(SCREENSHOTS / "department-key-issued.png"), full_page=True)

    prompt = _ask(demo, shown)

    def on_page() -> bool:
        page.goto(page_url)  # a GET: reloading the form's answer would post it again
        return f">{prompt}<" in page.content()

    assert poll(on_page, seconds=60)
    assert shown not in page.content()  # the key was shown once

    page.locator("tr", has_text="Flood bulletin drafter").locator("button").click()
    page.wait_for_url(re.compile(r".*/inference$"))
    assert "Revoked" in page.locator("tr", has_text="Flood bulletin drafter").inner_text()
    with pytest.raises(openai.AuthenticationError):
        _ask(demo, shown)


def _transcribe(demo: RunningDemo, key: str, clip: Path) -> float:
    client = openai.OpenAI(base_url=demo.url + "/v1", api_key=key, max_retries=0)
    answer = client.audio.transcriptions.create(model=DEMO_SPEECH_MODEL, file=clip, language="en")
    assert "invoice" in answer.text.lower()
    assert answer.usage is not None
    assert answer.usage.type == "duration"
    return answer.usage.seconds


def test_the_funder_sees_the_share_of_departments_using_it(
    browser: Browser, demo: RunningDemo, tmp_path: Path
) -> None:
    require_speech_tools()
    _ask(demo, demo_gateway_key())  # the demo department's own application
    seconds = _transcribe(demo, demo_gateway_key(), speak(ENGLISH, "en-us", tmp_path / "en.wav"))
    funder = LOGINS["funder"]
    page = _signed_in(browser, demo, funder.email, funder.password)
    page.click("nav >> text=Inference gateway")
    page.wait_for_url(re.compile(r".*/inference$"))

    def metered() -> bool:  # the gateway's meter writes within a second
        page.goto(demo.url + "/inference")
        return DEMO_SPEECH_MODEL in page.locator("#gateway-by-model").inner_text()

    assert poll(metered, seconds=60)
    kpis = page.locator("#gateway-kpis").inner_text()
    using = re.search(r"(\d+) of (\d+) government departments", kpis)
    assert using is not None
    assert 1 <= int(using[1]) <= int(using[2])
    assert DEMO_MODEL in page.locator("#gateway-by-model").inner_text()
    speech = page.locator("#gateway-speech-kpis").inner_text()
    for kind in ("chatted", "transcribed"):
        share = re.search(rf"(\d+) of (\d+) government departments {kind}", speech)
        assert share is not None, speech
        assert 1 <= int(share[1]) <= int(share[2])
    served = re.search(r"Audio minutes served\s+([\d.,]+)", speech, re.IGNORECASE)
    assert served is not None, speech
    assert float(served[1]) >= round(seconds / 60, 1)
    assert DEMO_SPEECH_MODEL in page.locator("#gateway-by-model").inner_text()

    def rated() -> bool:  # the demo's worker rates usage every 15 s (six simulated hours)
        page.goto(demo.url + "/inference")
        spend = page.locator("#gateway-speech-kpis .kpi", has_text="spend").first.inner_text()
        return re.search(r"HK\$0\.0[1-9]|HK\$0\.[1-9]|HK\$[1-9]", spend) is not None

    assert poll(rated, seconds=90)  # the transcription's spend, once rated
    page.wait_for_selector("#chart-gateway-departments .main-svg")  # plotly drew the chart
    page.screenshot(path=str(SCREENSHOTS / "gateway-funder.png"), full_page=True)
    with page.expect_navigation():
        page.select_option("#lang-select", "zh-Hant")
    page.wait_for_load_state("networkidle")
    assert "使用服務的政府部門" in page.locator("#gateway-kpis").inner_text()
    assert "部門使用比例：語音轉寫" in page.locator("#gateway-speech-kpis").inner_text()
