"""Seeded reviews: reviewers assigned, conflicts declared and rubric scores submitted.

So that the committee's panel (scores side by side) has something to show.  Scores are
invented and deterministic: high for applications that went on to be recommended, low for
those that were not (all assumptions of the scenario).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from computeport.identity.service import subject_for
from computeport.models.application import Application, ApplicationStatus
from computeport.models.identity import User
from computeport.models.review import ReviewAssignment
from computeport.models.scheme import RubricCriterion
from computeport.review import service as review

S = ApplicationStatus

BASE_SCORE = {
    S.RECOMMENDED: 8,
    S.APPROVED: 8,
    S.NOT_RECOMMENDED: 4,
    S.REJECTED: 4,
    S.REVISION_REQUESTED: 6,
}
"""The typical score (0–10) of a review, by where the application ended up."""


def seed_reviews(
    session: Session,
    application: Application,
    outcome: ApplicationStatus,
    officer: User,
    reviewers: list[User],
    at: datetime,
) -> None:
    """Review ``application`` (under review now) as its eventual ``outcome`` suggests.

    Still under review: only the first reviewer is assigned, awaiting the declaration (the
    demo reviewer has work to do).  Otherwise every reviewer declares no conflict, scores every
    criterion and submits.
    """
    officer_subject = subject_for(session, officer)
    base = BASE_SCORE.get(outcome)
    team = reviewers[:1] if base is None else reviewers
    criteria = list(
        session.scalars(
            select(RubricCriterion)
            .where(RubricCriterion.scheme_id == application.scheme_id)
            .order_by(RubricCriterion.position)
        )
    )
    for j, reviewer in enumerate(team):
        exists = session.scalar(
            select(ReviewAssignment.id).where(
                ReviewAssignment.application_id == application.id,
                ReviewAssignment.reviewer_id == reviewer.id,
            )
        )
        if exists is not None:
            continue
        assignment = review.assign_reviewer(
            session, officer_subject, application.id, reviewer.id, at=at
        )
        if base is None:
            continue
        who = subject_for(session, reviewer)
        when = at + timedelta(days=1 + j)
        review.declare(session, who, assignment.id, has_conflict=False, statement="", at=when)
        scores = {
            c.key: review.ScoreInput(max(0, min(10, base + (i + 2 * j) % 3 - 1)))
            for i, c in enumerate(criteria)
        }
        review.score(session, who, assignment.id, scores, at=when + timedelta(days=2))
        review.submit_review(
            session,
            who,
            assignment.id,
            comment="Seeded review (scores are assumptions of the scenario).",
            at=when + timedelta(days=3),
        )


__all__ = ["BASE_SCORE", "seed_reviews"]
