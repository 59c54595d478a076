"""A hypothesis state machine over the application workflow, on both databases.

Any sequence of attempted moves: the legal ones succeed and each writes exactly one audit row
naming from/to; illegal ones raise :class:`IllegalTransition` and change nothing (status and
audit trail untouched).
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import func, select
from sqlalchemy.orm import Session, SessionTransaction

from computeport.application import service
from computeport.application.workflow import APPLICATION_WORKFLOW, OPEN_STATES
from computeport.kit.errors import IllegalTransition
from computeport.models.application import Application, ApplicationStatus
from computeport.models.audit import AuditRecord
from tests.factories import application as fa
from tests.factories import identity as fi

S = ApplicationStatus


def _audit_trail(session: Session, app: Application) -> list[tuple[str | None, str | None]]:
    rows = session.execute(
        select(AuditRecord.from_state, AuditRecord.to_state)
        .where(AuditRecord.entity_id == app.id)
        .order_by(AuditRecord.at, AuditRecord.id)
    )
    return [(r[0], r[1]) for r in rows]


class ApplicationWorkflowMachine(RuleBasedStateMachine):
    session: Session

    def __init__(self) -> None:
        super().__init__()
        self.savepoint: SessionTransaction = self.session.begin_nested()
        self.app = fa.application(self.session)
        self.actor = fi.user(self.session)
        self.expected: list[tuple[str | None, str | None]] = [(None, "draft")]

    @rule(to=st.sampled_from(list(S)), reason=st.sampled_from(["", "because"]))
    def attempt(self, to: ApplicationStatus, reason: str) -> None:
        source = self.app.status
        legal = APPLICATION_WORKFLOW.allowed(source, to)
        needs_reason = legal and APPLICATION_WORKFLOW.moves[(source, to)].requires_reason
        if not legal or (needs_reason and not reason):
            with pytest.raises(IllegalTransition):
                service.transition(
                    self.session, self.app, to, actor_id=self.actor.id, reason=reason, at=fa.T
                )
            assert self.app.status is source
            return
        service.transition(
            self.session, self.app, to, actor_id=self.actor.id, reason=reason, at=fa.T
        )
        assert self.app.status is to
        self.expected.append((source.value, to.value))

    @invariant()
    def audit_trail_matches_successful_moves(self) -> None:
        assert _audit_trail(self.session, self.app) == self.expected

    @invariant()
    def final_states_are_final(self) -> None:
        if self.app.status not in OPEN_STATES:
            assert self.app.status in {S.APPROVED, S.REJECTED, S.WITHDRAWN}
            assert APPLICATION_WORKFLOW.is_terminal(self.app.status)

    def teardown(self) -> None:
        self.savepoint.rollback()


def test_application_workflow_state_machine(session: Session) -> None:
    ApplicationWorkflowMachine.session = session
    run_state_machine_as_test(
        ApplicationWorkflowMachine,
        settings=settings(
            max_examples=25,
            stateful_step_count=10,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
    leftovers = session.scalar(select(func.count()).select_from(Application))
    assert leftovers == 0


def test_every_state_is_reachable_from_draft() -> None:
    seen, frontier = {S.DRAFT}, [S.DRAFT]
    while frontier:
        for nxt in APPLICATION_WORKFLOW.targets(frontier.pop()):
            if nxt not in seen:
                seen.add(nxt)
                frontier.append(nxt)
    assert seen == set(S)


def test_withdrawal_from_every_open_state_only() -> None:
    for state in S:
        assert APPLICATION_WORKFLOW.allowed(state, S.WITHDRAWN) == (state in OPEN_STATES)
