"""Installed compute by site over time against the city's targets.

Until the capacity-planning service publishes its plan to the portal, the timeline is the
public record of DESIGN.md's Cyberport scenario (dates of the 2025 ramp are assumptions, marked
so) plus what the cluster back end reports as installed now (GPUs × FP16 dense peak).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from computeport.backends import NodeInfo
from computeport.kit.accelerators import ACCELERATORS

CYBERPORT_TARGET_PF = 3_000
CITY_TARGET_PF = 15_000
"""Hong Kong's 2030 target for the city's AI compute."""


@dataclass(frozen=True)
class Step:
    """A site's installed (or planned) PFLOPS from a date on."""

    site: str
    since: date
    pflops: int
    planned: bool = False
    assumption: bool = False
    note: str = ""


TIMELINE: tuple[Step, ...] = (
    Step("Cyberport", date(2024, 12, 9), 1_300, note="AISC opens with 1,300 PF"),
    Step("Cyberport", date(2025, 4, 1), 2_000, assumption=True, note="ramp during 2025"),
    Step("Cyberport", date(2025, 9, 1), 3_000, note="3,000 PF reached in 2025"),
    Step("Sandy Ridge", date(2028, 1, 1), 20_000, planned=True, assumption=True),
    Step("Sandy Ridge", date(2030, 1, 1), 90_000, planned=True, assumption=True),
    Step("Sandy Ridge", date(2032, 1, 1), 180_000, planned=True, note="180,000 PF by 2032"),
)
"""Public facts (notes/cyberport-facts.md); intermediate dates are assumptions."""


def installed_pflops(nodes: list[NodeInfo]) -> Decimal:
    """PFLOPS installed on the cluster now (FP16 dense peak of each node's GPUs)."""
    total = Decimal(0)
    for node in nodes:
        spec = ACCELERATORS.get(node.gpu_type or "")
        peak = spec.peak("fp16") if spec is not None else None
        if peak is not None:
            total += peak * node.gpus / 1000
    return total


def quarters(first: date, last: date) -> list[date]:
    days: list[date] = []
    year, month = first.year, 1 + 3 * ((first.month - 1) // 3)
    while date(year, month, 1) <= last:
        days.append(date(year, month, 1))
        year, month = (year + 1, 1) if month == 10 else (year, month + 3)
    return days


def level_on(site: str, day: date, *, planned: bool) -> int:
    """A site's PFLOPS on ``day`` (installed steps, or planned ones when ``planned``)."""
    level = 0
    for step in TIMELINE:
        if step.site == site and step.since <= day and step.planned == planned:
            level = step.pflops
    return level
