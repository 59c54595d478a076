"""A small centre for the share tests: two sites, three h800 clusters, one of another type."""

from __future__ import annotations

from sqlalchemy.orm import Session

from computeport.award.shares import move_hours
from computeport.inventory.declaration import parse_inventory
from computeport.inventory.loader import load_inventory
from computeport.kit.clock import Clock
from computeport.models.award import Award
from tests.inventory.inventory_files import BETA, SMALL

SECOND_SITE = """
[accelerators.cn-accel-a]
vendor = "Domestic"
model = "A"
memory_gb = 64
peak_pflops = 0.5

[sites.sandy-ridge]
name = "Sandy Ridge"

[clusters.ridge]
site = "sandy-ridge"
backend = "sim"

[clusters.ridge.partitions.gpu]
accelerator = "h800"
gpus_per_node = 8
nodes = 2

[clusters.domestic]
site = "sandy-ridge"
backend = "sim"

[clusters.domestic.partitions.gpu]
accelerator = "cn-accel-a"
gpus_per_node = 8
nodes = 2
"""

CENTRE = SMALL + BETA + SECOND_SITE
"""alpha and beta (h800) at cyberport; ridge (h800) and domestic (cn-accel-a) at sandy-ridge."""


def move(
    session: Session, award: Award, clock: Clock, src: str, dst: str, h: int, reason: str = "r"
) -> None:
    """Move ``h`` hours of the award's only line from ``src`` to ``dst`` (``reserve`` or a
    cluster), as an operator would, without an actor."""
    move_hours(
        session, award.id, source=src, target=dst, hours=h, reason=reason, actor_id=None,
        clock=clock,
    )  # fmt: skip


def load_centre(session: Session, clock: Clock) -> None:
    load_inventory(session, parse_inventory(CENTRE), actor_id=None, at=clock.now(), source="t")
