"""Review: declare before seeing, conflicts recuse, integer scores, Decimal-weighted totals."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from computeport.application import service as applications
from computeport.application.errors import ApplicationNotFound, DeclarationRequired
from computeport.kit.errors import IllegalTransition, PermissionDenied, ValidationFailed
from computeport.models.application import ApplicationStatus
from computeport.models.identity import Role
from computeport.models.review import AssignmentStatus
from computeport.review import service
from computeport.review.errors import AssignmentNotFound, ReviewConflict
from computeport.review.scoring import weighted_total
from tests.factories import application as fa
from tests.factories import identity as fi
from tests.factories import review as fr
from tests.factories import scheme as fs

S = ApplicationStatus
A = AssignmentStatus
T = fa.T
ALL_SEVENS = {c.key: service.ScoreInput(7) for c in fs.AISS_RUBRIC}


class TestDeclaration:
    def test_reviewer_sees_the_application_only_after_declaring(self, session: Session) -> None:
        app = fa.application(session, status=S.UNDER_REVIEW)
        person = fr.reviewer(session)
        assignment = fr.assignment(session, app, person)
        me = fi.subject(session, person)
        with pytest.raises(DeclarationRequired, match="declare"):
            applications.get_application(session, me, app.id)
        assert applications.list_applications(session, me) == []
        service.declare(session, me, assignment.id, has_conflict=False, statement="", at=T)
        assert applications.get_application(session, me, app.id).id == app.id

    def test_declared_conflict_recuses(self, session: Session) -> None:
        app = fa.application(session, status=S.UNDER_REVIEW)
        person = fr.reviewer(session)
        assignment = fr.assignment(session, app, person)
        me = fi.subject(session, person)
        service.declare(
            session, me, assignment.id, has_conflict=True, statement="former employer", at=T
        )
        assert assignment.status is A.RECUSED
        with pytest.raises(ApplicationNotFound):
            applications.get_application(session, me, app.id)
        with pytest.raises(ReviewConflict):
            service.score(session, me, assignment.id, ALL_SEVENS, at=T)

    def test_conflict_needs_a_statement_and_declaring_twice_is_refused(
        self, session: Session
    ) -> None:
        app = fa.application(session, status=S.UNDER_REVIEW)
        person = fr.reviewer(session)
        assignment = fr.assignment(session, app, person)
        me = fi.subject(session, person)
        with pytest.raises(ValidationFailed):
            service.declare(session, me, assignment.id, has_conflict=True, statement=" ", at=T)
        service.declare(session, me, assignment.id, has_conflict=False, statement="", at=T)
        with pytest.raises(ReviewConflict, match="already declared"):
            service.declare(session, me, assignment.id, has_conflict=True, statement="x", at=T)

    def test_someone_elses_assignment_is_not_found(self, session: Session) -> None:
        app = fa.application(session, status=S.UNDER_REVIEW)
        assignment = fr.assignment(session, app)
        other = fi.subject(session, fr.reviewer(session))
        with pytest.raises(AssignmentNotFound):
            service.declare(session, other, assignment.id, has_conflict=False, statement="", at=T)


class TestAssignment:
    def test_only_reviewers_outside_the_organisation(self, session: Session) -> None:
        org = fi.organisation(session)
        app = fa.application(session, organisation=org, status=S.SUBMITTED)
        officer = fi.subject(session, fi.user(session, roles=(Role.SCHEME_OFFICER,)))
        insider = fi.user(session, roles=(Role.REVIEWER, Role.MEMBER), organisation=org)
        with pytest.raises(ReviewConflict, match="applicant organisation"):
            service.assign_reviewer(session, officer, app.id, insider.id, at=T)
        not_reviewer = fi.user(session)
        with pytest.raises(ValidationFailed, match="reviewer role"):
            service.assign_reviewer(session, officer, app.id, not_reviewer.id, at=T)

    def test_drafts_cannot_be_reviewed_and_only_officers_assign(self, session: Session) -> None:
        app = fa.application(session)
        officer = fi.subject(session, fi.user(session, roles=(Role.SCHEME_OFFICER,)))
        with pytest.raises(ReviewConflict):
            service.assign_reviewer(session, officer, app.id, fr.reviewer(session).id, at=T)
        committee = fi.subject(session, fi.user(session, roles=(Role.COMMITTEE_MEMBER,)))
        submitted = fa.application(session, status=S.SUBMITTED)
        with pytest.raises(PermissionDenied):
            service.assign_reviewer(session, committee, submitted.id, fr.reviewer(session).id, at=T)


class TestScoring:
    def test_scoring_before_declaring_is_403(self, session: Session) -> None:
        app = fa.application(session, status=S.UNDER_REVIEW)
        person = fr.reviewer(session)
        assignment = fr.assignment(session, app, person)
        with pytest.raises(DeclarationRequired):
            service.score(session, fi.subject(session, person), assignment.id, ALL_SEVENS, at=T)

    @pytest.mark.parametrize(
        ("scores", "field"),
        [
            ({"alignment": 11}, "scores.alignment"),
            ({"alignment": -1}, "scores.alignment"),
            ({"vibes": 5}, "scores.vibes"),
        ],
    )
    def test_bad_scores_name_the_criterion_and_write_nothing(
        self, session: Session, scores: dict[str, int], field: str
    ) -> None:
        app = fa.application(session, status=S.UNDER_REVIEW)
        person = fr.reviewer(session)
        assignment = fr.assignment(session, app, person, declared=True)
        me = fi.subject(session, person)
        given = {"impact": service.ScoreInput(5)} | {
            k: service.ScoreInput(v) for k, v in scores.items()
        }
        with pytest.raises(ValidationFailed) as info:
            service.score(session, me, assignment.id, given, at=T)
        assert info.value.field == field
        assert (
            service.panel(
                session,
                fi.subject(session, fi.user(session, roles=(Role.COMMITTEE_MEMBER,))),
                app.id,
            )
            .reviews[0]
            .scores
            == {}
        )

    def test_submit_needs_every_criterion_then_freezes(self, session: Session) -> None:
        app = fa.application(session, status=S.UNDER_REVIEW)
        person = fr.reviewer(session)
        assignment = fr.assignment(session, app, person, declared=True)
        me = fi.subject(session, person)
        service.score(session, me, assignment.id, {"alignment": service.ScoreInput(9)}, at=T)
        with pytest.raises(ValidationFailed, match="not yet scored"):
            service.submit_review(session, me, assignment.id, comment="", at=T)
        service.score(session, me, assignment.id, ALL_SEVENS, at=T)
        service.submit_review(session, me, assignment.id, comment="solid", at=T)
        with pytest.raises(ReviewConflict):
            service.score(session, me, assignment.id, ALL_SEVENS, at=T)
        with pytest.raises(IllegalTransition):
            service.withdraw_assignment(
                session,
                fi.subject(session, fi.user(session, roles=(Role.SCHEME_OFFICER,))),
                assignment.id,
                reason="late",
                at=T,
            )


class TestPanel:
    def test_side_by_side_with_weighted_totals(self, session: Session) -> None:
        app = fa.application(session, status=S.UNDER_REVIEW)
        marks = [
            {"alignment": 8, "reasonableness": 6, "capability": 7, "team": 9, "impact": 5},
            {"alignment": 4, "reasonableness": 10, "capability": 3, "team": 5, "impact": 7},
        ]
        for m in marks:
            person = fr.reviewer(session)
            a = fr.assignment(session, app, person, declared=True)
            me = fi.subject(session, person)
            service.score(session, me, a.id, {k: service.ScoreInput(v) for k, v in m.items()}, at=T)
            service.submit_review(session, me, a.id, comment="", at=T)
        recused = fr.reviewer(session)
        r = fr.assignment(session, app, recused)
        service.declare(
            session,
            fi.subject(session, recused),
            r.id,
            has_conflict=True,
            statement="co-author",
            at=T,
        )
        committee = fi.subject(session, fi.user(session, roles=(Role.COMMITTEE_MEMBER,)))
        p = service.panel(session, committee, app.id)
        # 0.25*8 + 0.20*6 + 0.20*7 + 0.15*9 + 0.20*5 = 6.95
        # 0.25*4 + 0.20*10 + 0.20*3 + 0.15*5 + 0.20*7 = 5.75
        assert [r.weighted_total for r in p.reviews] == [Decimal("6.95"), Decimal("5.75"), None]
        assert p.reviews[2].conflict_statement == "co-author"
        assert p.mean_weighted_total == Decimal("6.35")
        assert p.mean_by_criterion["alignment"] == Decimal("6.00")

    def test_panel_is_for_the_committee(self, session: Session) -> None:
        app = fa.application(session, status=S.UNDER_REVIEW)
        reviewer = fi.subject(session, fr.reviewer(session))
        with pytest.raises(PermissionDenied):
            service.panel(session, reviewer, app.id)


@given(st.lists(st.integers(min_value=0, max_value=10), min_size=5, max_size=5))
def test_weighted_total_is_within_the_scale_and_exact(scores: list[int]) -> None:
    weights = {c.key: c.weight for c in fs.AISS_RUBRIC}
    marks = dict(zip(weights, scores, strict=True))
    total = weighted_total(weights, marks)
    assert total is not None
    assert Decimal(0) <= total <= Decimal(10)
    assert total == sum(weights[k] * marks[k] for k in weights)
    assert weighted_total(weights, dict(list(marks.items())[:4])) is None
