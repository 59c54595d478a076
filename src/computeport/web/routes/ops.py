"""Centre operations: utilisation against capacity and the 90% line, queues and waits, jobs with
the scheduler's reasons, nodes."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from computeport.backends import BackendError
from computeport.inventory.health import cluster_states
from computeport.web import charts
from computeport.web.deps import CurrentViewer, PageClock, PageCluster, PageSession
from computeport.web.i18n import translator
from computeport.web.templating import render
from computeport.web.viewer import OPS_READERS
from computeport.web.views import ops
from computeport.web.views.reasons import REASON_LABELS
from computeport.web.views.site_use import site_type_use

router = APIRouter(include_in_schema=False)

UTILISATION_TARGET = 0.9


def bucket_for(days: int) -> timedelta:
    """Chart resolution for a window: about a hundred points whatever the window."""
    if days <= 2:
        return timedelta(minutes=30)
    if days <= 7:
        return timedelta(hours=1)
    if days <= 31:
        return timedelta(hours=4)
    return timedelta(days=1)


@router.get("/ops")
def ops_page(
    request: Request,
    viewer: CurrentViewer,
    session: PageSession,
    clock: PageClock,
    cluster: PageCluster,
    days: int = Query(14, ge=1, le=120),
) -> Response:
    viewer.require(*OPS_READERS)
    _ = translator(viewer.locale)
    now = clock.now()
    step = bucket_for(days)
    until = now
    since = ops.window_start(now, days, step)
    try:
        live = ops.live_cluster(cluster) if cluster is not None else None
    except BackendError:  # the cluster is down: the page still shows history and health
        live = None
    running = live.running if live else []
    finished = ops.finished_use(session, since, until, step)
    ops.add_spans(
        finished.by_partition,
        ops.spans(ops.running_intervals(running, now, "partition")),
        since,
        until,
        step,
    )
    ops.add_spans(
        finished.by_type, ops.spans(ops.running_intervals(running, now, "type")), since, until, step
    )
    by_partition = ops.series_of(finished.labels, finished.by_partition, step)
    by_type = ops.series_of(finished.labels, finished.by_type, step)
    capacity = live.gpus if live else 0
    waits = ops.window_waits(session, since, until)
    by_site = site_type_use(session, since, until)
    specs = {
        "partition": charts.stacked_area(
            by_partition.x,
            list(by_partition.groups.items()),
            y_title=_("GPUs in use"),
            capacity=[capacity] * len(by_partition.x) if capacity else None,
            capacity_label=_("Installed GPUs"),
            threshold=UTILISATION_TARGET,
            threshold_label=_("90% utilisation"),
        ),
        "type": charts.stacked_area(
            by_type.x,
            list(by_type.groups.items()),
            y_title=_("GPUs in use"),
            capacity=[capacity] * len(by_type.x) if capacity else None,
            capacity_label=_("Installed GPUs"),
            threshold=UTILISATION_TARGET,
            threshold_label=_("90% utilisation"),
        ),
        "waits": charts.lines(
            waits.x,
            [
                ("p50", [round(v / 3600, 2) for v in waits.p50]),
                ("p90", [round(v / 3600, 2) for v in waits.p90]),
                ("p99", [round(v / 3600, 2) for v in waits.p99]),
            ],
            y_title=_("Wait (hours)"),
        ),
    }
    total = by_partition.total()
    average_use = sum(total) / len(total) if total else 0.0
    window_utilisation = (average_use / capacity) if capacity else None
    recent = sorted(waits.p50[-7:])
    return render(
        request,
        "ops.html",
        {
            "live": live,
            "health": cluster_states(session),
            "charts": specs,
            "days": days,
            "now": now,
            "window_utilisation": window_utilisation,
            "median_wait": ops.percentile(recent, 50) if recent else None,
            "p90_wait": waits.p90[-1] if waits.p90 else None,
            "has_history": bool(total and any(total)),
            "reason_labels": REASON_LABELS,
            "by_site": by_site,
        },
        viewer=viewer,
        active="ops",
    )
