"""The reviewer's pages: assigned applications, the conflict-of-interest declaration (before
anything of the application is shown), and the scoring form on the scheme's weighted rubric."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from computeport.application.service import get_application
from computeport.models.identity import Role
from computeport.models.review import SCORE_MAX, SCORE_MIN, AssignmentStatus, ReviewAssignment
from computeport.review import service as reviews
from computeport.review.errors import AssignmentNotFound
from computeport.review.scoring import weighted_total
from computeport.scheme.service import get_scheme
from computeport.web.deps import CurrentViewer, PageClock, PageSession
from computeport.web.forms import Form
from computeport.web.i18n import translator
from computeport.web.security import checked_form
from computeport.web.templating import render
from computeport.web.viewer import Viewer

router = APIRouter(prefix="/review", include_in_schema=False)


@router.get("")
def assignments(request: Request, viewer: CurrentViewer, session: PageSession) -> Response:
    viewer.require(Role.REVIEWER)
    rows = []
    for assignment in reviews.my_assignments(session, viewer.subject):
        application = None
        if assignment.status is not AssignmentStatus.AWAITING_DECLARATION and (
            assignment.status is not AssignmentStatus.RECUSED
        ):
            application = get_application(session, viewer.subject, assignment.application_id)
        rows.append((assignment, application))
    return render(request, "review/list.html", {"rows": rows}, viewer=viewer, active="review")


def _context(session: Session, viewer: Viewer, assignment: ReviewAssignment) -> dict[str, Any]:
    page: dict[str, Any] = {
        "assignment": assignment,
        "application": None,
        "criteria": [],
        "scores": {},
        "errors": {},
        "form_error": None,
        "score_range": range(SCORE_MIN, SCORE_MAX + 1),
        "total": None,
    }
    if assignment.status in (AssignmentStatus.ACTIVE, AssignmentStatus.SUBMITTED):
        application = get_application(session, viewer.subject, assignment.application_id)
        criteria = get_scheme(session, application.scheme_id).criteria
        by_id = {s.criterion_id: s for s in assignment.scores}
        scores = {c.key: by_id[c.id] for c in criteria if c.id in by_id}
        page.update(
            application=application,
            criteria=criteria,
            scores=scores,
            total=weighted_total(
                {c.key: c.weight for c in criteria}, {k: s.score for k, s in scores.items()}
            ),
        )
    return page


def _own(session: Session, viewer: Viewer, assignment_id: uuid.UUID) -> ReviewAssignment:
    viewer.require(Role.REVIEWER)
    assignment = reviews.get_assignment(session, viewer.subject, assignment_id)
    if assignment.reviewer_id != viewer.user_id:
        raise AssignmentNotFound(f"no review assignment {assignment_id}")
    return assignment


@router.get("/{assignment_id}")
def assignment_page(
    request: Request, assignment_id: uuid.UUID, viewer: CurrentViewer, session: PageSession
) -> Response:
    assignment = _own(session, viewer, assignment_id)
    page = _context(session, viewer, assignment)
    return render(request, "review/assignment.html", page, viewer=viewer, active="review")


@router.post("/{assignment_id}/declaration")
async def declare(
    request: Request,
    assignment_id: uuid.UUID,
    viewer: CurrentViewer,
    session: PageSession,
    clock: PageClock,
) -> Response:
    assignment = _own(session, viewer, assignment_id)
    form = Form(await checked_form(request), translator(viewer.locale))
    answer = form.choice("has_conflict", ("no", "yes"))
    statement = form.text("statement", max_length=5000)
    if answer is not None and form.attempt(
        session,
        ("statement", "has_conflict"),
        lambda: reviews.declare(
            session,
            viewer.subject,
            assignment_id,
            has_conflict=answer == "yes",
            statement=statement,
            at=clock.now(),
        ),
    ):
        return RedirectResponse(f"/review/{assignment_id}", status_code=303)
    session.refresh(assignment)
    page = _context(session, viewer, assignment)
    page.update(errors=form.errors, form_error=form.form_error)
    return render(
        request, "review/assignment.html", page, viewer=viewer, active="review", status_code=400
    )


@router.post("/{assignment_id}/scores")
async def save_scores(
    request: Request,
    assignment_id: uuid.UUID,
    viewer: CurrentViewer,
    session: PageSession,
    clock: PageClock,
) -> Response:
    assignment = _own(session, viewer, assignment_id)
    page = _context(session, viewer, assignment)
    form = Form(await checked_form(request), translator(viewer.locale))
    given: dict[str, reviews.ScoreInput] = {}
    for criterion in page["criteria"]:
        value = form.integer(f"score_{criterion.key}", minimum=SCORE_MIN, maximum=SCORE_MAX)
        comment = form.text(f"comment_{criterion.key}", max_length=5000)
        if value is not None:
            given[criterion.key] = reviews.ScoreInput(value, comment)
    comment = form.text("comment", max_length=20000)
    submit = form.raw("action") == "submit"

    def score_and_submit() -> None:
        reviews.score(session, viewer.subject, assignment_id, given, at=clock.now())
        if submit:
            reviews.submit_review(
                session, viewer.subject, assignment_id, comment=comment, at=clock.now()
            )

    keys = [c.key for c in page["criteria"]]
    if form.attempt(
        session,
        [f"score_{key}" for key in keys],
        score_and_submit,
        aliases={f"scores.{key}": f"score_{key}" for key in keys},
    ):
        return RedirectResponse(f"/review/{assignment_id}", status_code=303)
    session.refresh(assignment)
    page = _context(session, viewer, assignment)
    page.update(errors=form.errors, form_error=form.form_error, posted=dict(form.data))
    return render(
        request, "review/assignment.html", page, viewer=viewer, active="review", status_code=400
    )
