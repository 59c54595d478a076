"""Application use cases: references, drafting, submission rules, who may move what."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from computeport.application import service
from computeport.application.errors import ApplicationNotFound, NotEditable, NotEligible
from computeport.audit.service import history
from computeport.identity.errors import OrganisationNotFound
from computeport.identity.subject import Subject
from computeport.kit.errors import Conflict, IllegalTransition, PermissionDenied, ValidationFailed
from computeport.models.application import Application, ApplicationStatus
from computeport.models.identity import Organisation, OrganisationCategory, Role
from computeport.scheme.errors import CallNotOpen
from tests.factories import application as fa
from tests.factories import identity as fi
from tests.factories import scheme as fs

S = ApplicationStatus
T = fa.T


def _applicant(session: Session, org: Organisation | None = None) -> tuple[Organisation, Subject]:
    org = org or fi.organisation(session)
    return org, fi.subject(session, fi.user(session, roles=(Role.ORG_ADMIN,), organisation=org))


class TestReferences:
    def test_sequential_per_scheme_and_year(self, session: Session) -> None:
        scheme = fs.scheme(session, code="AISS")
        org, who = _applicant(session)
        refs = [
            fa.application(session, scheme=scheme, organisation=org, applicant=who).reference
            for _ in range(3)
        ]
        assert refs == ["AISS-2026-0001", "AISS-2026-0002", "AISS-2026-0003"]
        next_year = fa.application(
            session,
            scheme=scheme,
            organisation=org,
            applicant=who,
            at=datetime(2027, 1, 2, tzinfo=UTC),
        )
        assert next_year.reference == "AISS-2027-0001"

    def test_failed_draft_takes_no_number(self, session: Session) -> None:
        scheme = fs.scheme(session, code="AISS")
        org, who = _applicant(session)
        with pytest.raises(ValidationFailed):
            service.create_application(
                session,
                who,
                scheme_id=scheme.id,
                organisation_id=org.id,
                title="x",
                sector="s",
                request=fa.REQUEST.__class__(**{**fa.REQUEST.__dict__, "gpus": 0}),
                at=T,
            )
        assert (
            fa.application(session, scheme=scheme, organisation=org, applicant=who).reference
            == "AISS-2026-0001"
        )


class TestDrafting:
    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"gpus": 100_001}, "gpus"),
            ({"gpus": -1}, "gpus"),
            ({"gpu_hours": 0}, "gpu_hours"),
            ({"duration_months": 61}, "duration_months"),
            ({"accelerator_type": "h999"}, "accelerator_type"),
            ({"model_parameters": -7}, "model_parameters"),
            ({"title": "  "}, "title"),
            ({"reference": "X"}, "reference"),
            ({"gpus": None}, "gpus"),
            ({"gpus": 1, "gpu_hours": 4465}, "gpu_hours"),
        ],
    )
    def test_bad_changes_name_the_field_and_change_nothing(
        self, session: Session, change: dict[str, object], field: str
    ) -> None:
        org, who = _applicant(session)
        app = fa.application(session, organisation=org, applicant=who)
        before = (app.gpus, app.gpu_hours, app.title)
        with pytest.raises(ValidationFailed) as info:
            service.update_application(session, who, app.id, change)
        assert info.value.field == field
        assert (app.gpus, app.gpu_hours, app.title) == before

    def test_only_drafts_and_revisions_are_editable(self, session: Session) -> None:
        org, who = _applicant(session)
        app = fa.application(session, organisation=org, applicant=who, status=S.UNDER_REVIEW)
        with pytest.raises(NotEditable):
            service.update_application(session, who, app.id, {"gpus": 32})
        service.transition(
            session, app, S.REVISION_REQUESTED, actor_id=None, reason="too big", at=T
        )
        service.update_application(session, who, app.id, {"gpus": 32})
        assert app.gpus == 32

    def test_another_organisation_cannot_see_or_apply(self, session: Session) -> None:
        org, who = _applicant(session)
        _other_org, stranger = _applicant(session)
        app = fa.application(session, organisation=org, applicant=who)
        with pytest.raises(ApplicationNotFound):
            service.get_application(session, stranger, app.id)
        with pytest.raises(OrganisationNotFound):
            service.create_application(
                session,
                stranger,
                scheme_id=app.scheme_id,
                organisation_id=org.id,
                title="x",
                sector="s",
                request=fa.REQUEST,
                at=T,
            )


class TestSubmission:
    def test_submit_inside_an_open_call(self, session: Session) -> None:
        scheme = fs.scheme(session)
        call = fs.call(session, scheme)
        org, who = _applicant(session)
        app = fa.application(session, scheme=scheme, organisation=org, applicant=who)
        service.move(session, who, app.id, S.SUBMITTED, reason="", at=T)
        assert app.status is S.SUBMITTED
        assert app.call_id == call.id
        assert app.submitted_at == T
        assert [(r.from_state, r.to_state) for r in history(session, "application", app.id)] == [
            (None, "draft"),
            ("draft", "submitted"),
        ]

    def test_no_open_call_is_409_and_changes_nothing(self, session: Session) -> None:
        scheme = fs.scheme(session)
        fs.call(session, scheme, opens_at=T - timedelta(days=60), closes_at=T - timedelta(days=1))
        org, who = _applicant(session)
        app = fa.application(session, scheme=scheme, organisation=org, applicant=who)
        with pytest.raises(CallNotOpen):
            service.move(session, who, app.id, S.SUBMITTED, reason="", at=T)
        assert app.status is S.DRAFT
        assert app.call_id is None
        assert len(history(session, "application", app.id)) == 1

    def test_ineligible_category_is_refused(self, session: Session) -> None:
        scheme = fs.scheme(session, eligible_categories=("university",))
        fs.call(session, scheme)
        org = fi.organisation(session, category=OrganisationCategory.ENTERPRISE)
        _org, who = _applicant(session, org)
        app = fa.application(session, scheme=scheme, organisation=org, applicant=who)
        with pytest.raises(NotEligible) as info:
            service.move(session, who, app.id, S.SUBMITTED, reason="", at=T)
        assert info.value.field == "organisation_id"
        assert app.status is S.DRAFT

    def test_staff_cannot_submit_for_the_applicant(self, session: Session) -> None:
        app = fa.application(session)
        officer = fi.subject(session, fi.user(session, roles=(Role.SCHEME_OFFICER,)))
        with pytest.raises(PermissionDenied):
            service.move(session, officer, app.id, S.SUBMITTED, reason="", at=T)


class TestMoves:
    def test_roles_per_move(self, session: Session) -> None:
        org, who = _applicant(session)
        app = fa.application(session, organisation=org, applicant=who, status=S.SUBMITTED)
        officer = fi.subject(session, fi.user(session, roles=(Role.SCHEME_OFFICER,)))
        committee = fi.subject(session, fi.user(session, roles=(Role.COMMITTEE_MEMBER,)))
        with pytest.raises(PermissionDenied):
            service.move(session, who, app.id, S.UNDER_REVIEW, reason="", at=T)
        service.move(session, officer, app.id, S.UNDER_REVIEW, reason="", at=T)
        service.move(session, committee, app.id, S.NOT_RECOMMENDED, reason="weak", at=T)
        with pytest.raises(PermissionDenied):
            service.move(session, officer, app.id, S.REJECTED, reason="no", at=T)
        service.move(session, committee, app.id, S.REJECTED, reason="weak plan", at=T)
        assert app.status is S.REJECTED
        assert app.decided_at == T

    def test_approval_goes_through_the_award(self, session: Session) -> None:
        app = fa.application(session, status=S.RECOMMENDED)
        committee = fi.subject(session, fi.user(session, roles=(Role.COMMITTEE_MEMBER,)))
        with pytest.raises(Conflict, match="award"):
            service.move(session, committee, app.id, S.APPROVED, reason="", at=T)

    def test_revision_needs_a_reason(self, session: Session) -> None:
        app = fa.application(session, status=S.UNDER_REVIEW)
        officer = fi.subject(session, fi.user(session, roles=(Role.SCHEME_OFFICER,)))
        with pytest.raises(IllegalTransition, match="needs a reason"):
            service.move(session, officer, app.id, S.REVISION_REQUESTED, reason="", at=T)

    def test_applicant_withdraws_and_nothing_moves_after(self, session: Session) -> None:
        org, who = _applicant(session)
        app = fa.application(session, organisation=org, applicant=who, status=S.UNDER_REVIEW)
        service.move(session, who, app.id, S.WITHDRAWN, reason="funded elsewhere", at=T)
        with pytest.raises(IllegalTransition, match="final state"):
            service.move(session, who, app.id, S.SUBMITTED, reason="", at=T)

    def test_listing_is_scoped(self, session: Session) -> None:
        org, who = _applicant(session)
        mine = fa.application(session, organisation=org, applicant=who)
        theirs = fa.application(session)
        funder = fi.subject(session, fi.user(session, roles=(Role.FUNDER,)))
        officer = fi.subject(session, fi.user(session, roles=(Role.SCHEME_OFFICER,)))
        assert [a.id for a in service.list_applications(session, who)] == [mine.id]
        assert service.list_applications(session, funder) == []
        seen = {a.id for a in service.list_applications(session, officer)}
        assert {mine.id, theirs.id} <= seen
        assert session.scalar(select(Application.id).where(Application.id == theirs.id))


class TestNotifications:
    def test_submission_revision_and_rejection_queue_mail(self, session: Session) -> None:
        from computeport.models.notification import OutboxMessage

        org, who = _applicant(session)
        app = fa.application(session, organisation=org, applicant=who, status=S.SUBMITTED)
        officer = fi.subject(session, fi.user(session, roles=(Role.SCHEME_OFFICER,)))
        committee = fi.subject(session, fi.user(session, roles=(Role.COMMITTEE_MEMBER,)))
        service.move(session, officer, app.id, S.UNDER_REVIEW, reason="", at=T)
        service.move(session, officer, app.id, S.REVISION_REQUESTED, reason="budget?", at=T)
        service.move(session, who, app.id, S.UNDER_REVIEW, reason="added", at=T)
        service.move(session, committee, app.id, S.NOT_RECOMMENDED, reason="weak", at=T)
        service.move(session, committee, app.id, S.REJECTED, reason="weak plan", at=T)
        kinds = sorted(
            session.scalars(select(OutboxMessage.kind).where(OutboxMessage.entity_id == app.id))
        )
        assert len(kinds) == 3
        assert len(set(kinds)) == 3
        bodies = " ".join(
            session.scalars(select(OutboxMessage.body).where(OutboxMessage.entity_id == app.id))
        )
        assert "budget?" in bodies
        assert app.reference in bodies
