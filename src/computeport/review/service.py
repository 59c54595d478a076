"""Review use cases: officers assign reviewers; reviewers declare, score and submit; the
committee reads every score side by side.

A reviewer sees nothing of an application before declaring (the application service answers
403 until then); a declared conflict recuses them for good.  Scores are integers 0–10 per
rubric criterion; the weighted total uses the scheme's Decimal weights.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from computeport.application.errors import DeclarationRequired
from computeport.application.repository import lock_application
from computeport.application.service import get_application
from computeport.audit.service import record_transition
from computeport.identity.errors import UserNotFound
from computeport.identity.service import subject_for
from computeport.identity.subject import Subject
from computeport.kit.clock import ensure_aware
from computeport.kit.errors import PermissionDenied, ValidationFailed
from computeport.models.application import Application, ApplicationStatus
from computeport.models.identity import Role, User
from computeport.models.review import (
    SCORE_MAX,
    SCORE_MIN,
    AssignmentStatus,
    ConflictDeclaration,
    ReviewAssignment,
    ReviewScore,
)
from computeport.models.scheme import RubricCriterion
from computeport.review.errors import AssignmentNotFound, ReviewConflict
from computeport.review.scoring import mean, weighted_total
from computeport.review.workflow import ASSIGNMENT_WORKFLOW

A = AssignmentStatus
ASSIGNABLE = frozenset(
    {
        ApplicationStatus.SUBMITTED,
        ApplicationStatus.UNDER_REVIEW,
        ApplicationStatus.REVISION_REQUESTED,
    }
)
SCORABLE = frozenset({ApplicationStatus.UNDER_REVIEW})
PANEL_READERS = (Role.COMMITTEE_MEMBER, Role.SCHEME_OFFICER)


def _move(
    session: Session,
    assignment: ReviewAssignment,
    to: AssignmentStatus,
    actor_id: uuid.UUID,
    reason: str,
    at: datetime,
) -> None:
    source = assignment.status
    ASSIGNMENT_WORKFLOW.check(source, to, context=assignment, reason=reason)
    assignment.status = to
    if to is A.SUBMITTED:
        assignment.submitted_at = at
    session.flush()
    record_transition(session, assignment, source, to, actor_id, reason, at)


def assign_reviewer(
    session: Session,
    officer: Subject,
    application_id: uuid.UUID,
    reviewer_id: uuid.UUID,
    *,
    at: datetime,
) -> ReviewAssignment:
    """Assign a reviewer (scheme officers).  The reviewer must declare before seeing anything."""
    officer.require(Role.SCHEME_OFFICER)
    at = ensure_aware(at)
    application = get_application(session, officer, application_id)
    if application.status not in ASSIGNABLE:
        raise ReviewConflict(
            f"application {application.reference} is {application.status.value}; reviewers are "
            "assigned to submitted applications or those under review",
            field="application_id",
        )
    reviewer = session.get(User, reviewer_id)
    if reviewer is None or not reviewer.is_active:
        raise UserNotFound(f"no user {reviewer_id}", field="reviewer_id")
    reviewer_subject = subject_for(session, reviewer)
    if Role.REVIEWER not in reviewer_subject.staff_roles:
        raise ValidationFailed(
            f"reviewer_id: {reviewer.email} does not hold the reviewer role", field="reviewer_id"
        )
    if application.organisation_id in reviewer_subject.organisation_ids:
        raise ReviewConflict(
            f"reviewer_id: {reviewer.email} belongs to the applicant organisation",
            field="reviewer_id",
        )
    existing = session.scalar(
        select(ReviewAssignment).where(
            ReviewAssignment.application_id == application.id,
            ReviewAssignment.reviewer_id == reviewer.id,
        )
    )
    if existing is not None:
        raise ReviewConflict(
            f"reviewer_id: {reviewer.email} is already assigned ({existing.status.value})",
            field="reviewer_id",
        )
    assignment = ReviewAssignment(
        application_id=application.id,
        reviewer_id=reviewer.id,
        assigned_by_id=officer.user_id,
        status=A.AWAITING_DECLARATION,
        created_at=at,
    )
    session.add(assignment)
    session.flush()
    record_transition(
        session, assignment, None, A.AWAITING_DECLARATION, officer.user_id, "assigned", at
    )
    return assignment


def _assignment(session: Session, assignment_id: uuid.UUID) -> ReviewAssignment:
    assignment = session.get(ReviewAssignment, assignment_id)
    if assignment is None:
        raise AssignmentNotFound(f"no review assignment {assignment_id}")
    return assignment


def _own_assignment(
    session: Session, reviewer: Subject, assignment_id: uuid.UUID
) -> ReviewAssignment:
    """The reviewer's own assignment; someone else's is not found (never revealed)."""
    assignment = _assignment(session, assignment_id)
    if assignment.reviewer_id != reviewer.user_id:
        raise AssignmentNotFound(f"no review assignment {assignment_id}")
    return assignment


def get_assignment(
    session: Session, subject: Subject, assignment_id: uuid.UUID
) -> ReviewAssignment:
    assignment = _assignment(session, assignment_id)
    if assignment.reviewer_id == subject.user_id or subject.has_role(*PANEL_READERS):
        return assignment
    raise AssignmentNotFound(f"no review assignment {assignment_id}")


def withdraw_assignment(
    session: Session, officer: Subject, assignment_id: uuid.UUID, *, reason: str, at: datetime
) -> ReviewAssignment:
    officer.require(Role.SCHEME_OFFICER)
    assignment = _assignment(session, assignment_id)
    _move(session, assignment, A.WITHDRAWN, officer.user_id, reason, ensure_aware(at))
    return assignment


def declare(
    session: Session,
    reviewer: Subject,
    assignment_id: uuid.UUID,
    *,
    has_conflict: bool,
    statement: str,
    at: datetime,
) -> ReviewAssignment:
    """Declare conflicts of interest: none → the application opens; a conflict → recused."""
    at = ensure_aware(at)
    assignment = _own_assignment(session, reviewer, assignment_id)
    if assignment.status is not A.AWAITING_DECLARATION:
        raise ReviewConflict(
            f"already declared (the assignment is {assignment.status.value})", field="status"
        )
    if has_conflict and not statement.strip():
        raise ValidationFailed("statement: describe the conflict", field="statement")
    session.add(
        ConflictDeclaration(
            assignment_id=assignment.id,
            has_conflict=has_conflict,
            statement=statement.strip(),
            declared_at=at,
        )
    )
    to = A.RECUSED if has_conflict else A.ACTIVE
    _move(session, assignment, to, reviewer.user_id, statement.strip() or "no conflict", at)
    return assignment


def my_assignments(session: Session, reviewer: Subject) -> list[ReviewAssignment]:
    stmt = (
        select(ReviewAssignment)
        .where(ReviewAssignment.reviewer_id == reviewer.user_id)
        .order_by(ReviewAssignment.created_at, ReviewAssignment.id)
    )
    return list(session.scalars(stmt))


def _criteria(session: Session, application: Application) -> list[RubricCriterion]:
    stmt = (
        select(RubricCriterion)
        .where(RubricCriterion.scheme_id == application.scheme_id)
        .order_by(RubricCriterion.position)
    )
    return list(session.scalars(stmt))


def _active_for_scoring(
    session: Session, reviewer: Subject, assignment_id: uuid.UUID
) -> tuple[ReviewAssignment, Application]:
    assignment = _own_assignment(session, reviewer, assignment_id)
    if assignment.status is A.AWAITING_DECLARATION:
        raise DeclarationRequired(
            "declare any conflict of interest before scoring "
            f"(POST /api/v1/review-assignments/{assignment.id}/declaration)"
        )
    if assignment.status is not A.ACTIVE:
        raise ReviewConflict(
            f"this review is {assignment.status.value}; it can no longer be scored",
            field="status",
        )
    application = lock_application(session, assignment.application_id)
    assert application is not None
    if application.status not in SCORABLE:
        raise ReviewConflict(
            f"application {application.reference} is {application.status.value}; scores are "
            "given while it is under review",
            field="status",
        )
    return assignment, application


@dataclass(frozen=True)
class ScoreInput:
    score: int
    comment: str = ""


def score(
    session: Session,
    reviewer: Subject,
    assignment_id: uuid.UUID,
    scores: Mapping[str, ScoreInput],
    *,
    at: datetime,
) -> list[ReviewScore]:
    """Set (or change) scores by criterion key; all are checked before any is written."""
    at = ensure_aware(at)
    assignment, application = _active_for_scoring(session, reviewer, assignment_id)
    criteria = {c.key: c for c in _criteria(session, application)}
    for key, given in scores.items():
        if key not in criteria:
            raise ValidationFailed(
                f"scores.{key}: not a criterion of this scheme ({', '.join(criteria)})",
                field=f"scores.{key}",
            )
        if isinstance(given.score, bool) or not SCORE_MIN <= given.score <= SCORE_MAX:
            raise ValidationFailed(
                f"scores.{key}: an integer from {SCORE_MIN} to {SCORE_MAX}", field=f"scores.{key}"
            )
    existing = {
        s.criterion_id: s
        for s in session.scalars(
            select(ReviewScore).where(ReviewScore.assignment_id == assignment.id)
        )
    }
    written: list[ReviewScore] = []
    for key, given in scores.items():
        criterion = criteria[key]
        row = existing.get(criterion.id)
        if row is None:
            row = ReviewScore(
                assignment_id=assignment.id,
                criterion_id=criterion.id,
                score=given.score,
                comment=given.comment,
                scored_at=at,
            )
            session.add(row)
        else:
            row.score, row.comment, row.scored_at = given.score, given.comment, at
        written.append(row)
    session.flush()
    return written


def submit_review(
    session: Session, reviewer: Subject, assignment_id: uuid.UUID, *, comment: str, at: datetime
) -> ReviewAssignment:
    """Make the scores final; every criterion must be scored."""
    at = ensure_aware(at)
    assignment, application = _active_for_scoring(session, reviewer, assignment_id)
    scored = set(
        session.scalars(
            select(ReviewScore.criterion_id).where(ReviewScore.assignment_id == assignment.id)
        )
    )
    missing = [c.key for c in _criteria(session, application) if c.id not in scored]
    if missing:
        raise ValidationFailed(
            f"scores: not yet scored: {', '.join(missing)}", field=f"scores.{missing[0]}"
        )
    assignment.comment = comment
    _move(session, assignment, A.SUBMITTED, reviewer.user_id, "scores submitted", at)
    return assignment


# -- the committee's panel view ------------------------------------------------------------


@dataclass(frozen=True)
class PanelReview:
    assignment_id: uuid.UUID
    reviewer_id: uuid.UUID
    reviewer_name: str
    status: AssignmentStatus
    conflict_statement: str | None
    scores: dict[str, int]
    weighted_total: Decimal | None
    comment: str


@dataclass(frozen=True)
class Panel:
    application_id: uuid.UUID
    reference: str
    criteria: list[tuple[str, str, Decimal]]
    """(key, name, weight) in rubric order."""
    reviews: list[PanelReview]
    mean_by_criterion: dict[str, Decimal | None]
    mean_weighted_total: Decimal | None
    """Over submitted reviews only."""


def panel(session: Session, subject: Subject, application_id: uuid.UUID) -> Panel:
    """All reviews of an application side by side (committee members and scheme officers)."""
    if not subject.has_role(*PANEL_READERS):
        raise PermissionDenied("only the committee and scheme officers see all reviews")
    application = get_application(session, subject, application_id)
    criteria = _criteria(session, application)
    weights = {c.key: c.weight for c in criteria}
    key_of = {c.id: c.key for c in criteria}
    assignments = list(
        session.scalars(
            select(ReviewAssignment)
            .where(ReviewAssignment.application_id == application.id)
            .where(ReviewAssignment.status != A.WITHDRAWN)
            .order_by(ReviewAssignment.created_at, ReviewAssignment.id)
        )
    )
    reviews: list[PanelReview] = []
    for a in assignments:
        reviewer = session.get(User, a.reviewer_id)
        scores = {
            key_of[s.criterion_id]: s.score
            for s in session.scalars(select(ReviewScore).where(ReviewScore.assignment_id == a.id))
            if s.criterion_id in key_of
        }
        declaration = session.scalar(
            select(ConflictDeclaration).where(ConflictDeclaration.assignment_id == a.id)
        )
        reviews.append(
            PanelReview(
                assignment_id=a.id,
                reviewer_id=a.reviewer_id,
                reviewer_name=reviewer.display_name if reviewer else "",
                status=a.status,
                conflict_statement=(
                    declaration.statement if declaration and declaration.has_conflict else None
                ),
                scores=scores,
                weighted_total=weighted_total(weights, scores),
                comment=a.comment,
            )
        )
    final = [r for r in reviews if r.status is A.SUBMITTED]
    return Panel(
        application_id=application.id,
        reference=application.reference,
        criteria=[(c.key, c.name, c.weight) for c in criteria],
        reviews=reviews,
        mean_by_criterion={
            key: mean([Decimal(r.scores[key]) for r in final if key in r.scores]) for key in weights
        },
        mean_weighted_total=mean([r.weighted_total for r in final if r.weighted_total is not None]),
    )
