"""Price changes: drafted by an operator, decided by a scheme officer who did not draft it, each
step audited, the approval announced through the outbox to whoever pays or runs the prices."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from computeport.identity.subject import Subject
from computeport.kit.clock import ManualClock
from computeport.kit.errors import IllegalTransition, PermissionDenied
from computeport.models.audit import AuditRecord
from computeport.models.identity import Role
from computeport.models.notification import OutboxMessage
from computeport.models.pricing import PriceChangeStatus, PriceKind
from computeport.pricing.announce import PRICE_APPROVED
from computeport.pricing.approval import (
    PriceChangeRequest,
    approve_change,
    draft_change,
    pending_changes,
    reject_change,
)
from computeport.pricing.errors import SamePersonApproval
from computeport.pricing.service import seed_assumed_prices
from tests.factories import identity as fi

DECEMBER = datetime(2026, 12, 1, tzinfo=UTC)


def _who(session: Session, clock: ManualClock, *roles: Role, org: bool = False) -> Subject:
    organisation = fi.organisation(session, at=clock.now()) if org else None
    user = fi.user(session, roles=roles, organisation=organisation, at=clock.now())
    return fi.subject(session, user)


def _request(price: str = "30.00") -> PriceChangeRequest:
    return PriceChangeRequest(PriceKind.GPU_HOUR, "h800", Decimal(price), DECEMBER, "tariff")


def test_an_approval_is_audited_and_announced(session: Session, clock: ManualClock) -> None:
    seed_assumed_prices(session, clock)
    operator = _who(session, clock, Role.OPERATOR)
    officer = _who(session, clock, Role.SCHEME_OFFICER)
    payer = _who(session, clock, Role.ORG_ADMIN, org=True)
    _who(session, clock, Role.REVIEWER)  # hears nothing: prices are not a reviewer's business
    change = draft_change(session, clock, operator, _request())
    assert pending_changes(session) == [change]
    version = approve_change(session, clock, officer, change.id, note="board minute 12")
    assert (change.status, change.version_id) == (PriceChangeStatus.APPROVED, version.id)
    assert (version.drafted_by, version.approved_by) == (operator.user_id, officer.user_id)
    trail = session.scalars(
        select(AuditRecord).where(AuditRecord.entity_id == change.id).order_by(AuditRecord.at)
    ).all()
    assert [(a.to_state, a.actor_id) for a in trail] == [
        ("drafted", operator.user_id),
        ("approved", officer.user_id),
    ]
    mail = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == PRICE_APPROVED)).all()
    assert {m.recipient for m in mail} == {operator.email, officer.email, payer.email}
    assert "HK$30.00 per GPU-hour" in mail[0].body
    assert "2026-12-01 00:00 UTC" in mail[0].body
    assert str(version.id) in mail[0].body


def test_the_drafter_never_decides_and_a_decision_is_final(
    session: Session, clock: ManualClock
) -> None:
    seed_assumed_prices(session, clock)
    both = _who(session, clock, Role.OPERATOR, Role.SCHEME_OFFICER)
    officer = _who(session, clock, Role.SCHEME_OFFICER)
    applicant = _who(session, clock, Role.ORG_ADMIN, org=True)
    change = draft_change(session, clock, both, _request())
    with pytest.raises(SamePersonApproval) as caught:
        approve_change(session, clock, both, change.id)
    assert caught.value.field == "approved_by"
    with pytest.raises(PermissionDenied):
        draft_change(session, clock, applicant, _request("1"))
    with pytest.raises(PermissionDenied):
        approve_change(session, clock, applicant, change.id)
    with pytest.raises(IllegalTransition) as no_reason:
        reject_change(session, clock, officer, change.id, reason=" ")
    assert no_reason.value.field == "reason"
    reject_change(session, clock, officer, change.id, reason="not this year")
    assert change.status is PriceChangeStatus.REJECTED
    with pytest.raises(IllegalTransition):
        approve_change(session, clock, officer, change.id)
    assert session.scalars(select(OutboxMessage)).all() == []
