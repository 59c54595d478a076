"""The plan's answer to the seed's question, from its flows: when queues explode, which flow
drives it, when the envelope runs out, and how the build compares with the city's target.

Why a separate module: the service assembles a plan; what the plan *says* is a reading of its
months that the CLI, the portal and the tests share, so it lives in one place.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from computeport.capacity.evaluate import MonthPlan

__all__ = ["city_line", "driving_flow", "flow_sentences"]


def driving_flow(months: Sequence[MonthPlan], at: MonthPlan) -> str | None:
    """The flow whose p50 grew most from the horizon's first month to ``at`` (the driver)."""
    if not at.flows or not months:
        return None
    first = months[0].flows
    growth = {name: band.p50 - first[name].p50 for name, band in at.flows.items()}
    return max(growth, key=lambda k: growth[k])


def city_line(
    pflops: float | None, by: dt.date | None, reference_pflops_per_gpu: float
) -> dict[str, Any] | None:
    """The city's target as GPU-hours a month of the reference accelerator (for the chart)."""
    if pflops is None:
        return None
    gpus = pflops / reference_pflops_per_gpu
    return {
        "pflops": pflops,
        "by": by.isoformat() if by else None,
        "gpu_hours_month": round(gpus * 24 * 365.25 / 12, 1),
    }


def flow_sentences(
    months: Sequence[MonthPlan],
    first_broken: MonthPlan | None,
    exhausted: MonthPlan | None,
    built_pflops: float | None,
    city: dict[str, Any] | None,
    copay: tuple[float, float] | None = None,
) -> str:
    """What the flows add to the answer (empty without ``[demand.flows]``).

    ``copay``: the elasticity and the share of demand it keeps at the full price.
    """
    if not months or not months[0].flows:
        return ""
    parts: list[str] = []
    driver = None if first_broken is None else driving_flow(months, first_broken)
    if first_broken is not None and driver is not None:
        share = first_broken.flows[driver].p50 / max(1.0, first_broken.demand_gpu_hours.p50)
        parts.append(
            f"Queues explode from {first_broken.label}, driven by {_name(driver)} "
            f"({share:.0%} of that month's demand)."
        )
    if exhausted is None:
        parts.append("The envelope lasts the whole horizon (p50).")
    else:
        kept = ""
        if copay is not None:
            kept = f" ({copay[1]:.0%} of it at a price elasticity of {copay[0]:g}, assumed)"
        parts.append(
            f"The envelope runs out in {exhausted.label} (p50); after it, demand that pays the "
            f"full price stays as co-paying demand{kept}."
        )
    if city is not None and built_pflops is not None:
        verdict = "meets" if built_pflops >= city["pflops"] else "falls short of"
        parts.append(
            f"With the build, supply reaches {built_pflops:,.0f} PF, which {verdict} the "
            f"city's {city['pflops']:,.0f} PF target"
            + (f" for {city['by'][:4]}." if city.get("by") else ".")
        )
    return " ".join(parts)


def _name(flow: str | None) -> str:
    return {
        "committed": "committed awards",
        "pipeline": "the application pipeline",
        "renewals": "renewals",
        "new_entrants": "new entrants",
        "copay": "co-paying demand",
    }.get(flow or "", flow or "?")
