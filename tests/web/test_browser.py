"""End to end in a real headless Chromium against the real ``computeport demo``.

The demo starts (seeded Cyberport scenario, virtual cluster, worker); each role signs in and
sees its pages; an application goes from draft to award through the browser; an applicant
cannot open another organisation's pages; charts render as SVG with data.  Screenshots of the
main pages go to ``artifacts/screenshots/`` (test artefacts, not committed).

Skipped where Chromium is missing, except in CI where that fails the run.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from typing import TYPE_CHECKING, Protocol

import pytest

from computeport.seed.demo import demo_logins
from computeport.web.views.capacity_plan import PLAN_FILE
from tests.web.browser_support import (
    SCREENSHOTS,
    CspWatch,
    RunningDemo,
    chromium,
    demo_for_browser,
)
from tests.web.capacity_samples import RATE_SOURCES, sample_backtest, sample_plan

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LOGINS = {d.role.value: d for d in demo_logins()}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningDemo]:
    with demo_for_browser(tmp_path_factory.mktemp("demo")) as running:
        yield running


@pytest.fixture(scope="module")
def browser(demo: RunningDemo) -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


class SignIn(Protocol):
    """The ``page_as`` fixture: a page signed in as a demo role."""

    def __call__(self, role: str, locale: str = "en-GB") -> Page: ...


@pytest.fixture
def page_as(browser: Browser, demo: RunningDemo) -> Iterator[SignIn]:
    """``page_as("operator")``: a fresh browser context signed in as that demo role."""
    contexts: list[BrowserContext] = []
    csp = CspWatch()

    def sign_in(role: str, locale: str = "en-GB") -> Page:
        context = csp.watch(
            browser.new_context(viewport={"width": 1360, "height": 900}, locale=locale)
        )
        contexts.append(context)
        page = context.new_page()
        page.goto(demo.url + "/login")
        login = LOGINS[role]
        page.fill("#email", login.email)
        page.fill("#password", login.password)
        page.click("form[action='/login'] button[type=submit]")
        page.wait_for_url(re.compile(r".*/$"))
        return page

    yield sign_in
    for context in contexts:
        context.close()
    csp.assert_clean()  # every page the test saw worked under the Content-Security-Policy


def shot(page: Page, name: str) -> None:
    """A screenshot of the visible part of the page (the test's artefact)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def submit(page: Page, selector: str) -> None:
    """Click a form's button and wait until the page it leads to has loaded."""
    with page.expect_navigation():
        page.click(selector)
    page.wait_for_load_state("networkidle")


def db(demo: RunningDemo) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{demo.database}?mode=ro", uri=True)


def test_demo_starts_and_prints_logins(demo: RunningDemo) -> None:
    text = demo.log.read_text()
    for login in LOGINS.values():
        assert login.email in text
        assert login.password in text
    with db(demo) as conn:
        assert conn.execute("select count(*) from award").fetchone()[0] >= 10
        assert conn.execute("select count(*) from usage_record").fetchone()[0] > 0


ROLE_PAGES = {
    "operator": ["/ops", "/capacity", "/reports"],
    "scheme_officer": ["/scheme", "/committee"],
    "committee_member": ["/committee"],
    "reviewer": ["/review"],
    "funder": ["/funder"],
    "org_admin": [],
}
"""Each role lands on its home page after signing in, then opens these."""


@pytest.mark.parametrize("role", list(ROLE_PAGES))
def test_each_role_signs_in_and_sees_its_pages(
    page_as: SignIn, demo: RunningDemo, role: str
) -> None:
    page = page_as(role)
    assert page.locator("ul.cards li").count() >= 1  # the home page's cards
    shot(page, f"{role}-home")
    for path in ROLE_PAGES[role]:
        response = page.goto(demo.url + path)
        assert response is not None, path
        assert response.status == 200, path
        page.wait_for_load_state("networkidle")
        assert page.locator("h1").first.is_visible()
        shot(page, f"{role}-{path.strip('/') or 'home'}")
    # Applicants' own pages hang off their organisation.
    if role == "org_admin":
        for label in ("Applications", "Awards", "Jobs", "Invoices"):
            page.click(f"nav.mainnav >> text={label}")
            page.wait_for_load_state("networkidle")
            assert page.locator("h1").first.inner_text().startswith(label)
            shot(page, f"applicant-{label.lower()}")


def test_charts_render_as_svg_with_data(page_as: SignIn, demo: RunningDemo) -> None:
    page = page_as("operator")
    page.goto(demo.url + "/ops?days=2")
    chart = page.locator("#chart-partition")
    chart.locator("svg.main-svg").first.wait_for(timeout=30_000)
    assert int(chart.get_attribute("data-rendered") or 0) >= 1
    # The area trace has points drawn (a path with a non-empty d attribute).
    paths = chart.locator("g.scatterlayer path.js-line, g.scatterlayer path.js-fill")
    assert paths.count() > 0
    assert any(len(paths.nth(i).get_attribute("d") or "") > 20 for i in range(paths.count()))
    shot(page, "ops-chart")
    page.goto(demo.url + "/scheme")
    page.locator("#chart-funnel svg.main-svg").first.wait_for(timeout=30_000)
    assert page.locator("#chart-funnel g.trace").count() >= 1


def test_language_switch_to_traditional_chinese(page_as: SignIn, demo: RunningDemo) -> None:
    page = page_as("funder")
    with page.expect_navigation():
        page.select_option("#lang-select", "zh-Hant")
    page.wait_for_load_state("networkidle")
    assert page.locator("html").get_attribute("lang") == "zh-Hant"
    assert "登出" in page.content()
    page.goto(demo.url + "/funder")
    page.wait_for_load_state("networkidle")
    shot(page, "funder-zh-hant")
    with page.expect_navigation():
        page.select_option("#lang-select", "en")
    page.wait_for_load_state("networkidle")
    assert page.locator("html").get_attribute("lang") == "en"


def test_capacity_page_shows_the_fitted_rates_and_the_backtest_beside_the_plan(
    page_as: SignIn, demo: RunningDemo
) -> None:
    """A plan fitted from the database (``capacity plan --db``) and its backtest, as the demo
    writes them beside its database: the page lists each rate with its source, the backtest's
    scores beside the plan, in English and in Traditional Chinese. (The demo's own background
    plan may land meanwhile: it is a ``--db`` plan too, so the same tables show.)"""
    folder = demo.directory / PLAN_FILE.parent
    folder.mkdir(parents=True, exist_ok=True)
    plan = sample_plan() | {"rate_sources": RATE_SOURCES}
    (folder / "backtest.json").write_text(json.dumps(sample_backtest()), encoding="utf-8")
    (folder / PLAN_FILE.name).write_text(json.dumps(plan), encoding="utf-8")
    page = page_as("operator")
    page.goto(demo.url + "/capacity")
    rates = page.locator("#plan-rate-sources")
    rates.wait_for()
    assert rates.locator("tbody tr").count() >= 2
    assert rates.get_by_text("fitted from the history").count() >= 1
    assert page.locator("#backtest-scores tbody tr").count() >= 1
    shot(page, "operator-capacity-rates")
    with page.expect_navigation():
        page.select_option("#lang-select", "zh-Hant")
    page.wait_for_load_state("networkidle")
    assert "流量參數" in page.content()
    assert "回溯測試" in page.content()
    with page.expect_navigation():
        page.select_option("#lang-select", "en")


def test_applicant_cannot_open_another_organisations_pages(
    page_as: SignIn, demo: RunningDemo
) -> None:
    page = page_as("org_admin")
    own = page.locator("nav.mainnav >> text=Applications").get_attribute("href")
    assert own is not None
    own_org = own.split("/")[2]
    with db(demo) as conn:
        other_org, other_app = conn.execute(
            "select organisation_id, id from application where organisation_id != ? limit 1",
            (own_org.replace("-", ""),),
        ).fetchone()
    other_org_id = _uuid(other_org)
    for path in (
        f"/orgs/{other_org_id}/applications",
        f"/orgs/{other_org_id}/applications/{_uuid(other_app)}",
        f"/orgs/{own_org}/applications/{_uuid(other_app)}",
        f"/orgs/{other_org_id}/jobs",
    ):
        response = page.goto(demo.url + path)
        assert response is not None, path
        assert response.status == 404, path
        assert "Page not found" in page.content()


def _uuid(value: object) -> str:
    import uuid

    if isinstance(value, bytes):
        return str(uuid.UUID(bytes=value))
    return str(uuid.UUID(str(value)))


def test_application_from_draft_to_award(page_as: SignIn, demo: RunningDemo) -> None:
    from playwright.sync_api import expect

    applicant = page_as("org_admin")
    applicant.click("nav.mainnav >> text=Applications")
    applicant.click("text=New application")
    applicant.fill("#title", "Browser-made Cantonese LLM")
    applicant.fill("#abstract", "A 7B model for Cantonese customer service.")
    applicant.fill("#gpus", "64")
    applicant.fill("#gpu_hours", "90000")
    applicant.fill("#duration_months", "6")
    applicant.fill("#justification", "Chinchilla-optimal for 140B tokens.")
    submit(applicant, "button:has-text('Save draft')")
    shot(applicant, "applicant-draft-saved")
    reference = applicant.locator("h1 code").inner_text()
    assert re.fullmatch(r"AISS-\d{4}-\d{4}", reference)
    submit(applicant, "button:has-text('Submit application')")
    assert applicant.locator(".badge-submitted").first.is_visible()
    app_url = applicant.url
    application_id = app_url.rsplit("/", 1)[1]
    staff_url = f"{demo.url}/committee/applications/{application_id}"

    officer = page_as("scheme_officer")
    officer.goto(staff_url)
    submit(officer, "button:has-text('Start review')")
    ray = officer.locator("#reviewer_id option", has_text="Ray Reviewer").get_attribute("value")
    officer.select_option("#reviewer_id", value=ray)
    submit(officer, "button:has-text('Assign')")

    reviewer = page_as("reviewer")
    reviewer.goto(demo.url + "/review")
    with db(demo) as conn:
        (assignment,) = conn.execute(
            "select id from review_assignment where application_id = ?",
            (application_id.replace("-", ""),),
        ).fetchone()
    reviewer.goto(f"{demo.url}/review/{_uuid(assignment)}")
    reviewer.check("input[name=has_conflict][value=no]")
    submit(reviewer, "button:has-text('Declare')")
    assert "Browser-made Cantonese LLM" in reviewer.content()
    score_fields = reviewer.locator("input[type=number][name^=score_]")
    expect(score_fields).to_have_count(5)  # the demo's rubric: nothing is left unscored
    for field in score_fields.all():
        field.fill("8")
    submit(reviewer, "button:has-text('Submit review')")
    shot(reviewer, "reviewer-scored")
    # Read on the page the redirect leads to: the write is committed before the 303 is sent.
    assert reviewer.locator(".alert-ok").is_visible(), reviewer.locator("main").inner_text()

    officer.goto(staff_url)
    assert "8.00" in officer.content()  # the side-by-side weighted total
    officer.fill("#reason", "strong proposal")
    submit(officer, "button:has-text('Recommend')")

    committee = page_as("committee_member")
    committee.goto(staff_url)
    committee.fill("#cap_minor", "1,500,000.00")
    committee.fill("#decision-reason", "approved at the default rate")
    shot(committee, "committee-decision")
    submit(committee, "button:has-text('Approve and award')")
    assert committee.locator(".badge-approved").first.is_visible()

    applicant.goto(applicant.url.split("/applications")[0] + "/awards")
    assert f"{reference}-A" in applicant.content()
    shot(applicant, "applicant-awards-after-decision")


def test_the_policy_refuses_inline_script_and_the_watch_sees_it(
    browser: Browser, demo: RunningDemo
) -> None:
    """The check above can fail: an inline script is refused, and the refusal is reported."""
    csp = CspWatch()
    context = csp.watch(browser.new_context())
    page = context.new_page()
    page.goto(demo.url + "/login")
    inject = (
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.ranInline = true'; document.body.appendChild(s); }"
    )
    with page.expect_console_message(lambda m: "Content Security Policy" in m.text):
        page.evaluate(inject)
    assert page.evaluate("() => window.ranInline === true") is False
    context.close()
    assert len(csp.violations) == 1
    assert "script-src 'self'" in csp.violations[0]
