"""Migration 0011 on a database with awards: existing lines are placed where they ran.

Built at head with an inventory and an award of two accelerator types, taken down to 0010 (the
shares and the reserve column gone, the awards and the inventory kept), then upgraded again: a
type that exactly one cluster has (today's single cluster) is all placed on it; a type several
clusters have stays in the reserve for the operator to split.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from tests.award.share_centre import load_centre
from tests.factories import award as fw
from tests.support.databases import drop_postgres_database, fresh_postgres_database, worker_suffix

from computeport.db.engine import make_engine
from computeport.db.migrate import downgrade, upgrade
from computeport.kit.clock import ManualClock
from computeport.models.award import AwardLine

PREVIOUS = "0007_inference_gateway"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    url = (
        f"sqlite:///{tmp_path / 'migrate.sqlite3'}"
        if request.param == "sqlite"
        else fresh_postgres_database(f"cp_migrate_shares_{worker_suffix()}")
    )
    made = make_engine(url)
    yield made
    made.dispose()
    if request.param != "sqlite":
        drop_postgres_database(url)


def test_existing_lines_go_to_the_only_cluster_of_their_type_or_the_reserve(
    engine: Engine,
) -> None:
    upgrade(engine)
    clock = ManualClock(fw.START)
    with Session(engine) as session, session.begin():
        load_centre(session, clock)
        award = fw.approved_award(session, clock, fw.scheme(session), gpu_hours=700)
        session.add(AwardLine(award_id=award.id, accelerator_type="cn-accel-a", gpu_hours=500))
    downgrade(engine, PREVIOUS)
    upgrade(engine)
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT accelerator_type, reserve_hours FROM award_line"))
        lines: dict[str, int] = {kind: int(hours) for kind, hours in rows}
        shares = connection.execute(
            sa.text(
                "SELECT l.accelerator_type, c.name, s.gpu_hours FROM award_share s"
                " JOIN award_line l ON l.id = s.award_line_id"
                " JOIN centre_cluster c ON c.id = s.cluster_id"
            )
        ).all()
    assert lines == {"h800": 700, "cn-accel-a": 0}  # h800: alpha, beta and ridge have it
    assert [tuple(row) for row in shares] == [("cn-accel-a", "domestic", 500)]
