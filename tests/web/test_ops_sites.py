"""The operations page per site and accelerator type: use, utilisation and wait from the
per-cluster rollup, clusters placed at their sites by the loaded inventory (both engines)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from fastapi import FastAPI
from sqlalchemy.orm import Session

from computeport.inventory.declaration import parse_inventory
from computeport.inventory.loader import load_inventory
from computeport.kit.clock import ManualClock
from computeport.models.metering import UsageRecord
from computeport.web.views.reports import usage_report
from computeport.web.views.site_use import nearest_rank, site_type_use
from tests.award.share_centre import CENTRE
from tests.web.fixtures import Browser, People
from tests.web.test_ops_pages import rate

ZH_CENTRE = CENTRE.replace('name = "Sandy Ridge"', 'name = "Sandy Ridge"\nname_zh = "沙嶺"')


def _job(
    session: Session,
    people: People,
    now: datetime,
    cluster: str,
    kind: str,
    gpus: int,
    hours: int,
    wait_hours: int,
) -> None:
    start = now - timedelta(days=1)
    record = UsageRecord(
        cluster=cluster,
        job_id=f"{cluster}-{gpus}-{hours}",
        submit_time=start - timedelta(hours=wait_hours),
        digest="d",
        account="acct",
        user_name="alice",
        partition="gpu",
        qos="normal",
        accelerator_type=kind,
        gpus=gpus,
        start_time=start,
        end_time=start + timedelta(hours=hours),
        state="COMPLETED",
        gpu_seconds=gpus * hours * 3600,
        ingested_at=now,
    )
    session.add(record)
    session.flush()
    rate(session, record, people.org_a.id)


def _centre_with_jobs(session: Session, clock: ManualClock, people: People) -> datetime:
    now = clock.now()
    load_inventory(session, parse_inventory(ZH_CENTRE), actor_id=None, at=now, source="t")
    _job(session, people, now, "alpha", "h800", 8, 10, 1)
    _job(session, people, now, "beta", "h800", 4, 2, 5)
    _job(session, people, now, "alpha", "h800", 2, 1, 2)
    _job(session, people, now, "ridge", "h800", 16, 5, 3)
    _job(session, people, now, "domestic", "cn-accel-a", 8, 2, 0)
    _job(session, people, now, "aisc", "h800", 4, 1, 0)  # a cluster no inventory places
    return now


def test_use_and_wait_per_site_and_type(
    session: Session, clock: ManualClock, people: People
) -> None:
    now = _centre_with_jobs(session, clock, people)
    rows = site_type_use(session, now - timedelta(days=7), now)
    assert [(r.site, r.accelerator_type, r.clusters, r.gpus, r.jobs) for r in rows] == [
        ("cyberport", "h800", ("alpha", "beta"), 32 + 8, 3),
        ("sandy-ridge", "cn-accel-a", ("domestic",), 16, 1),
        ("sandy-ridge", "h800", ("ridge",), 16, 1),
        (None, "h800", ("aisc",), 0, 1),
    ]
    cyberport = rows[0]
    assert cyberport.gpu_seconds == (8 * 10 + 4 * 2 + 2 * 1) * 3600
    assert cyberport.p50_wait_seconds == 2 * 3600  # waits 1 h, 2 h, 5 h
    assert cyberport.p90_wait_seconds == 5 * 3600
    days = rows[0].window_seconds // 86400
    assert days == 8  # the Hong Kong days from the window's first to today's, whole
    assert cyberport.utilisation == (90 * 3600) / (40 * days * 86400)
    assert rows[3].utilisation is None  # no installed GPUs known for it
    assert rows[3].site_name == "aisc"
    # a window before the jobs: the installed GPUs, nothing used
    before = site_type_use(session, now - timedelta(days=30), now - timedelta(days=20))
    assert [(r.site, r.jobs, r.gpu_seconds) for r in before] == [
        ("cyberport", 0, 0),
        ("sandy-ridge", 0, 0),
        ("sandy-ridge", 0, 0),
    ]


def test_nearest_rank_over_a_histogram_equals_over_the_values() -> None:
    histogram = [(0, 2), (60, 0), (120, 3), (600, 1)]
    values = [0, 0, 120, 120, 120, 600]
    for q in (1, 33, 50, 90, 99, 100):
        expected = values[max(1, -(-q * len(values) // 100)) - 1]
        assert nearest_rank(histogram, q) == expected
    assert nearest_rank([(5, 0)], 50) is None


def test_the_operator_reads_the_sites_on_the_ops_page_in_both_languages(
    browser: Browser,
    people: People,
    portal_app: FastAPI,
    session: Session,
    clock: ManualClock,
) -> None:
    _centre_with_jobs(session, clock, people)
    browser.login(people.operator.email)
    page = browser.get("/ops?days=7")
    assert page.status_code == 200
    row = re.search(
        r'<tr data-site="sandy-ridge" data-accelerator="h800">(.*?)</tr>', page.text, re.S
    )
    assert row is not None
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.S)
    assert cells[0].strip() == "Sandy Ridge"
    assert cells[1:5] == ["h800", "ridge", "16", "80"]  # 16 GPUs × 5 h
    assert cells[7].strip() == "3h 00m"
    assert 'data-site="" data-accelerator="h800"' in page.text  # aisc, with no site
    assert "no site" in page.text
    browser.post_form("/lang", {"locale": "zh-Hant", "next": "/ops"}, from_page="/ops")
    zh = browser.get("/ops?days=7").text
    assert "按站點及加速器類型" in zh
    assert "沙嶺" in zh


def test_the_usage_explorer_groups_by_site_cluster_and_site_and_type(
    session: Session, clock: ManualClock, people: People
) -> None:
    _centre_with_jobs(session, clock, people)
    by_site = {r.key: (r.jobs, r.gpu_seconds // 3600) for r in usage_report(session, "site")}
    assert by_site == {"cyberport": (3, 90), "sandy-ridge": (2, 96), "aisc": (1, 4)}
    pairs = usage_report(session, "site_accelerator")
    assert [(r.key, r.gpu_seconds // 3600) for r in pairs] == [
        ("cyberport · h800", 90),
        ("sandy-ridge · h800", 80),
        ("sandy-ridge · cn-accel-a", 16),
        ("aisc · h800", 4),
    ]
    clusters = {r.key: r.mean_wait_seconds for r in usage_report(session, "cluster")}
    assert clusters["alpha"] == 3 * 3600 // 2  # waits of 1 h and 2 h
    assert clusters["domestic"] == 0
    # an organisation sees only its own usage by site
    assert usage_report(session, "site", organisation_id=people.org_b.id) == []
    mine = usage_report(session, "site", organisation_id=people.org_a.id)
    assert {r.key for r in mine} == set(by_site)


def test_the_reports_page_offers_the_site_dimensions(
    browser: Browser, people: People, session: Session, clock: ManualClock
) -> None:
    _centre_with_jobs(session, clock, people)
    browser.login(people.operator.email)
    page = browser.get("/reports?by=site_accelerator")
    assert page.status_code == 200
    assert "sandy-ridge · cn-accel-a" in page.text
    csv = browser.get("/reports/usage.csv?by=site").text.splitlines()
    assert csv[0].startswith("site,jobs,gpu_seconds")
    assert csv[1].startswith("sandy-ridge,2,")
