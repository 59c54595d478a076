"""Property: whatever the committee does, Σ committed ≤ envelope and Σ committed = Σ movements.

Each generated step runs in a SAVEPOINT, as a request runs in its own transaction: a refused
step (BudgetExceeded, IllegalTransition) rolls back, and the invariant is checked after every
step against both the database and a simple model of what must have happened.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from computeport.award.amend import amend
from computeport.award.decide import decide
from computeport.award.lifecycle import expire_due, terminate
from computeport.award.schemas import AmendmentIn, DecisionIn
from computeport.envelope.service import committed_minor, envelope_figures
from computeport.kit.clock import ManualClock
from computeport.kit.errors import BudgetExceeded, IllegalTransition
from computeport.models.award import Award, AwardStatus, EnvelopeMovement
from tests.factories import award as fw

ENVELOPE = 10_000

steps = st.lists(
    st.one_of(
        st.tuples(st.just("decide"), st.integers(1, 4_000), st.integers(1, 6)),
        st.tuples(st.just("top_up"), st.integers(0, 20), st.integers(1, 3_000)),
        st.tuples(st.just("terminate"), st.integers(0, 20), st.integers(0, 100)),
        st.tuples(st.just("expire"), st.integers(1, 200)),
    ),
    min_size=1,
    max_size=14,
)


def _check(session: Session, scheme_id: uuid.UUID) -> int:
    committed = committed_minor(session, scheme_id)
    moved = session.scalar(
        select(func.coalesce(func.sum(EnvelopeMovement.delta_minor), 0)).where(
            EnvelopeMovement.scheme_id == scheme_id
        )
    )
    assert 0 <= committed <= ENVELOPE
    assert committed == moved
    for award in session.scalars(select(Award).where(Award.scheme_id == scheme_id)):
        per_award = session.scalar(
            select(func.sum(EnvelopeMovement.delta_minor)).where(
                EnvelopeMovement.award_id == award.id
            )
        )
        assert award.committed_minor == per_award
        if award.status in (AwardStatus.ACTIVE, AwardStatus.SUSPENDED):
            assert award.committed_minor == award.cap_minor
    return committed


@pytest.mark.slow
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=steps)
def test_any_sequence_keeps_the_envelope(session: Session, plan: list[tuple[object, ...]]) -> None:
    clock = ManualClock(fw.START - timedelta(days=1))
    scheme = fw.scheme(session, envelope_minor=ENVELOPE)
    awards: list[uuid.UUID] = []
    consumed_share: dict[uuid.UUID, int] = {}

    def consumed(session: Session, award_ids: Collection[uuid.UUID]) -> Mapping[uuid.UUID, int]:
        rows = session.scalars(select(Award).where(Award.id.in_(award_ids)))
        found = {a.id: a.committed_minor for a in rows}
        return {i: found[i] * consumed_share.get(i, 0) // 100 for i in award_ids}

    for step in plan:
        before = _check(session, scheme.id)
        nested = session.begin_nested()
        try:
            match step:
                case ("decide", int(cap), int(months)):
                    app = fw.application(session, scheme)
                    body = fw.approval(
                        cap, starts_at=clock.now() + timedelta(days=1), months=months
                    )
                    award = decide(session, app.id, DecisionIn.model_validate(body), None, clock)
                    assert award is not None
                    assert cap <= ENVELOPE - before
                    awards.append(award.id)
                case ("top_up", int(i), int(delta)) if awards:
                    target = awards[i % len(awards)]
                    amend(
                        session,
                        target,
                        AmendmentIn(kind="top_up", reason="more", cap_delta_minor=delta),
                        None,
                        clock,
                    )
                    assert delta <= ENVELOPE - before
                case ("terminate", int(i), int(share)) if awards:
                    target = awards[i % len(awards)]
                    consumed_share[target] = share
                    terminate(session, target, "ended early", None, clock, consumed)
                case ("expire", int(days)):
                    clock.advance(timedelta(days=days))
                    expire_due(session, clock, consumed)
                case _:
                    pass
            nested.commit()
        except BudgetExceeded as exc:
            nested.rollback()
            refusal = exc.extra
        except IllegalTransition:
            nested.rollback()
            refusal = None
        else:
            refusal = None
        if refusal is not None:
            assert refusal["requested_minor"] > ENVELOPE - before, "refused although it fitted"
            assert refusal["remaining_minor"] == ENVELOPE - before
        session.expire_all()
        _check(session, scheme.id)
    figures = envelope_figures(session, scheme)
    assert figures.committed_minor + figures.remaining_minor == ENVELOPE
    assert sum(c.committed_minor for c in figures.by_category) == figures.committed_minor
