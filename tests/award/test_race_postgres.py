"""Many committee decisions racing for the last part of the envelope on real PostgreSQL.

Each thread has its own session and commits for real (``fresh_postgres_database``), so the
scheme-row lock (``SELECT … FOR UPDATE``) is what stands between the racers and an
over-committed envelope.  Every round: 90% of the envelope is already committed; 40 racers
asking for equal amounts start together (a barrier) and race for the rest — all decisions, or
half decisions and half top-ups of the existing award.  Exactly as many as fit must win, every
loser must get BudgetExceeded (no deadlock, no other error), and the committed total must
never pass the envelope.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from computeport.award.amend import amend
from computeport.award.decide import decide
from computeport.award.schemas import AmendmentIn, DecisionIn
from computeport.db.engine import make_session_factory
from computeport.kit.clock import ManualClock
from computeport.kit.errors import BudgetExceeded
from computeport.kit.slurm_names import organisation_account_name
from computeport.models.award import Award, EnvelopeMovement
from computeport.models.identity import Organisation, OrganisationCategory
from tests.factories import award as fw
from tests.support.databases import own_database

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

ROUNDS = 3
RACERS = 40
ENVELOPE = 1_000_000_00
ALREADY = 900_000_00
CAP = 7_000_00  # 14 fit into the remaining HK$100,000; 26 must be refused


@pytest.fixture(scope="module")
def pg_engine() -> Iterator[Engine]:
    with own_database("postgresql", "cp_race", connections=RACERS) as engine:
        yield engine


def _prepare(
    factory: sessionmaker[Session], clock: ManualClock
) -> tuple[uuid.UUID, list[uuid.UUID]]:
    with factory() as session, session.begin():
        scheme = fw.scheme(session, envelope_minor=ENVELOPE)
        name = f"Race org {uuid.uuid4()}"
        org = Organisation(
            name=name,
            category=OrganisationCategory.UNIVERSITY,
            slurm_account=organisation_account_name(name),
            created_at=clock.now(),
        )
        session.add(org)
        session.flush()
        first = fw.approved_award(session, clock, scheme, cap_minor=ALREADY, organisation=org)
        apps = [fw.application(session, scheme, org).id for _ in range(RACERS)]
        return scheme.id, [first.id, *apps]


def _race(
    factory: sessionmaker[Session],
    clock: ManualClock,
    app_ids: list[uuid.UUID],
    top_up_award: uuid.UUID | None = None,
) -> tuple[int, int, list[BaseException]]:
    """Race one decision per application; with ``top_up_award``, every other racer tops up
    that award by the same amount instead."""
    barrier = threading.Barrier(len(app_ids))
    won: list[uuid.UUID] = []
    refused: list[uuid.UUID] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    body = DecisionIn.model_validate(fw.approval(CAP))

    top_up = AmendmentIn(kind="top_up", reason="race", cap_delta_minor=CAP)

    def run(index: int, app_id: uuid.UUID) -> None:
        barrier.wait()
        try:
            with factory() as session, session.begin():
                if top_up_award is not None and index % 2:
                    amend(session, top_up_award, top_up, None, clock)
                else:
                    decide(session, app_id, body, None, clock)
            with lock:
                won.append(app_id)
        except BudgetExceeded:
            with lock:
                refused.append(app_id)
        except BaseException as exc:  # a deadlock or anything else fails the test
            with lock:
                errors.append(exc)

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(app_ids)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return len(won), len(refused), errors


@pytest.mark.parametrize("mix", ["decisions", "decisions_and_top_ups"])
def test_racing_commitments_never_over_commit(pg_engine: Engine, mix: str) -> None:
    factory = make_session_factory(pg_engine)
    clock = ManualClock(fw.START - timedelta(days=1))
    trials = violations = 0
    for _ in range(ROUNDS):
        scheme_id, (first_award, *app_ids) = _prepare(factory, clock)
        topped = first_award if mix == "decisions_and_top_ups" else None
        won, refused, errors = _race(factory, clock, app_ids, topped)
        assert errors == []
        trials += len(app_ids)
        with factory() as session:
            committed = session.scalar(
                select(func.sum(Award.committed_minor)).where(Award.scheme_id == scheme_id)
            )
            moved = session.scalar(
                select(func.sum(EnvelopeMovement.delta_minor)).where(
                    EnvelopeMovement.scheme_id == scheme_id
                )
            )
        if committed is None or committed > ENVELOPE:
            violations += 1
        assert committed == moved == ALREADY + won * CAP
        assert won == (ENVELOPE - ALREADY) // CAP
        assert refused == RACERS - won
    print(f"race ({mix}): {ROUNDS} rounds, {trials} racers, {violations} over-commitments")
    assert violations == 0
