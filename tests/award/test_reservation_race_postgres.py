"""Bookings of many awards racing for the last nodes of a partition on real PostgreSQL.

Each racer has its own session and commits for real, so the per-partition advisory lock is what
stands between them and an over-booked partition: 4 nodes, 12 awards each asking for 1 node
over the same window at once (a barrier) — exactly 4 must win, every loser must get the
capacity Conflict naming ``nodes`` (no deadlock, no other error).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from computeport.award.reservations import (
    Capacity,
    PartitionCapacity,
    ReservationIn,
    book_reservation,
)
from computeport.db.engine import make_session_factory
from computeport.kit.clock import ManualClock
from computeport.kit.errors import Conflict
from computeport.models.reservation import AwardReservation
from tests.factories import award as fw
from tests.support.databases import own_database

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

RACERS = 12
NODES = 4
CAPACITY = Capacity("aisc", {"gpu": PartitionCapacity("gpu", NODES, 8, "h800")})
DEC1 = datetime(2026, 12, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def pg_engine() -> Iterator[Engine]:
    with own_database("postgresql", "cp_resv_race", connections=RACERS) as engine:
        yield engine


def test_racing_bookings_never_over_book_a_partition(pg_engine: Engine) -> None:
    factory: sessionmaker[Session] = make_session_factory(pg_engine)
    clock = ManualClock(datetime(2026, 10, 1, tzinfo=UTC))
    with factory() as session, session.begin():
        scheme = fw.scheme(session)
        award_ids = [fw.approved_award(session, clock, scheme).id for _ in range(RACERS)]

    barrier = threading.Barrier(RACERS)
    won: list[uuid.UUID] = []
    lost: list[Conflict] = []
    other: list[BaseException] = []
    guard = threading.Lock()

    def racer(award_id: uuid.UUID) -> None:
        body = ReservationIn(
            name=f"r-{award_id.hex[:12]}",
            partition="gpu",
            nodes=1,
            starts_at=DEC1,
            ends_at=DEC1 + timedelta(days=1),
        )
        barrier.wait()
        try:
            with factory() as session, session.begin():
                book_reservation(session, award_id, body, None, clock, CAPACITY)
            with guard:
                won.append(award_id)
        except Conflict as exc:
            with guard:
                lost.append(exc)
        except BaseException as exc:  # collected and reported below
            with guard:
                other.append(exc)

    threads = [threading.Thread(target=racer, args=(a,)) for a in award_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not other, other
    assert len(won) == NODES
    assert len(lost) == RACERS - NODES
    assert {e.field for e in lost} == {"nodes"}
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(AwardReservation)) == NODES
