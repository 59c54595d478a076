"""REST endpoints for review: assignment (officers), declaration and scoring (the assigned
reviewer), and the panel view (committee and officers)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from computeport.http.deps import ClockDep, SessionDep
from computeport.identity.auth import CurrentSubject
from computeport.review import service
from computeport.review.schemas import (
    AssignIn,
    AssignmentRead,
    DeclarationIn,
    PanelCriterion,
    PanelRead,
    PanelReviewRead,
    ScoreRead,
    ScoresIn,
    SubmitIn,
    WithdrawIn,
)

router = APIRouter(prefix="/api/v1", tags=["review"])


@router.post(
    "/applications/{application_id}/reviewers",
    response_model=AssignmentRead,
    status_code=status.HTTP_201_CREATED,
)
def assign_reviewer(
    application_id: uuid.UUID,
    body: AssignIn,
    subject: CurrentSubject,
    session: SessionDep,
    clock: ClockDep,
) -> AssignmentRead:
    assignment = service.assign_reviewer(
        session, subject, application_id, body.reviewer_id, at=clock.now()
    )
    return AssignmentRead.model_validate(assignment)


@router.get("/applications/{application_id}/reviews", response_model=PanelRead)
def panel(application_id: uuid.UUID, subject: CurrentSubject, session: SessionDep) -> PanelRead:
    """Every review of the application side by side, with weighted totals."""
    p = service.panel(session, subject, application_id)
    return PanelRead(
        application_id=p.application_id,
        reference=p.reference,
        criteria=[
            PanelCriterion(key=k, name=n, weight=w, mean=p.mean_by_criterion.get(k))
            for k, n, w in p.criteria
        ],
        reviews=[PanelReviewRead(**r.__dict__) for r in p.reviews],
        mean_weighted_total=p.mean_weighted_total,
    )


@router.get("/review-assignments", response_model=list[AssignmentRead])
def my_assignments(subject: CurrentSubject, session: SessionDep) -> list[AssignmentRead]:
    """The caller's own assignments."""
    return [AssignmentRead.model_validate(a) for a in service.my_assignments(session, subject)]


@router.get("/review-assignments/{assignment_id}", response_model=AssignmentRead)
def get_assignment(
    assignment_id: uuid.UUID, subject: CurrentSubject, session: SessionDep
) -> AssignmentRead:
    return AssignmentRead.model_validate(service.get_assignment(session, subject, assignment_id))


@router.post("/review-assignments/{assignment_id}/declaration", response_model=AssignmentRead)
def declare(
    assignment_id: uuid.UUID,
    body: DeclarationIn,
    subject: CurrentSubject,
    session: SessionDep,
    clock: ClockDep,
) -> AssignmentRead:
    """Declare conflicts of interest: no conflict opens the application; a conflict recuses."""
    assignment = service.declare(
        session,
        subject,
        assignment_id,
        has_conflict=body.has_conflict,
        statement=body.statement,
        at=clock.now(),
    )
    return AssignmentRead.model_validate(assignment)


@router.put("/review-assignments/{assignment_id}/scores", response_model=list[ScoreRead])
def score(
    assignment_id: uuid.UUID,
    body: ScoresIn,
    subject: CurrentSubject,
    session: SessionDep,
    clock: ClockDep,
) -> list[ScoreRead]:
    given = {k: service.ScoreInput(v.score, v.comment) for k, v in body.scores.items()}
    service.score(session, subject, assignment_id, given, at=clock.now())
    return [ScoreRead(criterion=k, score=v.score, comment=v.comment) for k, v in given.items()]


@router.post("/review-assignments/{assignment_id}/submit", response_model=AssignmentRead)
def submit(
    assignment_id: uuid.UUID,
    body: SubmitIn,
    subject: CurrentSubject,
    session: SessionDep,
    clock: ClockDep,
) -> AssignmentRead:
    assignment = service.submit_review(
        session, subject, assignment_id, comment=body.comment, at=clock.now()
    )
    return AssignmentRead.model_validate(assignment)


@router.post("/review-assignments/{assignment_id}/withdraw", response_model=AssignmentRead)
def withdraw(
    assignment_id: uuid.UUID,
    body: WithdrawIn,
    subject: CurrentSubject,
    session: SessionDep,
    clock: ClockDep,
) -> AssignmentRead:
    assignment = service.withdraw_assignment(
        session, subject, assignment_id, reason=body.reason, at=clock.now()
    )
    return AssignmentRead.model_validate(assignment)
