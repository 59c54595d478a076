"""A plan as a picture (matplotlib, Agg): supply vs demand, utilisation and median-wait bands.

Three panels share the month axis (four with the scheme's flows: demand by flow, each with
its band, and the envelope's exhaustion month); each band is p10–p90 over seeds with its p50
line; the targets are dotted lines, the city's PFLOPS target a dash-dotted line on the supply
panel, the first broken month a red dashed line, and the recommended steps (if any) are
marked on the supply panel.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

__all__ = ["plot_plan"]


def _band(
    ax: Any,
    x: list[int],
    months: list[dict[str, Any]],
    key: str,
    scale: float,
    colour: str,
    label: str,
) -> None:
    lo = [m[key]["p10"] * scale for m in months]
    mid = [m[key]["p50"] * scale for m in months]
    hi = [m[key]["p90"] * scale for m in months]
    ax.fill_between(x, lo, hi, color=colour, alpha=0.2, linewidth=0, label=f"{label} p10–p90")
    ax.plot(x, mid, color=colour, label=f"{label} p50")


FLOW_COLOURS = {
    "committed": "tab:blue",
    "pipeline": "tab:orange",
    "renewals": "tab:green",
    "new_entrants": "tab:purple",
    "copay": "tab:brown",
}


def _flows(ax: Any, x: list[int], labels: list[str], plan: dict[str, Any]) -> None:
    """Demand by flow, each with its own band, and where the envelope runs out."""
    months = plan["months"]
    for name, colour in FLOW_COLOURS.items():
        if name not in months[0]["flows"]:
            continue
        lo = [m["flows"][name]["p10"] / 1e6 for m in months]
        mid = [m["flows"][name]["p50"] / 1e6 for m in months]
        hi = [m["flows"][name]["p90"] / 1e6 for m in months]
        ax.fill_between(x, lo, hi, color=colour, alpha=0.15, linewidth=0)
        ax.plot(x, mid, color=colour, label=name.replace("_", " "))
    ax.set_ylabel("M GPU-hours / month")
    ax.set_title("demand by flow (p50, p10–p90 bands)", fontsize=9)
    gone = plan.get("envelope_exhausted")
    if gone in labels:
        at = labels.index(gone)
        ax.axvline(at, color="tab:brown", linestyle="--", linewidth=1)
        ax.text(at, ax.get_ylim()[1] * 0.9, f" envelope runs out: {gone}", fontsize=8)


def plot_plan(plan: dict[str, Any], path: Path | str) -> Path:
    """Draw ``plan`` (a :meth:`CapacityPlan.to_dict`) to a PNG at ``path``."""
    months = plan["months"]
    labels = [m["label"] for m in months]
    x = list(range(len(months)))
    with_flows = bool(months and months[0].get("flows"))
    fig, axes = plt.subplots(4 if with_flows else 3, 1, figsize=(11, 13 if with_flows else 10))
    for ax in axes[1:]:
        ax.sharex(axes[0])
    for ax in axes[:-1]:
        ax.tick_params(labelbottom=False)  # the month labels once, under the last panel
    ax_s, ax_u, ax_w = axes[0], axes[-2], axes[-1]
    if with_flows:
        _flows(axes[1], x, labels, plan)
    city = plan.get("city_target")
    if city:
        by = f" by {city['by'][:4]}" if city.get("by") else ""
        ax_s.axhline(
            city["gpu_hours_month"] / 1e6,
            color="darkred",
            linestyle="-.",
            label=f"city target {city['pflops']:,.0f} PF{by}",
        )
    ax_s.step(
        x,
        [m["supply_gpu_hours"] / 1e6 for m in months],
        where="post",
        color="black",
        label="supply",
    )
    ax_s.plot(
        x,
        [m["committed_gpu_hours"] / 1e6 for m in months],
        ":",
        color="grey",
        label="committed (awards)",
    )
    _band(ax_s, x, months, "demand_gpu_hours", 1e-6, "tab:blue", "demand")
    ax_s.set_ylabel("M GPU-hours / month")
    ax_s.set_title(
        f"{plan['scenario']}: {plan['seeds']} seeds, {plan['reference_accelerator']}-"
        "equivalent GPU-hours"
    )
    _band(ax_u, x, months, "utilisation", 100.0, "tab:green", "utilisation")
    ax_u.axhline(plan["targets"]["max_utilisation"] * 100, color="grey", linestyle=":")
    ax_u.set_ylabel("utilisation %")
    ax_u.set_ylim(0, 105)
    _band(ax_w, x, months, "wait_p50_h", 1.0, "tab:red", "median wait")
    ax_w.axhline(plan["targets"]["max_median_wait_hours"], color="grey", linestyle=":")
    ax_w.set_ylabel("median wait (h)")
    rec = plan.get("recommendation") or {}
    verified = rec.get("verified")
    if verified:
        after = verified["months"]
        ax_s.step(
            x,
            [m["supply_gpu_hours"] / 1e6 for m in after],
            where="post",
            color="purple",
            linestyle="--",
            label="supply with recommended steps",
        )
        ax_u.plot(
            x,
            [m["utilisation"]["p50"] * 100 for m in after],
            "--",
            color="purple",
            label="with recommended steps p50",
        )
        ax_w.plot(
            x,
            [m["wait_p50_h"]["p50"] for m in after],
            "--",
            color="purple",
            label="with recommended steps p50",
        )
    for step in rec.get("steps", []):
        label = step["date"][:7]
        if label in labels:
            ax_s.annotate(
                f"+{step['gpus']:,} {step['accelerator']}",
                (labels.index(label), 0),
                xytext=(0, 12),
                textcoords="offset points",
                color="purple",
                fontsize=8,
                arrowprops={"arrowstyle": "->", "color": "purple"},
            )
    broken = plan.get("first_broken")
    if broken:
        at = labels.index(broken["label"])
        for ax in axes:
            ax.axvline(at, color="red", linestyle="--", linewidth=1)
        ax_u.text(at, 102, f" first broken: {broken['label']}", color="red", fontsize=8)
    step = max(1, len(x) // 20)
    ax_w.set_xticks(x[::step], labels[::step], rotation=45, ha="right")
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
