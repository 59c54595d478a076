"""The capacity page: installed PFLOPS now from the cluster, the timeline against the targets."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from computeport.cli.demo import start_capacity_plan
from computeport.kit.clock import ManualClock
from computeport.settings import Settings
from computeport.web.views.capacity import installed_pflops, level_on, quarters
from computeport.web.views.capacity_plan import plan_path, saved_plan
from tests.web.capacity_samples import RATE_SOURCES, sample_backtest, sample_plan
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
    assert len(chart_specs(page.text)["chart-capacity"]["data"]) == 4


def test_applicant_cannot_see_capacity(browser: Browser, people: People) -> None:
    browser.login(people.applicant_a.email)
    assert browser.client.get("/capacity").status_code == 403


def test_saved_plan_gives_answer_charts_with_bands_and_recommendation() -> None:
    plan = saved_plan(sample_plan())
    assert plan.first_broken == "2025-03"
    assert plan.months == 4
    assert set(plan.figures) == {"supply_demand", "utilisation", "wait"}
    names = [t["name"] for t in plan.figures["utilisation"]["data"]]
    assert "utilisation p10–p90" in names
    assert "utilisation p50" in names
    assert plan.recommendation[0]["gpus"] == 512


def test_plan_path_sits_beside_a_sqlite_database() -> None:
    sqlite = Settings(database_url="sqlite:///var/demo/computeport.sqlite3")
    assert plan_path(sqlite) == Path("var/demo/capacity/plan.json")
    postgres = Settings(database_url="postgresql+psycopg://u@h/db")
    assert plan_path(postgres) == Path("var/capacity/plan.json")


def test_capacity_page_shows_the_saved_plan(
    browser: Browser, people: People, portal_app: FastAPI, tmp_path: Path
) -> None:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(sample_plan()), encoding="utf-8")
    portal_app.state.capacity_plan_path = path
    browser.login(people.operator.email)
    page = browser.client.get("/capacity")
    assert page.status_code == 200
    assert "Capacity runs out in 2025-03" in page.text
    specs = chart_specs(page.text)
    assert {"chart-plan-supply", "chart-plan-utilisation", "chart-plan-wait"} <= set(specs)
    assert "Sandy Ridge" in page.text
    assert "512" in page.text
    assert "Demand grows 4% a month" in page.text
    assert "chart-capacity" in specs  # the public-facts timeline stays


def test_capacity_page_says_how_to_make_a_plan_when_none_exists(
    browser: Browser, people: People, portal_app: FastAPI, tmp_path: Path
) -> None:
    portal_app.state.capacity_plan_path = tmp_path / "plan.json"
    browser.login(people.operator.email)
    page = browser.client.get("/capacity")
    assert "No capacity plan yet" in page.text
    assert "computeport capacity plan scenarios/cyberport.toml --out" in page.text


def test_capacity_page_survives_a_half_written_plan(
    browser: Browser, people: People, portal_app: FastAPI, tmp_path: Path
) -> None:
    path = tmp_path / "plan.json"
    path.write_text('{"answer": "Capac', encoding="utf-8")
    portal_app.state.capacity_plan_path = path
    browser.login(people.operator.email)
    page = browser.client.get("/capacity")
    assert page.status_code == 200
    assert "could not be read" in page.text


def test_demo_plan_is_written_in_the_background_only_when_missing(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    assert start_capacity_plan(settings, tmp_path / "missing.toml") is None
    plan_path(settings).parent.mkdir(parents=True)
    plan_path(settings).write_text("{}", encoding="utf-8")
    assert start_capacity_plan(settings, Path("scenarios/cyberport.toml")) is None


def test_capacity_page_shows_the_flows_and_the_latest_backtest_beside_the_plan(
    browser: Browser, people: People, portal_app: FastAPI, tmp_path: Path
) -> None:
    plan: dict[str, Any] = sample_plan()
    for row in plan["months"]:
        row["flows"] = {
            name: {"p10": 1.0, "p50": 2.0, "p90": 3.0}
            for name in ("committed", "pipeline", "renewals", "new_entrants", "copay")
        }
    plan["envelope_exhausted"] = "2025-03"
    plan["city_target"] = {"pflops": 15000, "by": "2030-01-01", "gpu_hours_month": 1e7}
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan), encoding="utf-8")
    (tmp_path / "backtest.json").write_text(json.dumps(sample_backtest()), encoding="utf-8")
    portal_app.state.capacity_plan_path = path
    browser.login(people.operator.email)
    page = browser.client.get("/capacity")
    specs = chart_specs(page.text)
    assert "chart-plan-flows" in specs
    names = [t["name"] for t in specs["chart-plan-supply"]["data"]]
    assert "city target 15,000 PF by 2030" in names
    assert "backtest-scores" in page.text
    assert "7.3%" in page.text
    (tmp_path / "backtest.json").unlink()
    page = browser.client.get("/capacity")
    assert "computeport capacity backtest scenarios/cyberport.toml" in page.text


def test_capacity_page_lists_each_flow_rate_with_its_source(
    browser: Browser, people: People, portal_app: FastAPI, tmp_path: Path
) -> None:
    plan: dict[str, Any] = sample_plan()
    plan["rate_sources"] = RATE_SOURCES
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan), encoding="utf-8")
    portal_app.state.capacity_plan_path = path
    browser.login(people.operator.email)
    page = browser.client.get("/capacity")
    assert "plan-rate-sources" in page.text
    assert "approval rate (enterprise)" in page.text
    assert "fitted from the history" in page.text
    assert "2 ended awards (&lt; 3): the scenario&#39;s assumption" in page.text
    del plan["rate_sources"]  # a plan from the scenario alone measured nothing: no table
    path.write_text(json.dumps(plan), encoding="utf-8")
    assert "plan-rate-sources" not in browser.client.get("/capacity").text
