"""Supply: sites with dated capacity steps per accelerator type, as GPUs and GPU-hours a month.

A step sets the level of one accelerator type at one site from its date on (PFLOPS are turned
into whole nodes: ceil(PF / (PF per GPU × GPUs per node)) nodes). Sites are pooled for
simulation in *reference GPUs*: GPUs of the reference type with the same PFLOPS (FP16 dense
unless the scenario says otherwise), so an H800 at Cyberport and a faster GPU at Sandy Ridge
add up by their throughput. This assumes a federated queue across sites; no job here needs
more GPUs than one site holds.

A month is simulated with the capacity in place on its first day (a step on the 15th counts
from the next month: conservative); its GPU-hours are prorated by day for the supply curve.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from computeport.capacity.calendar import Month
from computeport.capacity.scenario import Accelerator, Scenario
from computeport.kit.errors import ValidationFailed

__all__ = [
    "AddedStep",
    "LevelStep",
    "MonthSupply",
    "SupplyPlan",
    "gpus_for_pflops",
    "supply_plan",
]


def gpus_for_pflops(pflops: float, acc: Accelerator) -> int:
    """GPUs in whole nodes giving at least ``pflops`` (3,000 PF of H800 at 0.99 → 3,032)."""
    if pflops < 0:
        raise ValidationFailed("pflops must be ≥ 0", field="pflops")
    per_node = acc.pflops_per_gpu * acc.gpus_per_node
    nodes = math.ceil(round(pflops / per_node, 9))
    return nodes * acc.gpus_per_node


@dataclass(frozen=True, slots=True)
class LevelStep:
    """From ``date`` on, ``site`` holds ``gpus`` GPUs of ``accelerator``."""

    site: str
    accelerator: str
    date: dt.date
    gpus: int
    assumption: bool = False
    note: str = ""


@dataclass(frozen=True, slots=True)
class AddedStep:
    """An increment the recommendation proposes: ``gpus`` more of a type at a site by a date."""

    site: str
    accelerator: str
    date: dt.date
    gpus: int


@dataclass(frozen=True, slots=True)
class MonthSupply:
    """The capacity of one month."""

    month: Month
    gpus: dict[tuple[str, str], int]
    """GPUs on the month's first day per (site, accelerator)."""
    reference_gpus: int
    """All sites pooled, in reference GPUs, whole nodes (what the month is simulated on)."""
    gpu_hours: float
    """Reference GPU-hours the month delivers at full use (prorated by day)."""
    pflops: float


@dataclass(frozen=True, slots=True)
class SupplyPlan:
    """Level steps plus added steps, evaluated month by month."""

    accelerators: dict[str, Accelerator]
    reference: str
    levels: tuple[LevelStep, ...]
    added: tuple[AddedStep, ...] = ()

    def with_added(self, steps: Iterable[AddedStep]) -> SupplyPlan:
        return SupplyPlan(self.accelerators, self.reference, self.levels, self.added + tuple(steps))

    def gpus_on(self, day: dt.date) -> dict[tuple[str, str], int]:
        """GPUs per (site, accelerator) in service on ``day``."""
        level: dict[tuple[str, str], tuple[dt.date, int]] = {}
        for step in self.levels:
            key = (step.site, step.accelerator)
            if step.date <= day and (key not in level or level[key][0] <= step.date):
                level[key] = (step.date, step.gpus)
        out = {k: g for k, (_, g) in level.items()}
        for add in self.added:
            if add.date <= day:
                key = (add.site, add.accelerator)
                out[key] = out.get(key, 0) + add.gpus
        return out

    def reference_gpus(self, gpus: dict[tuple[str, str], int]) -> float:
        ref = self.accelerators[self.reference].pflops_per_gpu
        return sum(g * self.accelerators[a].pflops_per_gpu / ref for (_, a), g in gpus.items())

    def pflops(self, gpus: dict[tuple[str, str], int]) -> float:
        return sum(g * self.accelerators[a].pflops_per_gpu for (_, a), g in gpus.items())

    def month(self, month: Month) -> MonthSupply:
        gpus = self.gpus_on(month.first)
        per_node = self.accelerators[self.reference].gpus_per_node
        ref = self.reference_gpus(gpus)
        whole = int(round(ref, 6) // per_node) * per_node  # 24 × 0.99 / 0.99 is 23.999…
        hours = 0.0
        for d in range(month.days):
            hours += 24 * self.reference_gpus(self.gpus_on(month.first + dt.timedelta(days=d)))
        return MonthSupply(month, gpus, whole, hours, self.pflops(gpus))

    def months(self, months: Sequence[Month]) -> list[MonthSupply]:
        return [self.month(m) for m in months]


def supply_plan(scenario: Scenario) -> SupplyPlan:
    """The scenario's supply: every step turned into a GPU level."""
    accs = {a.name: a for a in scenario.accelerators}
    levels: list[LevelStep] = []
    for site in scenario.sites:
        for step in site.steps:
            acc = accs[step.accelerator]
            gpus = step.gpus if step.gpus is not None else gpus_for_pflops(step.pflops or 0.0, acc)
            levels.append(
                LevelStep(
                    site.name,
                    step.accelerator,
                    step.date,
                    gpus,
                    step.assumption or site.assumption,
                    step.note,
                )
            )
    levels.sort(key=lambda s: (s.date, s.site, s.accelerator))
    return SupplyPlan(accs, scenario.reference_accelerator, tuple(levels))
