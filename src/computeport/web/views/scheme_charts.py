"""The scheme dashboard's chart specs: the funnel, committed money by category and sector, and
subsidy against co-payment per month.

Shared by the scheme page and the funder's dashboard, so it lives with the read models rather
than in one page's routes: routes never import routes.
"""

from __future__ import annotations

from typing import Any

from computeport.web import charts
from computeport.web.i18n import Translate
from computeport.web.views.scheme import SchemeDashboard


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
