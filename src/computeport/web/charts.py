"""Plotly chart specifications (``{"data": [...], "layout": {...}}``) built on the server.

Pages embed a spec as JSON; ``static/app.js`` draws it with plotly.js served from the installed
plotly package.  Building plain dicts (not ``plotly.graph_objects``) keeps rendering fast and the
specs easy to test.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

ChartSpec = dict[str, Any]

PALETTE = (
    "#1479b8",
    "#0f9d8a",
    "#f2a541",
    "#8e6bbf",
    "#e2634f",
    "#5bb3e6",
    "#7a8b99",
    "#c3d94e",
)
TARGET_COLOUR = "#c53030"


def _axis(title: str = "", **extra: Any) -> dict[str, Any]:
    axis: dict[str, Any] = {"title": {"text": title}, "gridcolor": "#e8edf3", "zeroline": False}
    axis.update(extra)
    return axis


def stacked_area(
    x: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | int]]],
    *,
    y_title: str,
    capacity: Sequence[float | int] | None = None,
    capacity_label: str = "Capacity",
    threshold: float | None = None,
    threshold_label: str = "90% target",
) -> ChartSpec:
    """Stacked areas (e.g. GPUs in use by partition) with optional capacity and target lines."""
    data: list[dict[str, Any]] = []
    for index, (name, values) in enumerate(series):
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": name,
                "x": list(x),
                "y": list(values),
                "stackgroup": "one",
                "line": {"width": 0.5, "color": PALETTE[index % len(PALETTE)]},
            }
        )
    if capacity is not None:
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": capacity_label,
                "x": list(x),
                "y": list(capacity),
                "line": {"color": "#152033", "width": 2},
            }
        )
        if threshold is not None:
            data.append(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "name": threshold_label,
                    "x": list(x),
                    "y": [round(c * threshold, 2) for c in capacity],
                    "line": {"color": TARGET_COLOUR, "width": 1.5, "dash": "dash"},
                }
            )
    return {"data": data, "layout": {"yaxis": _axis(y_title), "xaxis": _axis()}}


def lines(
    x: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | int | None]]],
    *,
    y_title: str,
    dashed: Sequence[str] = (),
    hlines: Sequence[tuple[str, float]] = (),
) -> ChartSpec:
    """Plain lines; names in ``dashed`` are drawn dashed; ``hlines`` are labelled targets."""
    data: list[dict[str, Any]] = []
    for index, (name, values) in enumerate(series):
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers" if len(x) <= 40 else "lines",
                "name": name,
                "x": list(x),
                "y": list(values),
                "line": {
                    "color": PALETTE[index % len(PALETTE)],
                    "width": 2.2,
                    "dash": "dash" if name in dashed else "solid",
                },
            }
        )
    for index, (name, level) in enumerate(hlines):
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": name,
                "x": [x[0], x[-1]] if x else [],
                "y": [level, level],
                "line": {"color": TARGET_COLOUR if index == 0 else "#8e6bbf", "dash": "dot"},
            }
        )
    return {"data": data, "layout": {"yaxis": _axis(y_title), "xaxis": _axis()}}


def bars(
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | int]]],
    *,
    y_title: str,
    stacked: bool = False,
    horizontal: bool = False,
) -> ChartSpec:
    """Grouped (or stacked) bars, one trace per series."""
    data: list[dict[str, Any]] = []
    for index, (name, values) in enumerate(series):
        trace: dict[str, Any] = {
            "type": "bar",
            "name": name,
            "marker": {"color": PALETTE[index % len(PALETTE)]},
        }
        if horizontal:
            trace.update(x=list(values), y=list(categories), orientation="h")
        else:
            trace.update(x=list(categories), y=list(values))
        data.append(trace)
    layout: dict[str, Any] = {
        "barmode": "stack" if stacked else "group",
        "hovermode": "closest",
        "yaxis": _axis("" if horizontal else y_title, automargin=True, **category_axis(horizontal)),
        "xaxis": _axis(
            y_title if horizontal else "", automargin=True, **category_axis(not horizontal)
        ),
    }
    if len(series) == 1:
        layout["showlegend"] = False
    return {"data": data, "layout": layout}


def category_axis(categorical: bool) -> dict[str, Any]:
    """Bars' category axis: labels as given (``2026-11`` is a month label, not a date)."""
    return {"type": "category"} if categorical else {}


def funnel(stages: Sequence[tuple[str, int]]) -> ChartSpec:
    """An applications funnel: submitted → … → approved."""
    return {
        "data": [
            {
                "type": "funnel",
                "y": [name for name, _ in stages],
                "x": [count for _, count in stages],
                "textinfo": "value+percent initial",
                "marker": {"color": [PALETTE[i % len(PALETTE)] for i in range(len(stages))]},
            }
        ],
        "layout": {"hovermode": "closest", "margin": {"l": 140, "r": 16, "t": 8, "b": 24}},
    }


def donut(slices: Sequence[tuple[str, float | int]]) -> ChartSpec:
    """Shares of a whole (e.g. awards by category)."""
    return {
        "data": [
            {
                "type": "pie",
                "hole": 0.55,
                "labels": [name for name, _ in slices],
                "values": [value for _, value in slices],
                "marker": {"colors": [PALETTE[i % len(PALETTE)] for i in range(len(slices))]},
                "textinfo": "percent",
                "sort": False,
            }
        ],
        "layout": {"hovermode": "closest", "margin": {"l": 8, "r": 8, "t": 8, "b": 8}},
    }


def has_data(spec: ChartSpec) -> bool:
    """Whether any trace has a non-zero value (pages show "No data yet." instead of a blank)."""
    for trace in spec["data"]:
        values = trace.get("values") or trace.get("y") or []
        if trace.get("orientation") == "h" or trace.get("type") == "funnel":
            values = trace.get("x") or []
        if any(v not in (0, None) for v in values if isinstance(v, int | float)):
            return True
    return False
