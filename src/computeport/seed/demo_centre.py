"""The demo's centre: two sites from an inventory, and Sandy Ridge's own, costlier price.

``computeport demo`` loads ``demo_inventory.toml`` beside this module: the centre's inventory
(``deploy/inventory/cyberport.toml``) with its clusters run by the embedded virtual cluster.
Cyberport's cluster keeps its production name, ``cyberport-h800``, and the demo's virtual
cluster is opened under that name, so usage, prices, invoices and the operations page place
the demo's work at Cyberport.  Sandy Ridge's ``sandy-ridge-a`` is planned, commissioned on
its date, with its own accelerator type (``cn-accel-a``) priced at the site from that date.

Loaded once, into a database with no inventory yet (an operator's later ``clusters load`` is
never undone by a restart).  A demo database made before sites (its virtual cluster journaled
as ``aisc``) is left as it was: renaming a cluster with history would split its records.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from computeport.award.amend import top_up
from computeport.award.schemas import AmendmentIn, AwardLineIn
from computeport.award.shares import place_on_sole_clusters
from computeport.award.workflow import OPEN_STATES
from computeport.inventory.declaration import parse_inventory
from computeport.inventory.loader import load_inventory
from computeport.inventory.repository import all_clusters
from computeport.kit.clock import Clock
from computeport.models.award import Award
from computeport.models.identity import Organisation
from computeport.models.pricing import PriceKind
from computeport.models.sim_cluster import SimCluster
from computeport.pricing.service import append_version, latest_version
from computeport.seed.demo import DEMO_ORGANISATION

__all__ = [
    "DEMO_CLUSTER",
    "DEMO_INVENTORY",
    "LEGACY_DEMO_CLUSTER",
    "SANDY_RIDGE_PRICE",
    "demo_cluster_name",
    "seed_demo_centre",
]

DEMO_INVENTORY = Path(__file__).with_name("demo_inventory.toml")
DEMO_CLUSTER = "cyberport-h800"
"""The demo's virtual cluster: Cyberport's cluster, by its name in the inventory."""
LEGACY_DEMO_CLUSTER = "aisc"
"""What demo databases made before sites call their virtual cluster."""
SANDY_RIDGE_TYPE = "cn-accel-a"
SANDY_RIDGE_PRICE = Decimal("36")
SANDY_RIDGE_AFTER = timedelta(days=7)
"""ASSUMPTION (the demo's scenario): the demo's Sandy Ridge is commissioned a simulated week
after the demo is first seeded, so it comes online while one watches (7 minutes or less at the
default day a minute); the inventory file, and so the capacity plan, keep the planning date
2027-07-01, which the demo would reach only after hours."""
"""ASSUMPTION: HK$36 per GPU-hour of Sandy Ridge's newer accelerator (the centre's H800 list
price is assumed at HK$30; neither is public)."""
SANDY_RIDGE_HOURS = 4_000
"""ASSUMPTION (the demo's scenario): the demo applicant's award gains 4,000 GPU-hours of
Sandy Ridge's accelerator (a top-up, subsidised at the award's rate), placed on its only
cluster, so the demo shows one award, one invoice, two sites."""


def demo_cluster_name(session: Session) -> str:
    """The virtual cluster's name: ``aisc`` where a demo made before sites already runs one."""
    if session.get(SimCluster, LEGACY_DEMO_CLUSTER) is not None:
        return LEGACY_DEMO_CLUSTER
    return DEMO_CLUSTER


def seed_demo_centre(session: Session, clock: Clock) -> int:
    """Load the demo inventory and Sandy Ridge's price where nothing stands in the way;
    returns how many rows were made (0 on a second run, or on a demo from before sites)."""
    if demo_cluster_name(session) == LEGACY_DEMO_CLUSTER or all_clusters(session):
        return 0
    text = DEMO_INVENTORY.read_text(encoding="utf-8")
    decl = parse_inventory(text, DEMO_INVENTORY.name)
    source = DEMO_INVENTORY.name
    report = load_inventory(session, decl, actor_id=None, at=clock.now(), source=source)
    made = len(report.created)
    opened = (clock.now() + SANDY_RIDGE_AFTER).date()
    ridge = next(c for c in all_clusters(session) if c.name == "sandy-ridge-a")
    ridge.commissioned = opened
    ridge.site.opened = opened
    session.flush()
    if latest_version(session, PriceKind.GPU_HOUR, SANDY_RIDGE_TYPE, "sandy-ridge", None) is None:
        append_version(
            session,
            clock,
            PriceKind.GPU_HOUR,
            SANDY_RIDGE_TYPE,
            SANDY_RIDGE_PRICE,
            datetime(opened.year, opened.month, opened.day, tzinfo=UTC),
            site="sandy-ridge",
            is_assumption=True,
            note="ASSUMPTION: Sandy Ridge's accelerator, priced above the H800",
        )
        made += 1
    made += _sandy_ridge_hours(session, clock)
    # Awards seeded before the inventory hold their hours in the reserve; where one cluster
    # alone may take them (Cyberport for H800) they go there, as a decision now places them.
    awards = session.scalars(select(Award.id).order_by(Award.reference)).all()
    return made + place_on_sole_clusters(session, awards, clock)


def _sandy_ridge_hours(session: Session, clock: Clock) -> int:
    """Top up the demo applicant's award with Sandy Ridge's accelerator, so one award runs at
    both sites once Sandy Ridge opens and its invoice has a line for each (0 when it has none
    or already holds the type)."""
    award = session.scalars(
        select(Award)
        .join(Organisation, Organisation.id == Award.organisation_id)
        .where(Organisation.name == DEMO_ORGANISATION, Award.status.in_(OPEN_STATES))
        .order_by(Award.reference)
    ).first()
    if award is None or any(line.accelerator_type == SANDY_RIDGE_TYPE for line in award.lines):
        return 0
    subsidy = SANDY_RIDGE_HOURS * SANDY_RIDGE_PRICE * award.subsidy_rate
    cap = int((subsidy * 100).to_integral_value(rounding=ROUND_HALF_UP))
    top_up(
        session,
        award.id,
        AmendmentIn(
            kind="top_up",
            reason="ASSUMPTION (the demo's scenario): the project also trains on Sandy Ridge's "
            "accelerator once it opens",
            cap_delta_minor=cap,
            lines=[AwardLineIn(accelerator_type=SANDY_RIDGE_TYPE, gpu_hours=SANDY_RIDGE_HOURS)],
        ),
        None,
        clock,
    )
    return 1
