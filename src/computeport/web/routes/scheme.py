"""The scheme page (officers, committee, operators, funder): envelope, funnel, awards, subsidy."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from computeport.models.identity import Role
from computeport.web import charts
from computeport.web.deps import CurrentViewer, PageClock, PageSession
from computeport.web.i18n import Translate, translator
from computeport.web.templating import render
from computeport.web.views.scheme import SchemeDashboard, scheme_dashboard

router = APIRouter(include_in_schema=False)

SCHEME_READERS = (Role.SCHEME_OFFICER, Role.COMMITTEE_MEMBER, Role.OPERATOR, Role.FUNDER)


def _major(amount_minor: int) -> float:
    """Cents → HK$ for chart axes only (a drawing coordinate, never money again)."""
    return round(amount_minor / 100, 2)


def scheme_charts(board: SchemeDashboard, _: Translate) -> dict[str, Any]:
    """The scheme page's chart specs (shared with the funder page)."""
    months = [m.period for m in board.months]
    return {
        "funnel": charts.funnel([(_(label), count) for label, count in board.funnel]),
        "category": charts.donut(
            [(_(g.name), _major(g.committed_minor)) for g in board.by_category]
        ),
        "sector": charts.bars(
            [_(g.name) for g in board.by_sector],
            [(_("Committed (HK$)"), [_major(g.committed_minor) for g in board.by_sector])],
            y_title="HK$",
            horizontal=True,
        ),
        "subsidy": charts.bars(
            months,
            [
                (_("Subsidy"), [_major(m.subsidy_minor) for m in board.months]),
                (_("Co-payment"), [_major(m.copay_minor) for m in board.months]),
            ],
            y_title="HK$",
            stacked=True,
        ),
    }


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
