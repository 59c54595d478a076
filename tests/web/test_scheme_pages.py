"""The scheme page: envelope figures in HK$, the funnel and charts; who may open it."""

from __future__ import annotations

import json
import re

from sqlalchemy.orm import Session

from computeport.kit.clock import ManualClock
from tests.factories import award as fw
from tests.web.fixtures import Browser, People


def _chart_spec(html: str, chart_id: str) -> dict[str, object]:
    found = re.search(rf'<script type="application/json" id="{chart_id}-spec">(.*?)</script>', html)
    assert found, f"no chart {chart_id}"
    spec: dict[str, object] = json.loads(found.group(1))
    return spec


def test_officer_sees_envelope_in_hk_dollars(
    browser: Browser, people: People, session: Session, clock: ManualClock
) -> None:
    scheme = fw.scheme(session, envelope_minor=3_000_000_000_00)
    fw.approved_award(session, clock, scheme, cap_minor=12_345_678_90, organisation=people.org_a)
    fw.approved_award(session, clock, scheme, cap_minor=7_654_321_10, organisation=people.org_b)
    browser.login(people.officer.email)
    page = browser.client.get("/scheme")
    assert page.status_code == 200
    assert "HK$3B" in page.text  # the envelope, short form
    assert "HK$20,000,000.00" in page.text  # committed = the two caps, with separators
    funnel = _chart_spec(page.text, "chart-funnel")
    data = funnel["data"]
    assert isinstance(data, list)
    assert data[0]["x"][-1] == 2  # two applications reached "approved"


def test_funder_may_read_the_scheme_page(
    browser: Browser, people: People, session: Session
) -> None:
    fw.scheme(session)
    browser.login(people.funder.email)
    assert browser.client.get("/scheme").status_code == 200


def test_applicant_may_not_open_the_scheme_page(
    browser: Browser, people: People, session: Session
) -> None:
    fw.scheme(session)
    browser.login(people.applicant_a.email)
    page = browser.client.get("/scheme")
    assert page.status_code == 403
    assert "Not allowed" in page.text
