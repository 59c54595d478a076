"""The operator's and the funder's view of the inference gateway over one month.

The figures are :func:`computeport.gateway.figures.inference_figures` (the same read as
``GET /api/v1/inference-figures``); this module only turns them into the page's context and
its chart: tokens per department, in and out, so the few departments that carry the load stand
out, as they do for the funder's question "who uses the service".
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from computeport.gateway.figures import Figures, inference_figures
from computeport.kit.periods import parse_period, period_of
from computeport.web import charts
from computeport.web.i18n import Translate

CHART_DEPARTMENTS = 15
"""The chart's departments (the busiest); the table below it lists every one."""


def _shift(period: str, months: int) -> str:
    start, _ = parse_period(period)
    index = start.year * 12 + start.month - 1 + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def inference_context(
    session: Session, period: str | None, now: datetime, _: Translate
) -> dict[str, Any]:
    """The page's context for ``period`` (``YYYY-MM``; ``None``: ``now``'s month)."""
    period = period_of(now) if period is None else period.strip()
    start, end = parse_period(period)
    figures: Figures = inference_figures(session, period, start, end)
    top = figures.by_department[:CHART_DEPARTMENTS]
    chart = charts.bars(
        [s.name for s in top],
        [
            (_("Tokens in"), [s.prompt_tokens for s in top]),
            (_("Tokens out"), [s.completion_tokens for s in top]),
        ],
        y_title=_("Tokens"),
        stacked=True,
        horizontal=True,
    )
    return {
        "period": period,
        "previous": _shift(period, -1),
        "next": _shift(period, 1) if end <= now else None,
        "figures": figures,
        "departments_chart": chart if top else None,
    }


__all__ = ["inference_context"]
