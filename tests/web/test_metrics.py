"""/metrics in the Prometheus text format: escaping, names, and the centre's figures."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session

from computeport.backends import JobState, PendingReason
from computeport.kit.clock import ManualClock
from computeport.web.metrics import CONTENT_TYPE, Metric, Sample, render
from tests.award import builders
from tests.web.fakes import FakeCluster, job_info
from tests.web.fixtures import Browser

LINE = re.compile(
    r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*",?)*\})? \S+$'
)


def test_render_escapes_label_values_and_help() -> None:
    text = render(
        [
            Metric(
                "cp_x",
                "help with \\ and\nnewline",
                "gauge",
                [Sample(3, (("name", 'a"b\\c\nd'),)), Sample(Decimal("0.50"))],
            )
        ]
    )
    assert text == (
        "# HELP cp_x help with \\\\ and\\nnewline\n"
        "# TYPE cp_x gauge\n"
        'cp_x{name="a\\"b\\\\c\\nd"} 3\n'
        "cp_x 0.5\n"
    )


@pytest.mark.parametrize("name", ["1abc", "a-b", "with space", ""])
def test_invalid_metric_names_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="invalid metric name"):
        Metric(name, "h", "gauge")


def test_reserved_label_names_are_refused() -> None:
    with pytest.raises(ValueError, match="invalid label name"):
        Metric("ok", "h", "gauge", [Sample(1, (("__name__", "x"),))])


def test_a_family_appears_once() -> None:
    with pytest.raises(ValueError, match="given twice"):
        render([Metric("a", "h", "gauge"), Metric("a", "h", "gauge")])


def test_metrics_endpoint_reports_cluster_and_envelope(
    browser: Browser, portal_app: FastAPI, session: Session, clock: ManualClock
) -> None:
    scheme = builders.scheme(session, envelope_minor=1_000_000_00)
    builders.approved_award(session, clock, scheme, cap_minor=250_000_00)
    cluster = FakeCluster(clock.now())
    cluster.job_list = [
        job_info("1", clock.now(), gpus=8),
        job_info("2", clock.now(), state=JobState.PENDING, reason=PendingReason.BUDGET),
    ]
    portal_app.state.cp.backend = cluster
    response = browser.client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"] == CONTENT_TYPE
    text = response.text
    for line in text.splitlines():
        assert line.startswith("# ") or LINE.match(line), line
    assert 'computeport_gpus_installed{cluster="fake"} 32' in text
    assert 'computeport_gpu_utilisation_ratio{cluster="fake"} 0.25' in text
    assert 'computeport_queue_length{cluster="fake"} 1' in text
    assert 'computeport_jobs_pending_by_reason{cluster="fake",reason="budget"} 1' in text
    code = scheme.code
    assert f'computeport_envelope_hkd_cents{{scheme="{code}",kind="committed"}} 25000000' in text
    assert f'computeport_envelope_hkd_cents{{scheme="{code}",kind="remaining"}} 75000000' in text
