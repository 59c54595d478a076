"""The supply side of a capacity plan from the centre's inventory, not a hand-written list.

A scenario file describes demand, policy and targets, and (for a centre with no inventory)
its supply: sites with dated capacity steps.  When an inventory is given
(``computeport capacity plan SCENARIO --inventory FILE``, or ``COMPUTEPORT_INVENTORY_FILE``),
its clusters *are* the supply, and the scenario's own ``[[sites]]`` and ``[[accelerators]]`` are
replaced:

- each accelerator type of the file, with its peak per GPU and precision; its GPUs per node
  are its partitions' (the most common size, for the build search's whole nodes);
- each site (by its name, e.g. "Sandy Ridge") with one step per accelerator type at each date
  a cluster enters service: the cluster's ``commissioned`` date (the site's ``opened``, else
  the horizon's start, when it has none).  Active and planned clusters count from that date;
  retired ones not at all (the file keeps no retirement date).  A planned cluster with no
  date has no step: a plan cannot place what has no date;
- the recommendation names a site of the file (the scenario's ``recommend.site``, matched by
  name or key) and the accelerator type to add there: that site's newest type (its latest
  commissioned cluster's), else the scenario's own choice, kept as an extra type.

Names are matched without case (the scenario's ``H800`` is the file's ``h800``), so the
scenario's awards and reference type keep pointing at the right type.  The result goes
through the scenario's own validation, so an inventory that leaves an award's type or the
reference type without a definition is reported as a scenario problem.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from typing import Any

from computeport.capacity.errors import ScenarioError
from computeport.capacity.scenario import Scenario, check_scenario
from computeport.inventory.declaration import ClusterStatus, InventoryDecl

__all__ = ["scenario_from_inventory"]


def _renamer(scenario: Scenario, decl: InventoryDecl) -> dict[str, str]:
    """Scenario type name → the file's, matched without case; unmatched names stay."""
    by_lower = {name.lower(): name for name in decl.accelerators}
    return {a.name: by_lower.get(a.name.lower(), a.name) for a in scenario.accelerators}


def _accelerators(scenario: Scenario, decl: InventoryDecl, keep: set[str]) -> list[dict[str, Any]]:
    sizes: dict[str, Counter[int]] = defaultdict(Counter)
    for cluster in decl.clusters.values():
        for part in cluster.partitions.values():
            sizes[part.accelerator][part.gpus_per_node] += part.nodes
    out = [
        {
            "name": name,
            "pflops_per_gpu": float(acc.peak_pflops),
            "gpus_per_node": sizes[name].most_common(1)[0][0] if sizes[name] else 8,
            "precision": acc.precision,
            "assumption": acc.assumption is not None,
            "note": acc.assumption or f"{acc.vendor} {acc.model} (inventory)",
        }
        for name, acc in decl.accelerators.items()
    ]
    out += [a.model_dump() for a in scenario.accelerators if a.name in keep]
    return out


def _when(decl: InventoryDecl, name: str, start: dt.date) -> dt.date | None:
    cluster = decl.clusters[name]
    if cluster.status == ClusterStatus.RETIRED:
        return None
    if cluster.commissioned is not None:
        return cluster.commissioned
    if cluster.status == ClusterStatus.PLANNED:
        return None
    return decl.sites[cluster.site].opened or start


def _site_steps(decl: InventoryDecl, key: str, start: dt.date) -> list[dict[str, Any]]:
    """Levels per type at each date a cluster of the site enters service (cumulative)."""
    added: dict[tuple[dt.date, str], int] = defaultdict(int)
    for name, cluster in decl.clusters.items():
        when = _when(decl, name, start) if cluster.site == key else None
        if when is None:
            continue
        for part in cluster.partitions.values():
            added[(when, part.accelerator)] += part.gpus_per_node * part.nodes
    level: dict[str, int] = defaultdict(int)
    steps: list[dict[str, Any]] = []
    for (when, kind), gpus in sorted(added.items()):
        level[kind] += gpus
        steps.append({"date": when, "accelerator": kind, "gpus": level[kind], "note": "inventory"})
    return steps


def _newest_type(decl: InventoryDecl, key: str, start: dt.date) -> str | None:
    dated = [
        (when, part.accelerator)
        for name, cluster in decl.clusters.items()
        if cluster.site == key and (when := _when(decl, name, start)) is not None
        for part in cluster.partitions.values()
    ]
    return max(dated)[1] if dated else None


def scenario_from_inventory(scenario: Scenario, decl: InventoryDecl, source: str) -> Scenario:
    """``scenario`` with its supply (sites, accelerator types, the recommendation's site and
    type) taken from the inventory ``decl``; :class:`ScenarioError` when that leaves it invalid."""
    rename = _renamer(scenario, decl)
    data = scenario.model_dump()
    sites = [
        {
            "name": site.name,
            "steps": steps,
            "assumption": site.assumption is not None,
            "note": site.assumption or f"from the inventory {source}",
        }
        for key, site in decl.sites.items()
        if (steps := _site_steps(decl, key, scenario.start))
    ]
    if not sites:
        raise ScenarioError(source, [("clusters", "no cluster in service or dated: no supply")])
    keep: set[str] = set()
    recommend = data.get("recommend")
    if recommend is not None:
        wanted = str(recommend["site"]).lower()
        match = next(
            (k for k, s in decl.sites.items() if wanted in (k.lower(), s.name.lower())), None
        )
        if match is None:
            known = ", ".join(s.name for s in decl.sites.values())
            raise ScenarioError(
                source, [("recommend.site", f"not a site of the inventory (sites: {known})")]
            )
        recommend["site"] = decl.sites[match].name
        newest = _newest_type(decl, match, scenario.start)
        recommend["accelerator"] = newest or rename[recommend["accelerator"]]
        if newest is None and recommend["accelerator"] not in decl.accelerators:
            keep.add(recommend["accelerator"])
    for award in data["demand"]["awards"]:
        award["accelerator"] = rename.get(award["accelerator"], award["accelerator"])
        if award["accelerator"] not in decl.accelerators:
            keep.add(award["accelerator"])
    data["reference_accelerator"] = rename.get(
        scenario.reference_accelerator, scenario.reference_accelerator
    )
    data["accelerators"] = _accelerators(scenario, decl, keep)
    data["sites"] = sites
    return check_scenario(data, source)
