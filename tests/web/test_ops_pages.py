"""The operations page: GPUs in use from usage records and running jobs, waits, reasons, nodes."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session

from computeport.backends import JobState, PendingReason
from computeport.kit.clock import ManualClock
from computeport.metering.rollups import refresh_usage_rollups
from computeport.models.metering import ChargeKind, UsageCharge, UsageRecord
from computeport.web.views.ops import Interval, gpus_in_use, percentile
from tests.web.fakes import FakeCluster, job_info
from tests.web.fixtures import Browser, People

T = datetime(2026, 10, 1, tzinfo=UTC)


def rate(session: Session, record: UsageRecord, organisation_id: uuid.UUID) -> None:
    """A rating row for ``record`` (as the poster would write), folded into the rollups:
    the operations chart shows rated usage."""
    session.add(
        UsageCharge(
            record_id=record.id,
            sign=1,
            kind=ChargeKind.PAYG,
            organisation_id=organisation_id,
            accelerator_type=record.accelerator_type,
            cluster=record.cluster,
            job_id=record.job_id,
            submit_time=record.submit_time,
            end_time=record.end_time,
            period=record.end_time.strftime("%Y-%m"),
            gpu_seconds=record.gpu_seconds,
            list_minor=0,
            subsidy_minor=0,
            copay_minor=0,
            rated_at=record.ingested_at,
        )
    )
    session.flush()
    refresh_usage_rollups(session)


def test_gpus_in_use_is_time_weighted_per_bucket() -> None:
    # 8 GPUs for the first half hour of a one-hour bucket → 4 on average; then 2 GPUs throughout.
    series = gpus_in_use(
        [
            Interval(T, T + timedelta(minutes=30), 8, "a"),
            Interval(T, T + timedelta(hours=2), 2, "b"),
        ],
        T,
        T + timedelta(hours=2),
        timedelta(hours=1),
    )
    assert series.groups == {"a": [4.0, 0.0], "b": [2.0, 2.0]}
    assert series.total() == [6.0, 2.0]


def test_intervals_outside_the_window_are_clipped() -> None:
    series = gpus_in_use(
        [Interval(T - timedelta(hours=5), T + timedelta(minutes=15), 4, "a")],
        T,
        T + timedelta(hours=1),
        timedelta(hours=1),
    )
    assert series.groups == {"a": [1.0]}


@pytest.mark.parametrize(("q", "expected"), [(50, 3), (90, 5), (99, 5), (1, 1)])
def test_nearest_rank_percentile(q: int, expected: int) -> None:
    assert percentile([1, 2, 3, 4, 5], q) == expected


def test_operator_sees_live_cluster_and_history(
    browser: Browser,
    people: People,
    portal_app: FastAPI,
    session: Session,
    clock: ManualClock,
) -> None:
    now = clock.now()
    cluster = FakeCluster(now)
    cluster.job_list = [
        job_info("1", now - timedelta(hours=1), gpus=16),
        job_info("2", now - timedelta(minutes=5), state=JobState.PENDING, gpus=32),
        job_info(
            "3", now, state=JobState.PENDING, gpus=8, reason=PendingReason.BUDGET, account="a-7"
        ),
    ]
    portal_app.state.cp.backend = cluster
    record = UsageRecord(
        cluster="fake",
        job_id="99",
        submit_time=now - timedelta(days=2, hours=1),
        digest="d",
        account="acct",
        user_name="alice",
        partition="gpu",
        qos="normal",
        accelerator_type="h800",
        gpus=24,
        start_time=now - timedelta(days=2),
        end_time=now - timedelta(days=1),
        state="COMPLETED",
        gpu_seconds=24 * 86400,
        ingested_at=now,
    )
    session.add(record)
    session.flush()
    rate(session, record, people.org_a.id)
    browser.login(people.operator.email)
    page = browser.client.get("/ops?days=7")
    assert page.status_code == 200
    assert "16 / 32" in page.text  # GPUs in use now / capacity
    assert "Award budget used up" in page.text  # the scheduler's reason, in words
    found = re.search(r'id="chart-partition-spec">(.*?)</script>', page.text)
    assert found
    spec = json.loads(found.group(1))
    names = [trace["name"] for trace in spec["data"]]
    assert names == ["gpu", "Installed GPUs", "90% utilisation"]
    assert max(spec["data"][0]["y"]) == 24.0  # the finished job's 24 GPUs
    assert spec["data"][2]["y"][0] == pytest.approx(28.8)  # 90% of 32
    found_waits = re.search(r'id="chart-waits-spec">(.*?)</script>', page.text)
    assert found_waits
    waits = json.loads(found_waits.group(1))
    assert [trace["y"] for trace in waits["data"]] == [[1.0], [1.0], [1.0]]  # one job, 1 h wait


def test_ops_without_a_cluster_says_what_it_waits_for(browser: Browser, people: People) -> None:
    browser.login(people.operator.email)
    page = browser.client.get("/ops")
    assert page.status_code == 200
    assert "Waiting for the" in page.text


def test_applicant_cannot_open_ops(browser: Browser, people: People) -> None:
    browser.login(people.applicant_a.email)
    assert browser.client.get("/ops").status_code == 403


def test_a_cluster_that_is_down_is_named_with_since_when_in_both_languages(
    browser: Browser, people: People, session: Session
) -> None:
    from computeport.inventory.health import mark_down, mark_up

    mark_up(session, "cyberport-h800", T)
    mark_down(session, "sandy-ridge-a", T, "BackendUnavailable: slurmctld did not answer", "x")
    mark_down(session, "sandy-ridge-a", T + timedelta(hours=1), "still down", "ingest-usage@s")
    browser.login(people.operator.email)
    page = browser.client.get("/ops")
    assert page.status_code == 200
    # The outage started at the first failure (HKT, 08:00), the latest error is shown.
    assert "Cluster sandy-ridge-a is down since 2026-10-01 08:00 HKT" in page.text
    assert "ingest-usage@s, x: still down" in page.text
    assert page.text.count('class="badge badge-active"') == 1  # cyberport-h800 is up
    browser.post_form("/lang", {"locale": "zh-Hant", "next": "/ops"}, from_page="/ops")
    page = browser.client.get("/ops")
    assert "叢集 sandy-ridge-a 自 2026-10-01 08:00 HKT 起無法連線" in page.text
    assert "叢集狀態" in page.text


def test_the_page_shows_history_when_the_live_cluster_is_down(
    browser: Browser, people: People, portal_app: FastAPI, clock: ManualClock
) -> None:
    from computeport.backends import BackendUnavailable
    from computeport.web.deps import cluster_backend

    class Down(FakeCluster):
        def jobs(self, *, account: str | None = None) -> list:  # type: ignore[type-arg]
            raise BackendUnavailable("slurmctld did not answer")

    portal_app.dependency_overrides[cluster_backend] = lambda: Down(clock.now())
    browser.login(people.operator.email)
    page = browser.client.get("/ops")
    assert page.status_code == 200
    assert "Waiting for the" in page.text
