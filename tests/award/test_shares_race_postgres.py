"""Many moves racing for the last hours of one award's reserve or share, on real PostgreSQL.

Each racer has its own session and connection and commits for real; the award-row lock
(``SELECT … FOR UPDATE``, then the lines ``FOR UPDATE``) is all that stands between them and a
split that hands out more hours than the award. Racers start together (a barrier) and each asks
for the same amount: exactly as many as fit must win, every loser must get Conflict (no
deadlock, no other error), and Σ shares + reserve must still equal the award.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from computeport.award.shares import RESERVE, move_hours, show_shares
from computeport.db.engine import make_session_factory
from computeport.kit.clock import ManualClock
from computeport.kit.errors import Conflict
from computeport.models.award_share import AwardShareMove
from tests.award.share_centre import load_centre
from tests.factories import award as fw
from tests.support.databases import own_database

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

RACERS = 30
HOURS = 1000
ASK = 100  # 10 racers fit
TARGETS = ("alpha", "beta", "ridge")
CLOCK = ManualClock(fw.START - timedelta(days=1))


@pytest.fixture(scope="module")
def factory() -> Iterator[sessionmaker[Session]]:
    with own_database("postgresql", "cp_shares_race", connections=RACERS) as engine:
        made = make_session_factory(engine)
        with made() as session, session.begin():
            load_centre(session, CLOCK)
        yield made


def _award(factory: sessionmaker[Session], on_alpha: int) -> uuid.UUID:
    with factory() as session, session.begin():
        award = fw.approved_award(session, CLOCK, fw.scheme(session), gpu_hours=HOURS)
        if on_alpha:
            move_hours(
                session,
                award.id,
                source=RESERVE,
                target="alpha",
                hours=on_alpha,
                reason="setup",
                actor_id=None,
                clock=CLOCK,
            )
        return award.id


def _race(factory: sessionmaker[Session], award_id: uuid.UUID, source: str) -> tuple[int, int]:
    barrier = threading.Barrier(RACERS)
    won: list[int] = []
    refused: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(index: int) -> None:
        target = [t for t in (*TARGETS, RESERVE) if t != source][index % 3]
        barrier.wait()
        try:
            with factory() as session, session.begin():
                move_hours(
                    session,
                    award_id,
                    source=source,
                    target=target,
                    hours=ASK,
                    reason=f"racer {index}",
                    actor_id=None,
                    clock=CLOCK,
                )
            with lock:
                won.append(index)
        except Conflict:
            with lock:
                refused.append(index)
        except BaseException as exc:  # a deadlock or anything else fails the test
            with lock:
                errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(RACERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    return len(won), len(refused)


@pytest.mark.parametrize(("source", "on_alpha"), [(RESERVE, 0), ("alpha", HOURS)])
def test_racing_moves_never_over_commit(
    factory: sessionmaker[Session], source: str, on_alpha: int
) -> None:
    award_id = _award(factory, on_alpha)
    won, refused = _race(factory, award_id, source)
    assert (won, refused) == (HOURS // ASK, RACERS - HOURS // ASK)
    with factory() as session:
        (line,) = show_shares(session, award_id).lines
        moves = session.scalar(
            select(func.count())
            .select_from(AwardShareMove)
            .where(AwardShareMove.award_id == award_id, AwardShareMove.reason.like("racer%"))
        )
    assert line.reserve + sum(line.shares.values()) == HOURS
    assert min([line.reserve, *line.shares.values()]) >= 0
    assert line.shares.get(source, line.reserve if source == RESERVE else 0) == 0
    assert moves == won
