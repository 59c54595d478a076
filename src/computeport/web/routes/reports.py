"""Reports: the usage explorer (group by a dimension, CSV export of every table), the funder's
yearly report as a page and as a PDF (WeasyPrint), and the funder's read-only dashboard."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from computeport.backends import ClusterBackend
from computeport.gateway.figures import FIGURE_READERS, inference_figures
from computeport.kit.errors import NotFound
from computeport.kit.periods import parse_period, period_of
from computeport.models.identity import Role
from computeport.web import charts
from computeport.web.deps import CurrentViewer, PageClock, PageCluster, PageSession
from computeport.web.formatting import HONG_KONG
from computeport.web.i18n import translator
from computeport.web.templating import ENV, render
from computeport.web.views.funder import FunderReport, funder_report
from computeport.web.views.reports import DIMENSIONS, report_csv, usage_report
from computeport.web.views.scheme import scheme_dashboard
from computeport.web.views.scheme_charts import scheme_charts

router = APIRouter(include_in_schema=False)

REPORT_READERS = (Role.OPERATOR, Role.SCHEME_OFFICER, Role.FUNDER, Role.COMMITTEE_MEMBER)


def _installed(cluster: ClusterBackend | None) -> int | None:
    """Installed GPUs, counted over nodes (partitions may share nodes)."""
    return sum(n.gpus for n in cluster.nodes()) if cluster is not None else None


@router.get("/reports")
def reports(
    request: Request,
    viewer: CurrentViewer,
    session: PageSession,
    clock: PageClock,
    by: str = Query("organisation"),
    since: str = Query("", alias="from"),
    until: str = Query("", alias="to"),
) -> Response:
    viewer.require(*REPORT_READERS)
    rows = usage_report(session, by, since=since or None, until=until or None)
    _ = translator(viewer.locale)
    keys = [_(r.key) if by in ("category", "sector") else r.key for r in rows]
    spec = charts.bars(
        keys,
        [(_("GPU-hours"), [round(r.gpu_seconds / 3600, 1) for r in rows])],
        y_title=_("GPU-hours"),
        horizontal=by != "month",
    )
    year = clock.now().astimezone(HONG_KONG).year
    return render(
        request,
        "reports.html",
        {
            "rows": rows,
            "by": by,
            "since": since,
            "until": until,
            "dimensions": DIMENSIONS,
            "chart_spec": spec,
            "years": list(range(year, 2023, -1)),
            "query": request.url.query,
        },
        viewer=viewer,
        active="reports",
    )


@router.get("/reports/usage.csv")
def reports_csv(
    viewer: CurrentViewer,
    session: PageSession,
    by: str = Query("organisation"),
    since: str = Query("", alias="from"),
    until: str = Query("", alias="to"),
) -> Response:
    viewer.require(*REPORT_READERS)
    rows = usage_report(session, by, since=since or None, until=until or None)
    name = f"usage-by-{by}{'-' + since if since else ''}{'-' + until if until else ''}.csv"
    return Response(
        report_csv(by, rows),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )


def _report(viewer: Any, session: Any, clock: Any, cluster: Any, year: int) -> FunderReport:
    viewer.require(*REPORT_READERS)
    if not 2000 <= year <= 2099:  # a report of the scheme's years, not any integer
        raise NotFound(f"no funder report for {year}")
    return funder_report(session, year, clock.now(), installed_gpus=_installed(cluster))


@router.get("/reports/funder/{year:int}")
def funder_report_page(
    request: Request,
    year: int,
    viewer: CurrentViewer,
    session: PageSession,
    clock: PageClock,
    cluster: PageCluster,
) -> Response:
    report = _report(viewer, session, clock, cluster, year)
    return render(
        request,
        "funder_report.html",
        {"report": report, "generated": clock.now()},
        viewer=viewer,
        active="reports",
    )


def funder_report_html(report: FunderReport, locale: Any, generated: datetime) -> str:
    """The yearly report as a self-contained printable HTML document (the PDF's source)."""
    return ENV.get_template("funder_report_print.html").render(
        report=report, generated=generated, lang=locale, _=translator(locale)
    )


@router.get("/reports/funder/{year:int}.pdf")
def funder_report_pdf(
    year: int,
    viewer: CurrentViewer,
    session: PageSession,
    clock: PageClock,
    cluster: PageCluster,
) -> Response:
    from weasyprint import HTML

    report = _report(viewer, session, clock, cluster, year)
    html = funder_report_html(report, viewer.locale, clock.now())
    pdf: bytes = HTML(string=html).write_pdf()
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"content-disposition": f'inline; filename="funder-report-{year}.pdf"'},
    )


@router.get("/funder")
def funder_dashboard(
    request: Request,
    viewer: CurrentViewer,
    session: PageSession,
    clock: PageClock,
    cluster: PageCluster,
) -> Response:
    viewer.require(Role.FUNDER, Role.SCHEME_OFFICER, Role.COMMITTEE_MEMBER)
    now = clock.now()
    year = now.astimezone(HONG_KONG).year
    board = scheme_dashboard(session, now)
    report = funder_report(session, year, now, installed_gpus=_installed(cluster))
    # The government service's month beside the year: the same read as the gateway's page.
    period = period_of(now)
    service = inference_figures(session, period, *parse_period(period))
    _ = translator(viewer.locale)
    return render(
        request,
        "funder.html",
        {
            "board": board,
            "report": report,
            "service": service,
            "service_period": period,
            "service_link": viewer.has(*FIGURE_READERS),
            # The funnel counts the report year's applications, as the key figures above it do.
            "charts": {
                **scheme_charts(board, _),
                "funnel": charts.funnel([(_(label), n) for label, n in report.funnel]),
            },
            "years": list(range(year, 2023, -1)),
            "now": now,
        },
        viewer=viewer,
        active="funder",
    )
