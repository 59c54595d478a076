"""The capacity page: installed PFLOPS now from the cluster, the timeline against the targets."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from fastapi import FastAPI

from computeport.kit.clock import ManualClock
from computeport.web.views.capacity import installed_pflops, level_on, quarters
from tests.web.fakes import FakeCluster
from tests.web.fixtures import Browser, People, chart_specs


def test_installed_pflops_is_gpus_times_fp16_dense_peak(clock: ManualClock) -> None:
    nodes = FakeCluster(clock.now(), node_count=380).nodes()
    assert installed_pflops(nodes) == Decimal("3008.080")  # 3,040 H800 × 0.9895 PF


def test_timeline_levels_and_quarters() -> None:
    assert level_on("Cyberport", date(2024, 12, 1), planned=False) == 0
    assert level_on("Cyberport", date(2024, 12, 9), planned=False) == 1_300
    assert level_on("Cyberport", date(2026, 1, 1), planned=False) == 3_000
    assert level_on("Sandy Ridge", date(2026, 1, 1), planned=True) == 0
    assert quarters(date(2025, 2, 3), date(2025, 12, 31)) == [
        date(2025, 1, 1),
        date(2025, 4, 1),
        date(2025, 7, 1),
        date(2025, 10, 1),
    ]


def test_operator_sees_capacity_page(
    browser: Browser, people: People, portal_app: FastAPI, clock: ManualClock
) -> None:
    portal_app.state.cp.backend = FakeCluster(clock.now(), node_count=380)
    browser.login(people.operator.email)
    page = browser.client.get("/capacity")
    assert page.status_code == 200
    assert "3,008 PF" in page.text
    assert len(chart_specs(page.text)["chart-capacity"]["data"]) == 4  # type: ignore[arg-type]


def test_applicant_cannot_see_capacity(browser: Browser, people: People) -> None:
    browser.login(people.applicant_a.email)
    assert browser.client.get("/capacity").status_code == 403
