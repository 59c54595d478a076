"""The loaded inventory read back as a declaration: what the capacity planner plans from with
``--db`` (both engines).  It equals the file it was loaded from, and carries what changed in the
database since (the demo's Sandy Ridge commissioned on the scenario's day)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy.orm import Session

from computeport.capacity.inventory_supply import scenario_from_inventory
from computeport.capacity.scenario import load_scenario
from computeport.inventory.declaration import parse_inventory
from computeport.inventory.export import declaration_of
from computeport.inventory.loader import load_inventory
from computeport.inventory.repository import cluster_named
from computeport.kit.clock import ManualClock
from computeport.seed.demo_centre import DEMO_INVENTORY
from tests.inventory.inventory_files import cyberport_text

ROOT = Path(__file__).resolve().parents[2]


def test_none_before_an_inventory_is_loaded(session: Session) -> None:
    assert declaration_of(session) is None


def test_the_database_gives_back_the_file_it_was_loaded_from(
    session: Session, clock: ManualClock
) -> None:
    for text in (cyberport_text(), DEMO_INVENTORY.read_text(encoding="utf-8")):
        decl = parse_inventory(text)
        load_inventory(session, decl, actor_id=None, at=clock.now(), source="c.toml")
        session.flush()
        assert declaration_of(session) == decl


def test_the_plan_follows_the_database_not_the_file(session: Session, clock: ManualClock) -> None:
    decl = parse_inventory(DEMO_INVENTORY.read_text(encoding="utf-8"))
    load_inventory(session, decl, actor_id=None, at=clock.now(), source="demo")
    ridge = cluster_named(session, "sandy-ridge-a")
    assert ridge is not None
    ridge.commissioned = dt.date(2026, 12, 12)  # the demo commissions it a week after seeding
    session.flush()
    scenario = load_scenario(ROOT / "scenarios" / "cyberport.toml")
    current = declaration_of(session)
    assert current is not None
    planned = scenario_from_inventory(scenario, current, "the database")
    sandy = next(s for s in planned.sites if s.name == "Sandy Ridge")
    assert [(t.date, t.accelerator, t.gpus) for t in sandy.steps] == [
        (dt.date(2026, 12, 12), "cn-accel-a", 2048)
    ]  # the file still says 2027-07-01
