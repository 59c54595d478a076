"""The policy lab page's read model: a saved study's JSON as table rows and a chart spec."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from computeport.web.i18n import Translate

__all__ = ["LabRow", "lab_chart", "lab_rows"]

HOUR_S = 3600
COLOURS = ("#1479b8", "#f2a541", "#0f9d8a", "#c53030", "#6b46c1", "#718096", "#d69e2e", "#2f855a")


@dataclass(frozen=True, slots=True)
class LabRow:
    scenario: str
    group: str
    jobs: int
    mean_h: float
    p50_h: float
    p95_h: float
    slowdown: float
    never_started: int


def lab_rows(result: dict[str, Any], grouping: str) -> list[LabRow]:
    """``grouping`` is ``by_category`` or ``by_org``; the overall row first per scenario."""
    out: list[LabRow] = []
    for s in result["scenarios"]:
        for g in [s["overall"], *s[grouping]]:
            out.append(
                LabRow(
                    s["name"],
                    g["group"],
                    g["jobs"],
                    g["wait_mean_s"] / HOUR_S,
                    g["wait_p50_s"] / HOUR_S,
                    g["wait_p95_s"] / HOUR_S,
                    g["slowdown_mean"],
                    g["never_started"],
                )
            )
    return out


def lab_chart(result: dict[str, Any], _: Translate) -> dict[str, Any]:
    """Mean wait (hours) per category, one bar per scenario (Plotly)."""
    groups = sorted({g["group"] for s in result["scenarios"] for g in s["by_category"]})
    x = [_("all"), *(_(g) for g in groups)]
    data = []
    for i, s in enumerate(result["scenarios"]):
        waits = {g["group"]: g["wait_mean_s"] / HOUR_S for g in s["by_category"]}
        y = [s["overall"]["wait_mean_s"] / HOUR_S, *(waits.get(g, 0.0) for g in groups)]
        data.append(
            {
                "type": "bar",
                "name": s["name"],
                "x": x,
                "y": [round(v, 3) for v in y],
                "marker": {"color": COLOURS[i % len(COLOURS)]},
            }
        )
    return {
        "data": data,
        "layout": {
            "barmode": "group",
            "yaxis": {"title": {"text": _("Mean wait (hours)")}, "gridcolor": "#e8edf3"},
        },
    }
