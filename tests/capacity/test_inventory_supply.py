"""Capacity planning from the real inventory: the clusters as configured are the supply, and
the recommendation names a site of the file and the accelerator type to add there."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from computeport.capacity.errors import ScenarioError
from computeport.capacity.inventory_supply import scenario_from_inventory
from computeport.capacity.scenario import load_scenario
from computeport.cli.main import app
from computeport.inventory.declaration import parse_inventory
from tests.capacity.test_cli import write
from tests.inventory.inventory_files import cyberport_text

ROOT = Path(__file__).resolve().parents[2]

TWO_SITES = """\
[accelerators.h800]
vendor = "NVIDIA"
model = "H800"
memory_gb = 80
peak_pflops = 0.99

[accelerators.fast]
vendor = "Vendor"
model = "Fast"
memory_gb = 96
peak_pflops = 1.98

[sites.a]
name = "A"
opened = 2024-12-01

[sites.b]
name = "B"
status = "planned"

[clusters.a-one]
site = "a"
backend = "sim"

[clusters.a-one.partitions.gpu]
accelerator = "h800"
gpus_per_node = 8
nodes = 4

[clusters.b-one]
site = "b"
backend = "sim"
status = "planned"
commissioned = 2025-02-01

[clusters.b-one.partitions.gpu]
accelerator = "fast"
gpus_per_node = 8
nodes = 1
"""


def test_the_cyberport_scenario_plans_on_the_inventory() -> None:
    scenario = load_scenario(ROOT / "scenarios" / "cyberport.toml")
    planned = scenario_from_inventory(scenario, parse_inventory(cyberport_text()), "c.toml")
    assert [a.name for a in planned.accelerators] == ["h800", "cn-accel-a"]
    assert planned.reference_accelerator == "h800"  # the scenario's H800, the file's name
    steps = {s.name: [(t.date, t.accelerator, t.gpus) for t in s.steps] for s in planned.sites}
    assert steps == {
        "Cyberport": [(dt.date(2024, 12, 9), "h800", 3040)],
        "Sandy Ridge": [(dt.date(2027, 7, 1), "cn-accel-a", 2048)],  # planned, dated
    }
    assert planned.recommend is not None
    assert (planned.recommend.site, planned.recommend.accelerator) == ("Sandy Ridge", "cn-accel-a")
    assert {a.accelerator for a in planned.demand.awards} == {"h800"}


def test_levels_add_up_per_type_as_clusters_enter_service() -> None:
    scenario = load_scenario(ROOT / "scenarios" / "cyberport.toml")
    text = cyberport_text() + (
        '\n[clusters.cyberport-b]\nsite = "cyberport"\nbackend = "sim"\n'
        "commissioned = 2026-03-01\n\n[clusters.cyberport-b.partitions.gpu]\n"
        'accelerator = "h800"\ngpus_per_node = 8\nnodes = 10\n'
        '\n[clusters.old]\nsite = "cyberport"\nbackend = "sim"\nstatus = "retired"\n'
        '\n[clusters.old.partitions.gpu]\naccelerator = "h800"\ngpus_per_node = 8\nnodes = 99\n'
    )
    planned = scenario_from_inventory(scenario, parse_inventory(text), "c.toml")
    cyberport = next(s for s in planned.sites if s.name == "Cyberport")
    assert [(t.date, t.gpus) for t in cyberport.steps] == [
        (dt.date(2024, 12, 9), 3040),
        (dt.date(2026, 3, 1), 3040 + 80),  # a level, not an increment; the retired one: none
    ]


def test_a_recommended_site_the_inventory_lacks_is_refused_by_name() -> None:
    scenario = load_scenario(ROOT / "scenarios" / "cyberport.toml")
    text = cyberport_text().replace('name = "Sandy Ridge"', 'name = "Tseung Kwan O"')
    with pytest.raises(ScenarioError) as refused:
        scenario_from_inventory(scenario, parse_inventory(text), "c.toml")
    assert refused.value.problems[0][0] == "recommend.site"
    assert "Tseung Kwan O" in refused.value.message


def test_plan_with_an_inventory_recommends_its_site_and_type(
    tmp_path: Path, small_trace: Path
) -> None:
    inventory = tmp_path / "centre.toml"
    inventory.write_text(TWO_SITES, encoding="utf-8")
    scenario = write(tmp_path, "10000")
    # the file stays a valid scenario on its own (its site B is ignored: the inventory's is used)
    extra = '\n[[sites]]\nname = "B"\n  [[sites.steps]]\n  date = 2030-01-01\n'
    extra += '  accelerator = "H800"\n  gpus = 8\n'
    text = scenario.read_text().replace('site = "A"', 'site = "B"')
    scenario.write_text(text.replace("[demand.organisations]", extra + "\n[demand.organisations]"))
    out = tmp_path / "plan.json"
    args = ["capacity", "plan", str(scenario), "--inventory", str(inventory), "--out", str(out)]
    result = CliRunner().invoke(app, [*args, "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert f"supply: the clusters of {inventory} (A, B)" in " ".join(result.output.split())
    plan = json.loads(out.read_text())
    steps = plan["recommendation"]["steps"]
    assert steps
    assert {(s["site"], s["accelerator"]) for s in steps} == {("B", "fast")}


def test_plan_with_a_bad_inventory_exits_2_naming_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(TWO_SITES.replace("nodes = 4", "nodes = 0"), encoding="utf-8")
    result = CliRunner().invoke(
        app, ["capacity", "plan", str(write(tmp_path)), "--inventory", str(bad)]
    )
    assert result.exit_code == 2
    assert "clusters.a-one.partitions.gpu.nodes" in result.output
