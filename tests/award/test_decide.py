"""Committee decisions: approval creates an award and commits its cap; refusals change nothing."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Unpack

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from computeport.audit.service import history
from computeport.award.decide import decide, slurm_account_name
from computeport.award.schemas import DecisionIn
from computeport.envelope.service import committed_minor, envelope_figures
from computeport.kit.clock import ManualClock
from computeport.kit.errors import BudgetExceeded, IllegalTransition, ValidationFailed
from computeport.models.application import ApplicationStatus
from computeport.models.award import Award, EnvelopeMovement, MovementKind
from computeport.models.notification import OutboxMessage
from computeport.models.progress import AwardTranche, ProgressReport
from tests.factories import award as fw
from tests.factories import identity as identity_factory


def _decision(cap_minor: int = 10_000_000_00, **kw: Unpack[fw.ApprovalTerms]) -> DecisionIn:
    return DecisionIn.model_validate(fw.approval(cap_minor, **kw))


def _count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


class TestApprove:
    def test_creates_award_commits_cap_and_approves_application(
        self, session: Session, clock: ManualClock
    ) -> None:
        scheme = fw.scheme(session)
        org = identity_factory.organisation(session)
        fw.org_admin(session, org)
        app = fw.application(session, scheme, org)

        award = decide(session, app.id, _decision(cap_minor=12_345_00), None, clock)

        assert award is not None
        assert award.reference == f"{app.reference}-A"
        assert award.slurm_account == slurm_account_name(app.reference)
        assert award.subsidy_rate == Decimal("0.7")
        assert award.cap_minor == award.committed_minor == 12_345_00
        assert [(ln.accelerator_type, ln.gpu_hours) for ln in award.lines] == [("h800", 100_000)]
        assert app.status is ApplicationStatus.APPROVED
        assert app.decided_at == clock.now()
        movements = list(session.scalars(select(EnvelopeMovement)))
        assert [(m.kind, m.delta_minor) for m in movements] == [(MovementKind.COMMIT, 12_345_00)]
        assert committed_minor(session, scheme.id) == 12_345_00
        app_history = history(session, "application", app.id)
        assert [(h.from_state, h.to_state) for h in app_history] == [("recommended", "approved")]
        assert _count(session, OutboxMessage) == 1
        mail = session.scalars(select(OutboxMessage)).one()
        assert mail.kind == "decision"
        assert "HK$12,345.00" in mail.body

    def test_slurm_account_name_is_lower_with_underscores(self) -> None:
        assert slurm_account_name("AISS-2026-0042") == "aiss_2026_0042"

    def test_rate_above_default_needs_reason(self, session: Session, clock: ManualClock) -> None:
        scheme = fw.scheme(session)
        app = fw.application(session, scheme)
        with pytest.raises(ValidationFailed) as err:
            decide(session, app.id, _decision(subsidy_rate="0.85"), None, clock)
        assert err.value.field == "rate_reason"
        award = decide(
            session,
            app.id,
            _decision(subsidy_rate="0.85", rate_reason="unique public-good model"),
            None,
            clock,
        )
        assert award is not None
        assert award.subsidy_rate == Decimal("0.85")

    def test_rate_above_max_names_the_field(self, session: Session, clock: ManualClock) -> None:
        scheme = fw.scheme(session)
        app = fw.application(session, scheme)
        with pytest.raises(ValidationFailed) as err:
            decide(session, app.id, _decision(subsidy_rate="0.95", rate_reason="x"), None, clock)
        assert err.value.field == "subsidy_rate"
        assert "90%" in err.value.message

    def test_float_rate_is_refused(self) -> None:
        with pytest.raises(ValueError, match="string"):
            _decision(subsidy_rate=0.8)

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"cap_minor": None}, "cap_minor"),
            ({"lines": []}, "lines"),
            ({"lines": [{"accelerator_type": "tpu9", "gpu_hours": 5}]}, "lines.0.accelerator_type"),
            ({"ends_at": fw.START - timedelta(days=1)}, "ends_at"),
            ({"starts_at": None}, "starts_at"),
            ({"tranche_shares_bp": [5000, 4000]}, "tranche_shares_bp"),
        ],
    )
    def test_bad_terms_are_refused_naming_the_field_and_write_nothing(
        self, session: Session, clock: ManualClock, change: dict[str, object], field: str
    ) -> None:
        scheme = fw.scheme(session)
        app = fw.application(session, scheme)
        body = fw.approval()
        body.update(change)
        with pytest.raises(ValidationFailed) as err:
            decide(session, app.id, DecisionIn.model_validate(body), None, clock)
        assert err.value.field == field
        assert _count(session, Award) == 0
        assert app.status is ApplicationStatus.RECOMMENDED

    def test_too_many_tranches_for_the_schedule(self, session: Session, clock: ManualClock) -> None:
        scheme = fw.scheme(session)
        app = fw.application(session, scheme)
        with pytest.raises(ValidationFailed) as err:
            decide(
                session,
                app.id,
                _decision(tranche_shares_bp=[2500] * 4, report_every_months=6, months=12),
                None,
                clock,
            )
        assert err.value.field == "tranche_shares_bp"

    @pytest.mark.parametrize(
        "status",
        [
            ApplicationStatus.DRAFT,
            ApplicationStatus.UNDER_REVIEW,
            ApplicationStatus.NOT_RECOMMENDED,
            ApplicationStatus.APPROVED,
            ApplicationStatus.WITHDRAWN,
        ],
    )
    def test_only_recommended_applications_can_be_approved(
        self, session: Session, clock: ManualClock, status: ApplicationStatus
    ) -> None:
        scheme = fw.scheme(session)
        app = fw.application(session, scheme, status=status)
        with pytest.raises(IllegalTransition):
            decide(session, app.id, _decision(), None, clock)
        assert _count(session, Award) == 0

    def test_over_envelope_is_409_with_what_is_left_and_changes_nothing(
        self, session: Session, clock: ManualClock
    ) -> None:
        scheme = fw.scheme(session, envelope_minor=1_000_00)
        fw.approved_award(session, clock, scheme, cap_minor=600_00)
        app = fw.application(session, scheme)
        before = (_count(session, Award), _count(session, EnvelopeMovement))
        with pytest.raises(BudgetExceeded) as err:
            decide(session, app.id, _decision(cap_minor=400_01), None, clock)
        assert "HK$400.00 remaining" in err.value.message
        assert err.value.extra["remaining_minor"] == 400_00
        assert (_count(session, Award), _count(session, EnvelopeMovement)) == before
        assert app.status is ApplicationStatus.RECOMMENDED
        # exactly the rest still fits
        assert decide(session, app.id, _decision(cap_minor=400_00), None, clock) is not None
        assert envelope_figures(session, scheme).remaining_minor == 0

    def test_tranches_and_reports_are_planned(self, session: Session, clock: ManualClock) -> None:
        scheme = fw.scheme(session)
        award = fw.approved_award(
            session, clock, scheme, tranche_shares_bp=[5000, 5000], report_every_months=6
        )
        reports = list(
            session.scalars(select(ProgressReport).where(ProgressReport.award_id == award.id))
        )
        tranches = list(
            session.scalars(select(AwardTranche).where(AwardTranche.award_id == award.id))
        )
        assert len(reports) == 2  # month 6, and the final report at the end
        assert reports[-1].due_at == award.ends_at
        assert sorted((t.sequence, t.released_at is not None) for t in tranches) == [
            (0, True),
            (1, False),
        ]


class TestReject:
    @pytest.mark.parametrize(
        "status", [ApplicationStatus.RECOMMENDED, ApplicationStatus.NOT_RECOMMENDED]
    )
    def test_reject_moves_to_rejected_and_notifies(
        self, session: Session, clock: ManualClock, status: ApplicationStatus
    ) -> None:
        scheme = fw.scheme(session)
        org = identity_factory.organisation(session)
        fw.org_admin(session, org)
        app = fw.application(session, scheme, org, status=status)
        result = decide(
            session,
            app.id,
            DecisionIn(outcome="reject", reason="compute request not justified"),
            None,
            clock,
        )
        assert result is None
        assert app.status is ApplicationStatus.REJECTED
        mail = session.scalars(select(OutboxMessage)).one()
        assert "compute request not justified" in mail.body
        assert _count(session, EnvelopeMovement) == 0

    def test_cannot_reject_a_draft(self, session: Session, clock: ManualClock) -> None:
        scheme = fw.scheme(session)
        app = fw.application(session, scheme, status=ApplicationStatus.DRAFT)
        with pytest.raises(IllegalTransition):
            decide(session, app.id, DecisionIn(outcome="reject"), None, clock)
