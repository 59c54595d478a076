"""Plotly series for the five flows and the city's target, from a saved plan's dict.

Each flow gets its own p10–p90 band and p50 line (the issue's "each flow shown separately with
its band"), and the envelope's exhaustion month is marked, so a reader sees which flow carries
demand when, and where the subsidy stops.
"""

from __future__ import annotations

from typing import Any

__all__ = ["FLOW_COLOURS", "city_trace", "flows_figure"]

FLOW_COLOURS = {
    "committed": "rgb(31,119,180)",
    "pipeline": "rgb(255,127,14)",
    "renewals": "rgb(44,160,44)",
    "new_entrants": "rgb(148,103,189)",
    "copay": "rgb(140,86,75)",
}


def flows_figure(plan: dict[str, Any]) -> dict[str, Any] | None:
    """Demand by flow with bands (``None`` for a plan without flows)."""
    months = plan["months"]
    if not months or not months[0].get("flows"):
        return None
    x = [m["label"] for m in months]
    data: list[dict[str, Any]] = []
    for name, colour in FLOW_COLOURS.items():
        if name not in months[0]["flows"]:
            continue
        band = [m["flows"][name] for m in months]
        fill = colour.replace("rgb", "rgba").replace(")", ",0.15)")
        data += [
            {
                "type": "scatter",
                "x": x,
                "y": [b["p90"] for b in band],
                "mode": "lines",
                "line": {"width": 0},
                "showlegend": False,
                "hoverinfo": "skip",
                "name": f"{name} p90",
            },
            {
                "type": "scatter",
                "x": x,
                "y": [b["p10"] for b in band],
                "mode": "lines",
                "line": {"width": 0},
                "fill": "tonexty",
                "fillcolor": fill,
                "showlegend": False,
                "name": f"{name} p10–p90",
            },
            {
                "type": "scatter",
                "x": x,
                "y": [b["p50"] for b in band],
                "mode": "lines",
                "line": {"color": colour},
                "name": name.replace("_", " "),
            },
        ]
    shapes: list[dict[str, Any]] = []
    notes: list[dict[str, Any]] = []
    exhausted = plan.get("envelope_exhausted")
    if exhausted:
        shapes.append(
            {
                "type": "line",
                "xref": "x",
                "yref": "paper",
                "x0": exhausted,
                "x1": exhausted,
                "y0": 0,
                "y1": 1,
                "line": {"color": "rgb(140,86,75)", "dash": "dash"},
            }
        )
        notes.append(
            {
                "x": exhausted,
                "y": 1,
                "xref": "x",
                "yref": "paper",
                "text": "envelope runs out",
                "showarrow": False,
                "yanchor": "bottom",
            }
        )
    return {
        "data": data,
        "layout": {
            "title": "Demand by flow (reference GPU-hours a month, p10–p90 bands)",
            "shapes": shapes,
            "annotations": notes,
        },
    }


def city_trace(plan: dict[str, Any]) -> dict[str, Any] | None:
    """The city's PFLOPS target as a flat line of GPU-hours a month on the supply chart."""
    city = plan.get("city_target")
    if not city or not plan["months"]:
        return None
    x = [m["label"] for m in plan["months"]]
    by = f" by {city['by'][:4]}" if city.get("by") else ""
    return {
        "type": "scatter",
        "x": x,
        "y": [city["gpu_hours_month"]] * len(x),
        "mode": "lines",
        "line": {"color": "rgb(200,0,0)", "dash": "dashdot"},
        "name": f"city target {city['pflops']:,.0f} PF{by}",
    }
