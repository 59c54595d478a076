"""A planned virtual cluster is in service from its commissioning date, as the worker opens it.

The demo's Sandy Ridge is ``planned`` in the inventory with a date; the worker opens the virtual
cluster when the centre's clock reaches it.  From that day the API and the sites page say
``active`` (cluster and site) and count its capacity as in service; the day before they say
``planned``.  A planned *Slurm* cluster waits for the operator: its date alone changes nothing.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from fastapi.testclient import TestClient

from computeport.inventory.declaration import parse_inventory
from computeport.inventory.loader import load_inventory
from computeport.inventory.service_status import cluster_status_on, site_status_on
from computeport.models.centre import CentreCluster
from computeport.models.identity import Role
from computeport.seed.demo_centre import DEMO_INVENTORY
from tests.api.fixtures import World
from tests.inventory.inventory_files import cyberport_text

OPENS = date(2027, 7, 1)


def _load(world: World, text: str) -> None:
    decl = parse_inventory(text)
    load_inventory(world.session, decl, actor_id=None, at=world.clock.now(), source="c.toml")
    world.session.flush()


def _statuses(world: World, client: TestClient) -> tuple[str, str]:
    operator = world.actors.staff(Role.OPERATOR)
    cluster = client.get("/api/v1/clusters/sandy-ridge-a", headers=operator.headers).json()
    sites = {s["key"]: s for s in client.get("/api/v1/sites", headers=operator.headers).json()}
    return cluster["status"], sites["sandy-ridge"]["status"]


def test_a_planned_virtual_cluster_is_active_from_its_date(
    world: World, client: TestClient
) -> None:
    _load(world, DEMO_INVENTORY.read_text(encoding="utf-8"))
    world.clock.set(datetime(2027, 6, 30, 23, 59, tzinfo=UTC))
    assert _statuses(world, client) == ("planned", "planned")
    world.clock.set(datetime(2027, 7, 1, tzinfo=UTC))  # midnight UTC: the worker opens it
    assert _statuses(world, client) == ("active", "active")
    # The inventory keeps the operator's word: nothing was rewritten.
    row = world.session.query(CentreCluster).filter_by(name="sandy-ridge-a").one()
    world.session.refresh(row)
    assert row.status == "planned"


def test_a_planned_slurm_cluster_waits_for_the_operator(world: World, client: TestClient) -> None:
    _load(world, cyberport_text())
    world.clock.set(datetime(2028, 1, 1, tzinfo=UTC))  # long past its date
    assert _statuses(world, client) == ("planned", "planned")


def test_status_rules_on_the_rows(world: World) -> None:
    _load(world, DEMO_INVENTORY.read_text(encoding="utf-8"))
    row = world.session.query(CentreCluster).filter_by(name="sandy-ridge-a").one()
    assert cluster_status_on(row, OPENS - timedelta(days=1)) == "planned"
    assert cluster_status_on(row, OPENS) == "active"
    assert site_status_on(row.site, OPENS) == "active"
    row.status = "retired"  # a retired cluster stays retired whatever its date
    assert cluster_status_on(row, OPENS) == "retired"
    assert site_status_on(row.site, OPENS) == "planned"
