"""The applicant's applications: list, create, edit, submit, answer a revision request,
withdraw."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from computeport.application import service as applications
from computeport.application.errors import ApplicationNotFound
from computeport.application.service import EDITABLE_FIELD_ORDER, ComputeRequest
from computeport.application.workflow import EDITABLE_STATES
from computeport.envelope.service import get_scheme
from computeport.kit.accelerators import KNOWN_ACCELERATOR_TYPES
from computeport.models.application import Application, ApplicationStatus, Precision, WorkloadKind
from computeport.pricing.card import CostEstimate
from computeport.scheme.service import open_calls
from computeport.web.deps import CurrentViewer, PageClock, PageSession
from computeport.web.forms import Form
from computeport.web.i18n import translator
from computeport.web.routes.applicant.pages import (
    PREFIX,
    organisation_page,
    render_page,
    require_member,
)
from computeport.web.security import checked_form
from computeport.web.templating import render
from computeport.web.viewer import Viewer
from computeport.web.views.rate_card import cost_estimate

router = APIRouter(prefix=PREFIX, include_in_schema=False)

FIELDS = EDITABLE_FIELD_ORDER
SECTORS = (
    "ai",
    "fintech",
    "healthcare",
    "smart_city",
    "logistics",
    "education",
    "media",
    "research",
    "public_service",
    "other",
)


def _own_application(
    session: Session, viewer: Viewer, organisation_id: uuid.UUID, application_id: uuid.UUID
) -> Application:
    application = applications.get_application(session, viewer.subject, application_id)
    if application.organisation_id != organisation_id:
        raise ApplicationNotFound(f"no application {application_id}")
    return application


@router.get("")
def organisation_home(organisation_id: uuid.UUID, viewer: CurrentViewer) -> Response:
    require_member(viewer, organisation_id)
    return RedirectResponse(f"/orgs/{organisation_id}/applications", status_code=303)


@router.get("/applications")
def application_list(
    request: Request, organisation_id: uuid.UUID, viewer: CurrentViewer, session: PageSession
) -> Response:
    page = organisation_page(session, viewer, organisation_id)
    page["applications"] = applications.list_applications(
        session, viewer.subject, organisation_id=organisation_id, limit=500
    )
    return render(
        request, "applicant/applications.html", page, viewer=viewer, active="applications"
    )


def _form_context(
    session: Any, clock_now: Any, values: dict[str, Any], errors: dict[str, str]
) -> dict[str, Any]:
    scheme = get_scheme(session)
    calls = open_calls(session, scheme.id, clock_now)
    hours = str(values.get("gpu_hours") or "").strip()
    return {
        "estimate": cost_estimate(
            session,
            str(values.get("accelerator_type") or "h800"),
            int(hours) if hours.isdigit() and 0 < int(hours) <= 10**9 else 1,
            scheme.default_rate,
            clock_now,
        ),
        "values": values,
        "errors": errors,
        "accelerator_options": [(a, a.upper()) for a in sorted(KNOWN_ACCELERATOR_TYPES)],
        "precision_options": [(p.value, p.value.upper()) for p in Precision],
        "workload_options": [(w.value, w.value) for w in WorkloadKind],
        "sector_options": [(s, s) for s in SECTORS],
        "call_options": [("", "—")] + [(str(c.id), c.name) for c in calls],
        "scheme": scheme,
    }


DEFAULTS: dict[str, Any] = {
    "title": "",
    "abstract": "",
    "sector": "ai",
    "call_id": "",
    "accelerator_type": "h800",
    "gpus": "",
    "gpu_hours": "",
    "duration_months": "12",
    "model_parameters": "",
    "dataset_tokens": "",
    "precision": Precision.BF16.value,
    "workload": WorkloadKind.TRAINING.value,
    "justification": "",
}


def _values_of(application: Application) -> dict[str, Any]:
    values = {name: getattr(application, name) for name in FIELDS}
    for name in ("precision", "workload"):
        values[name] = values[name].value
    values["call_id"] = str(application.call_id or "")
    return {k: "" if v is None else v for k, v in values.items()}


def _read_application_form(form: Form) -> dict[str, Any]:
    """The typed changes the form asks for; errors are left on ``form``."""
    changes: dict[str, Any] = {
        "title": form.text("title", required=True, max_length=300),
        "abstract": form.text("abstract", max_length=20000),
        "sector": form.choice("sector", SECTORS) or "other",
        "accelerator_type": form.choice("accelerator_type", sorted(KNOWN_ACCELERATOR_TYPES)),
        "gpus": form.integer("gpus", minimum=1, maximum=100_000),
        "gpu_hours": form.integer("gpu_hours", minimum=1, maximum=1_000_000_000),
        "duration_months": form.integer("duration_months", minimum=1, maximum=60),
        "model_parameters": form.integer(
            "model_parameters", minimum=1, maximum=10**14, required=False
        ),
        "dataset_tokens": form.integer("dataset_tokens", minimum=1, maximum=10**16, required=False),
        "precision": Precision(form.choice("precision", [p.value for p in Precision]) or "bf16"),
        "workload": WorkloadKind(
            form.choice("workload", [w.value for w in WorkloadKind]) or "training"
        ),
        "justification": form.text("justification", max_length=20000),
    }
    call = form.raw("call_id")
    if call:
        try:
            changes["call_id"] = uuid.UUID(call)
        except ValueError:
            form.errors["call_id"] = form._("Choose one of the options.")
    return changes


def _application_form(
    request: Request,
    viewer: Viewer,
    page: dict[str, Any],
    application: Application | None,
    form: Form | None = None,
) -> Response:
    """The create/edit form; with a refused ``form``, its values and errors and a 400."""
    page["application"] = application
    if form is not None:
        page["form_error"] = form.form_error
    return render(
        request,
        "applicant/application_form.html",
        page,
        viewer=viewer,
        active="applications",
        status_code=200 if form is None else 400,
    )


@router.get("/applications/new")
def new_application_form(
    request: Request,
    organisation_id: uuid.UUID,
    viewer: CurrentViewer,
    session: PageSession,
    clock: PageClock,
) -> Response:
    page = organisation_page(session, viewer, organisation_id)
    page.update(_form_context(session, clock.now(), dict(DEFAULTS), {}))
    return _application_form(request, viewer, page, None)


@router.post("/applications/new")
async def create_application(
    request: Request,
    organisation_id: uuid.UUID,
    viewer: CurrentViewer,
    session: PageSession,
    clock: PageClock,
) -> Response:
    page = organisation_page(session, viewer, organisation_id)
    form = Form(await checked_form(request), translator(viewer.locale))
    changes = _read_application_form(form)
    done = form.attempt(
        session,
        FIELDS,
        lambda: applications.create_application(
            session,
            viewer.subject,
            scheme_id=get_scheme(session).id,
            organisation_id=organisation_id,
            title=changes["title"],
            sector=changes["sector"],
            abstract=changes["abstract"],
            call_id=changes.get("call_id"),
            request=ComputeRequest(
                accelerator_type=changes["accelerator_type"],
                gpus=changes["gpus"],
                gpu_hours=changes["gpu_hours"],
                duration_months=changes["duration_months"],
                model_parameters=changes["model_parameters"],
                dataset_tokens=changes["dataset_tokens"],
                precision=changes["precision"],
                workload=changes["workload"],
                justification=changes["justification"],
            ),
            at=clock.now(),
        ),
    )
    if done is not None:
        return RedirectResponse(
            f"/orgs/{organisation_id}/applications/{done.value.id}", status_code=303
        )
    values = {name: form.raw(name) for name in FIELDS}
    page.update(_form_context(session, clock.now(), values, form.errors))
    return _application_form(request, viewer, page, None, form)


def _estimate(session: Any, application: Application, now: datetime) -> CostEstimate | None:
    """What the request costs at today's rate card, at the scheme's default rate."""
    return cost_estimate(
        session,
        application.accelerator_type,
        application.gpu_hours,
        get_scheme(session).default_rate,
        now,
    )


@router.get("/applications/{application_id}")
def application_detail(
    request: Request,
    organisation_id: uuid.UUID,
    application_id: uuid.UUID,
    viewer: CurrentViewer,
    session: PageSession,
    clock: PageClock,
) -> Response:
    page = organisation_page(session, viewer, organisation_id)
    application = _own_application(session, viewer, organisation_id, application_id)
    page.update(
        estimate=_estimate(session, application, clock.now()),
        application=application,
        history=applications.history(session, viewer.subject, application_id),
        editable=application.status in EDITABLE_STATES,
        errors={},
        form_error=None,
    )
    return render_page(request, "applicant/application.html", page, viewer)


@router.get("/applications/{application_id}/edit")
def edit_application_form(
    request: Request,
    organisation_id: uuid.UUID,
    application_id: uuid.UUID,
    viewer: CurrentViewer,
    session: PageSession,
    clock: PageClock,
) -> Response:
    page = organisation_page(session, viewer, organisation_id)
    application = _own_application(session, viewer, organisation_id, application_id)
    page.update(_form_context(session, clock.now(), _values_of(application), {}))
    return _application_form(request, viewer, page, application)


@router.post("/applications/{application_id}/edit")
async def edit_application(
    request: Request,
    organisation_id: uuid.UUID,
    application_id: uuid.UUID,
    viewer: CurrentViewer,
    session: PageSession,
    clock: PageClock,
) -> Response:
    page = organisation_page(session, viewer, organisation_id)
    application = _own_application(session, viewer, organisation_id, application_id)
    form = Form(await checked_form(request), translator(viewer.locale))
    changes = _read_application_form(form)
    if form.attempt(
        session,
        FIELDS,
        lambda: applications.update_application(session, viewer.subject, application_id, changes),
    ):
        return RedirectResponse(
            f"/orgs/{organisation_id}/applications/{application_id}", status_code=303
        )
    page.update(_form_context(session, clock.now(), {n: form.raw(n) for n in FIELDS}, form.errors))
    return _application_form(request, viewer, page, application, form)


APPLICANT_MOVES = {
    "submit": ApplicationStatus.SUBMITTED,
    "resubmit": ApplicationStatus.UNDER_REVIEW,
    "withdraw": ApplicationStatus.WITHDRAWN,
}


@router.post("/applications/{application_id}/transition")
async def move_application(
    request: Request,
    organisation_id: uuid.UUID,
    application_id: uuid.UUID,
    viewer: CurrentViewer,
    session: PageSession,
    clock: PageClock,
) -> Response:
    page = organisation_page(session, viewer, organisation_id)
    application = _own_application(session, viewer, organisation_id, application_id)
    form = Form(await checked_form(request), translator(viewer.locale))
    action = form.choice("action", APPLICANT_MOVES)
    reason = form.text("reason", max_length=5000)
    if action is not None and form.attempt(
        session,
        ("reason",),
        lambda: applications.move(
            session,
            viewer.subject,
            application_id,
            APPLICANT_MOVES[action],
            reason=reason or action,
            at=clock.now(),
        ),
    ):
        return RedirectResponse(
            f"/orgs/{organisation_id}/applications/{application_id}", status_code=303
        )
    session.refresh(application)
    page.update(
        estimate=_estimate(session, application, clock.now()),
        application=application,
        history=applications.history(session, viewer.subject, application_id),
        editable=application.status in EDITABLE_STATES,
        errors=form.errors,
        form_error=form.form_error,
    )
    return render(
        request,
        "applicant/application.html",
        page,
        viewer=viewer,
        active="applications",
        status_code=409 if form.form_error else 400,
    )
