"""Scheme officers and the committee: the pipeline of applications, reviewer assignment, the
side-by-side view of every review, recommendations and the committee's award decision."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from computeport.application import service as applications
from computeport.award.decide import decide
from computeport.award.schemas import DecisionIn
from computeport.identity.service import get_organisation
from computeport.kit.clock import Clock
from computeport.models.application import ApplicationStatus
from computeport.models.identity import Role
from computeport.review import service as reviews
from computeport.scheme.service import get_scheme
from computeport.web.deps import CurrentViewer, PageClock, PageSession
from computeport.web.forms import Form
from computeport.web.i18n import translator
from computeport.web.security import checked_form
from computeport.web.templating import render
from computeport.web.viewer import Viewer
from computeport.web.views.people import reviewers

router = APIRouter(prefix="/committee", include_in_schema=False)

PIPELINE = (
    ApplicationStatus.SUBMITTED,
    ApplicationStatus.UNDER_REVIEW,
    ApplicationStatus.REVISION_REQUESTED,
    ApplicationStatus.RECOMMENDED,
    ApplicationStatus.NOT_RECOMMENDED,
    ApplicationStatus.APPROVED,
    ApplicationStatus.REJECTED,
)
STAFF = (Role.SCHEME_OFFICER, Role.COMMITTEE_MEMBER)
OFFICER_MOVES = {
    "start_review": ApplicationStatus.UNDER_REVIEW,
    "request_revision": ApplicationStatus.REVISION_REQUESTED,
    "recommend": ApplicationStatus.RECOMMENDED,
    "not_recommend": ApplicationStatus.NOT_RECOMMENDED,
}
DECISION_FIELDS = (
    "outcome",
    "reason",
    "gpu_hours",
    "starts_at",
    "ends_at",
    "subsidy_rate",
    "rate_reason",
    "cap_minor",
    "terms",
)


@router.get("")
def pipeline(request: Request, viewer: CurrentViewer, session: PageSession) -> Response:
    viewer.require(*STAFF)
    groups = [
        (status, applications.list_applications(session, viewer.subject, status=status, limit=200))
        for status in PIPELINE
    ]
    return render(
        request, "committee/pipeline.html", {"groups": groups}, viewer=viewer, active="committee"
    )


def _detail(
    session: Session, viewer: Viewer, clock: Clock, application_id: uuid.UUID
) -> dict[str, Any]:
    viewer.require(*STAFF)
    application = applications.get_application(session, viewer.subject, application_id)
    scheme = get_scheme(session, application.scheme_id)
    starts = clock.now().replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    return {
        "application": application,
        "organisation": get_organisation(session, application.organisation_id, viewer.subject),
        "scheme": scheme,
        "panel": reviews.panel(session, viewer.subject, application_id),
        "reviewers": reviewers(session),
        "history": applications.history(session, viewer.subject, application_id),
        "is_officer": viewer.has(Role.SCHEME_OFFICER),
        "is_committee": viewer.has(Role.COMMITTEE_MEMBER),
        "errors": {},
        "form_error": None,
        "decision": {
            "gpu_hours": str(application.gpu_hours),
            "starts_at": starts.date().isoformat(),
            "ends_at": (starts + timedelta(days=30 * application.duration_months))
            .date()
            .isoformat(),
            "subsidy_rate": str(scheme.default_rate.normalize()),
            "cap_minor": "",
            "reason": "",
            "rate_reason": "",
            "terms": "",
        },
    }


def _page(request: Request, viewer: Viewer, page: dict[str, Any], status: int = 200) -> Response:
    return render(
        request,
        "committee/application.html",
        page,
        viewer=viewer,
        active="committee",
        status_code=status,
    )


@router.get("/applications/{application_id}")
def application_page(
    request: Request,
    application_id: uuid.UUID,
    viewer: CurrentViewer,
    session: PageSession,
    clock: PageClock,
) -> Response:
    return _page(request, viewer, _detail(session, viewer, clock, application_id))


def _back(application_id: uuid.UUID) -> Response:
    return RedirectResponse(f"/committee/applications/{application_id}", status_code=303)


def _refused(
    request: Request,
    viewer: Viewer,
    session: Session,
    clock: Clock,
    application_id: uuid.UUID,
    form: Form,
    **extra: Any,
) -> Response:
    """Show the application again with the form's errors next to their fields (400)."""
    page = _detail(session, viewer, clock, application_id)
    page.update(errors=form.errors, form_error=form.form_error, **extra)
    return _page(request, viewer, page, 400)


@router.post("/applications/{application_id}/move")
async def move(
    request: Request,
    application_id: uuid.UUID,
    viewer: CurrentViewer,
    session: PageSession,
    clock: PageClock,
) -> Response:
    viewer.require(*STAFF)
    form = Form(await checked_form(request), translator(viewer.locale))
    action = form.choice("action", OFFICER_MOVES)
    reason = form.text("reason", max_length=5000)
    if action is not None and form.attempt(
        session,
        ("reason",),
        lambda: applications.move(
            session,
            viewer.subject,
            application_id,
            OFFICER_MOVES[action],
            reason=reason,
            at=clock.now(),
        ),
    ):
        return _back(application_id)
    return _refused(request, viewer, session, clock, application_id, form)


@router.post("/applications/{application_id}/reviewers")
async def assign(
    request: Request,
    application_id: uuid.UUID,
    viewer: CurrentViewer,
    session: PageSession,
    clock: PageClock,
) -> Response:
    viewer.require(Role.SCHEME_OFFICER)
    form = Form(await checked_form(request), translator(viewer.locale))
    choice = form.choice("reviewer_id", [str(u.id) for u in reviewers(session)])
    if choice is not None and form.attempt(
        session,
        ("reviewer_id",),
        lambda: reviews.assign_reviewer(
            session, viewer.subject, application_id, uuid.UUID(choice), at=clock.now()
        ),
    ):
        return _back(application_id)
    return _refused(request, viewer, session, clock, application_id, form)


@router.post("/applications/{application_id}/decision")
async def decision(
    request: Request,
    application_id: uuid.UUID,
    viewer: CurrentViewer,
    session: PageSession,
    clock: PageClock,
) -> Response:
    viewer.require(Role.COMMITTEE_MEMBER)
    page = _detail(session, viewer, clock, application_id)
    application = page["application"]
    form = Form(await checked_form(request), translator(viewer.locale))
    outcome = form.choice("outcome", ("approve", "reject"))
    reason = form.text("reason", max_length=5000)
    body: dict[str, Any] = {"outcome": outcome, "reason": reason}
    if outcome == "approve":
        hours = form.integer("gpu_hours", minimum=1, maximum=1_000_000_000)
        rate = form.decimal("subsidy_rate", minimum=Decimal(0), maximum=Decimal(1))
        body.update(
            lines=[{"accelerator_type": application.accelerator_type, "gpu_hours": hours}],
            starts_at=form.hk_date("starts_at"),
            ends_at=form.hk_date("ends_at"),
            subsidy_rate=rate,
            rate_reason=form.text("rate_reason", max_length=5000),
            cap_minor=form.money_minor("cap_minor"),
            terms=form.text("terms", max_length=20000),
        )
    elif outcome == "reject" and not reason:
        form.errors["reason"] = form._("Give the applicant a reason.")
    if form.ok:
        try:
            data = DecisionIn.model_validate(body)
        except ValidationError as invalid:
            for err in invalid.errors():
                name = str(err["loc"][0]) if err["loc"] else "outcome"
                form.errors["gpu_hours" if name == "lines" else name] = err["msg"]
        else:
            if form.attempt(
                session,
                DECISION_FIELDS,
                lambda: decide(session, application_id, data, viewer.user_id, clock),
            ):
                return _back(application_id)
    return _refused(
        request,
        viewer,
        session,
        clock,
        application_id,
        form,
        decision={name: form.raw(name) for name in DECISION_FIELDS},
    )
