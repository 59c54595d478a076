"""``/metrics``: the centre's figures for Prometheus (utilisation, queue, envelope).

Unauthenticated like most exporters (scrape it from the monitoring network only); it shows
aggregates, never an organisation's data.
"""

from __future__ import annotations

from collections import Counter
from decimal import ROUND_HALF_UP, Decimal

from fastapi import APIRouter
from fastapi.responses import Response
from sqlalchemy import select

from computeport.backends import JobState
from computeport.envelope.service import envelope_figures
from computeport.models.scheme import Scheme
from computeport.web.deps import PageCluster, PageSession
from computeport.web.metrics import CONTENT_TYPE, Metric, Sample, render

router = APIRouter(include_in_schema=False)


def cluster_metrics(cluster: PageCluster) -> list[Metric]:
    if cluster is None:
        return []
    nodes = cluster.nodes()
    jobs = cluster.jobs()
    installed = sum(n.gpus for n in nodes)
    used = sum(n.gpus_used for n in nodes)
    name = cluster.cluster
    ratio = (
        (Decimal(used) / installed).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
        if installed
        else Decimal(0)
    )
    running = sum(1 for j in jobs if j.state is JobState.RUNNING)
    pending = [j for j in jobs if j.state is JobState.PENDING]
    reasons = Counter(j.pending_reason.value for j in pending)
    states = Counter(n.state.value for n in nodes)
    label = (("cluster", name),)
    return [
        Metric(
            "computeport_gpus_installed",
            "GPUs installed (over nodes).",
            "gauge",
            [Sample(installed, label)],
        ),
        Metric(
            "computeport_gpus_in_use",
            "GPUs allocated to running jobs.",
            "gauge",
            [Sample(used, label)],
        ),
        Metric(
            "computeport_gpu_utilisation_ratio",
            "GPUs in use / GPUs installed.",
            "gauge",
            [Sample(ratio, label)],
        ),
        Metric(
            "computeport_jobs",
            "Jobs the scheduler holds, by state.",
            "gauge",
            [
                Sample(running, (*label, ("state", "running"))),
                Sample(len(pending), (*label, ("state", "pending"))),
            ],
        ),
        Metric("computeport_queue_length", "Pending jobs.", "gauge", [Sample(len(pending), label)]),
        Metric(
            "computeport_jobs_pending_by_reason",
            "Pending jobs by normalised reason.",
            "gauge",
            [Sample(n, (*label, ("reason", r))) for r, n in sorted(reasons.items())],
        ),
        Metric(
            "computeport_nodes",
            "Nodes by state.",
            "gauge",
            [Sample(n, (*label, ("state", s))) for s, n in sorted(states.items())],
        ),
    ]


def envelope_metrics(session: PageSession) -> list[Metric]:
    samples: list[Sample] = []
    for scheme in session.scalars(select(Scheme).order_by(Scheme.code)):
        figures = envelope_figures(session, scheme)
        for kind, value in (
            ("total", figures.total_minor),
            ("committed", figures.committed_minor),
            ("consumed", figures.consumed_minor),
            ("remaining", figures.remaining_minor),
        ):
            samples.append(Sample(value, (("scheme", scheme.code), ("kind", kind))))
    return [
        Metric(
            "computeport_envelope_hkd_cents",
            "The subsidy envelope in HK cents: total, committed, consumed, remaining.",
            "gauge",
            samples,
        )
    ]


@router.get("/metrics")
def metrics(session: PageSession, cluster: PageCluster) -> Response:
    body = render([*cluster_metrics(cluster), *envelope_metrics(session)])
    return Response(body, media_type=CONTENT_TYPE)
