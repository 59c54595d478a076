"""Top-ups, extensions, termination and expiry: commitments move, movements and audit follow."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from computeport.audit.service import history
from computeport.award.amend import amend
from computeport.award.decide import decide
from computeport.award.lifecycle import expire_due, resume, suspend, terminate
from computeport.award.schemas import AmendmentIn, DecisionIn
from computeport.award.term import MAX_AWARD_MONTHS
from computeport.envelope.service import committed_minor
from computeport.kit.clock import ManualClock
from computeport.kit.errors import BudgetExceeded, IllegalTransition, ValidationFailed
from computeport.models.award import (
    AmendmentKind,
    Award,
    AwardStatus,
    EnvelopeMovement,
    MovementKind,
)
from computeport.progress.schedule import add_months
from computeport.progress.tranches import released_gpu_hours
from tests.factories import award as fw
from tests.factories import identity as identity_factory


def _movements(session: Session, award_id: uuid.UUID) -> list[tuple[MovementKind, int]]:
    rows = session.scalars(
        select(EnvelopeMovement)
        .where(EnvelopeMovement.award_id == award_id)
        .order_by(EnvelopeMovement.at, EnvelopeMovement.id)
    )
    return [(m.kind, m.delta_minor) for m in rows]


class TestTopUp:
    def test_adds_hours_and_cap_and_commits_the_difference(
        self, session: Session, clock: ManualClock
    ) -> None:
        scheme = fw.scheme(session)
        award = fw.approved_award(session, clock, scheme, cap_minor=1_000_00)
        amendment = amend(
            session,
            award.id,
            AmendmentIn(
                kind="top_up",
                reason="second phase",
                cap_delta_minor=500_00,
                lines=[{"accelerator_type": "h800", "gpu_hours": 50}],
            ),
            None,
            clock,
        )
        assert amendment.kind is AmendmentKind.TOP_UP
        assert award.cap_minor == award.committed_minor == 1_500_00
        assert {ln.accelerator_type: ln.gpu_hours for ln in award.lines} == {"h800": 100_050}
        assert _movements(session, award.id) == [
            (MovementKind.COMMIT, 1_000_00),
            (MovementKind.TOP_UP, 500_00),
        ]
        actions = [h.action for h in history(session, "award", award.id)]
        assert "top_up" in actions

    def test_top_up_beyond_the_envelope_is_refused_and_changes_nothing(
        self, session: Session, clock: ManualClock
    ) -> None:
        scheme = fw.scheme(session, envelope_minor=1_000_00)
        award = fw.approved_award(session, clock, scheme, cap_minor=900_00)
        with pytest.raises(BudgetExceeded, match=r"HK\$100\.00 remaining"):
            amend(
                session,
                award.id,
                AmendmentIn(kind="top_up", reason="more", cap_delta_minor=100_01),
                None,
                clock,
            )
        assert award.cap_minor == award.committed_minor == 900_00
        assert len(_movements(session, award.id)) == 1

    def test_empty_top_up_is_refused(self, session: Session, clock: ManualClock) -> None:
        scheme = fw.scheme(session)
        award = fw.approved_award(session, clock, scheme)
        with pytest.raises(ValidationFailed) as err:
            amend(session, award.id, AmendmentIn(kind="top_up", reason="x"), None, clock)
        assert err.value.field == "cap_delta_minor"


class TestExtension:
    def test_moves_the_end_later(self, session: Session, clock: ManualClock) -> None:
        scheme = fw.scheme(session)
        award = fw.approved_award(session, clock, scheme)
        old_end = award.ends_at
        new_end = old_end + timedelta(days=90)
        amendment = amend(
            session,
            award.id,
            AmendmentIn(kind="extension", reason="delayed data", ends_at=new_end),
            None,
            clock,
        )
        assert award.ends_at == new_end
        assert amendment.previous_ends_at == old_end
        assert len(_movements(session, award.id)) == 1  # no money moved

    def test_an_earlier_end_is_not_an_extension(self, session: Session, clock: ManualClock) -> None:
        scheme = fw.scheme(session)
        award = fw.approved_award(session, clock, scheme)
        with pytest.raises(ValidationFailed) as err:
            amend(
                session,
                award.id,
                AmendmentIn(kind="extension", reason="x", ends_at=award.ends_at),
                None,
                clock,
            )
        assert err.value.field == "ends_at"

    def test_an_award_runs_at_most_its_longest_term(
        self, session: Session, clock: ManualClock
    ) -> None:
        """Year 9999 was accepted, and the progress schedule would have followed it."""
        scheme = fw.scheme(session)
        award = fw.approved_award(session, clock, scheme)
        latest = add_months(award.starts_at, MAX_AWARD_MONTHS)
        for far in (latest + timedelta(days=1), datetime(9999, 12, 31, tzinfo=UTC)):
            with pytest.raises(ValidationFailed) as err:
                amend(
                    session,
                    award.id,
                    AmendmentIn(kind="extension", reason="x", ends_at=far),
                    None,
                    clock,
                )
            assert err.value.field == "ends_at"
        amend(
            session,
            award.id,
            AmendmentIn(kind="extension", reason="x", ends_at=latest),
            None,
            clock,
        )
        assert award.ends_at == latest

    def test_a_decision_beyond_the_longest_term_writes_nothing(
        self, session: Session, clock: ManualClock
    ) -> None:
        scheme = fw.scheme(session)
        org = identity_factory.organisation(session)
        fw.org_admin(session, org)
        app = fw.application(session, scheme, org)
        terms = fw.approval(months=12, report_every_months=1)
        terms["ends_at"] = datetime(9999, 12, 31, tzinfo=UTC)
        with pytest.raises(ValidationFailed) as err:
            decide(session, app.id, DecisionIn.model_validate(terms), None, clock)
        assert err.value.field == "ends_at"
        assert session.scalar(select(func.count()).select_from(Award)) == 0


class TestTermination:
    def test_releases_the_unconsumed_rest(self, session: Session, clock: ManualClock) -> None:
        scheme = fw.scheme(session)
        award = fw.approved_award(session, clock, scheme, cap_minor=1_000_00)

        def consumed(session: Session, award_ids: Collection[uuid.UUID]) -> Mapping[uuid.UUID, int]:
            return dict.fromkeys(award_ids, 250_00)

        terminate(session, award.id, "project cancelled", None, clock, consumed)
        assert award.status is AwardStatus.TERMINATED
        assert award.committed_minor == 250_00
        assert award.cap_minor == 1_000_00  # the cap is history; the commitment shrank
        assert _movements(session, award.id)[-1] == (MovementKind.TERMINATION, -750_00)
        assert committed_minor(session, scheme.id) == 250_00

    def test_needs_a_reason(self, session: Session, clock: ManualClock) -> None:
        scheme = fw.scheme(session)
        award = fw.approved_award(session, clock, scheme)
        with pytest.raises(IllegalTransition) as err:
            terminate(session, award.id, " ", None, clock)
        assert err.value.field == "reason"
        assert award.status is AwardStatus.ACTIVE

    def test_a_terminated_award_cannot_be_amended_or_terminated_again(
        self, session: Session, clock: ManualClock
    ) -> None:
        scheme = fw.scheme(session)
        award = fw.approved_award(session, clock, scheme)
        terminate(session, award.id, "done", None, clock)
        with pytest.raises(IllegalTransition):
            terminate(session, award.id, "again", None, clock)
        with pytest.raises(IllegalTransition):
            amend(
                session,
                award.id,
                AmendmentIn(kind="top_up", reason="x", cap_delta_minor=1),
                None,
                clock,
            )


class TestExpiry:
    def test_expires_ended_awards_once(self, session: Session, clock: ManualClock) -> None:
        scheme = fw.scheme(session)
        ending = fw.approved_award(session, clock, scheme, cap_minor=300_00, months=1)
        running = fw.approved_award(session, clock, scheme, cap_minor=700_00, months=24)

        clock.set(ending.ends_at - timedelta(seconds=1))
        assert expire_due(session, clock) == []
        clock.set(ending.ends_at)  # half-open: the end instant is outside the award
        done = expire_due(session, clock)
        assert [(d.reference, d.released_minor) for d in done] == [(ending.reference, 300_00)]
        assert ending.status is AwardStatus.EXPIRED
        assert ending.committed_minor == 0
        assert running.status is AwardStatus.ACTIVE
        assert committed_minor(session, scheme.id) == 700_00
        assert expire_due(session, clock) == []  # idempotent

    def test_expired_awards_release_no_more_tranches(
        self, session: Session, clock: ManualClock
    ) -> None:
        scheme = fw.scheme(session)
        award = fw.approved_award(
            session,
            clock,
            scheme,
            gpu_hours=1001,
            tranche_shares_bp=[5000, 5000],
            report_every_months=6,
        )
        assert released_gpu_hours(session, award) == {"h800": 501}
        clock.set(award.ends_at)
        expire_due(session, clock)
        assert released_gpu_hours(session, award) == {"h800": 501}
        total = session.scalar(
            select(func.sum(EnvelopeMovement.delta_minor)).where(
                EnvelopeMovement.award_id == award.id
            )
        )
        assert total == award.committed_minor == 0


class TestSuspension:
    def test_suspend_keeps_the_commitment_and_resume_restores(
        self, session: Session, clock: ManualClock
    ) -> None:
        scheme = fw.scheme(session)
        award = fw.approved_award(session, clock, scheme, cap_minor=500_00)
        with pytest.raises(IllegalTransition):
            suspend(session, award.id, "", None, clock)  # a reason is required
        suspend(session, award.id, "co-payment overdue", None, clock)
        assert (award.status, award.committed_minor) == (AwardStatus.SUSPENDED, 500_00)
        resume(session, award.id, "paid", None, clock)
        assert award.status is AwardStatus.ACTIVE
        transitions = [
            (h.from_state, h.to_state)
            for h in history(session, "award", award.id)
            if h.action == "transition"
        ]
        assert transitions[-2:] == [("active", "suspended"), ("suspended", "active")]
