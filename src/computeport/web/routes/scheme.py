"""The scheme page (officers, committee, operators, funder): envelope, funnel, awards, subsidy."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from computeport.models.identity import Role
from computeport.web import charts
from computeport.web.deps import CurrentViewer, PageClock, PageSession
from computeport.web.i18n import translator
from computeport.web.templating import render
from computeport.web.views.scheme import scheme_dashboard
from computeport.web.views.scheme_charts import scheme_charts

router = APIRouter(include_in_schema=False)

SCHEME_READERS = (Role.SCHEME_OFFICER, Role.COMMITTEE_MEMBER, Role.OPERATOR, Role.FUNDER)


@router.get("/scheme")
def scheme_page(
    request: Request, viewer: CurrentViewer, session: PageSession, clock: PageClock
) -> Response:
    viewer.require(*SCHEME_READERS)
    board = scheme_dashboard(session, clock.now())
    _ = translator(viewer.locale)
    specs = scheme_charts(board, _)
    return render(
        request,
        "scheme.html",
        {
            "board": board,
            "charts": specs,
            "has_data": {k: charts.has_data(v) for k, v in specs.items()},
            "now": clock.now(),
        },
        viewer=viewer,
        active="scheme",
    )
