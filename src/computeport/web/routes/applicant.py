"""The applicant's pages under ``/orgs/{organisation_id}``: applications (create, edit, submit,
answer a revision request, withdraw), awards with burn-down, jobs and invoices.

Only members of the organisation open these pages; anyone else gets 404, as from the API.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from computeport.application import service as applications
from computeport.application.errors import ApplicationNotFound
from computeport.application.service import EDITABLE_FIELD_ORDER, ComputeRequest
from computeport.application.workflow import EDITABLE_STATES
from computeport.award.errors import AwardNotFound
from computeport.award.queries import get_readable, list_awards
from computeport.backends import JobNotFound
from computeport.envelope.service import get_scheme
from computeport.identity.service import get_organisation
from computeport.invoicing.render import document_csv, document_pdf
from computeport.kit.accelerators import KNOWN_ACCELERATOR_TYPES
from computeport.kit.errors import DomainError, NotFound
from computeport.models.application import Application, ApplicationStatus, Precision, WorkloadKind
from computeport.models.award import Award, AwardStatus
from computeport.scheme.service import open_calls
from computeport.web import charts
from computeport.web.deps import CurrentViewer, PageClock, PageCluster, PageSession
from computeport.web.forms import Form
from computeport.web.i18n import translator
from computeport.web.routes.ops import REASON_LABELS
from computeport.web.security import checked_form
from computeport.web.templating import render
from computeport.web.viewer import Viewer
from computeport.web.views.awards import award_uses, burn_down
from computeport.web.views.invoices import organisation_document, organisation_documents
from computeport.web.views.jobs import DEFAULT_SCRIPT, cancel_job, organisation_jobs, submit_job
from computeport.web.views.usage import money_by_month

router = APIRouter(prefix="/orgs/{organisation_id}", include_in_schema=False)

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


def _page(
    request: Request, template: str, page: dict[str, Any], viewer: Viewer, status: int = 200
) -> Response:
    """Render an applicant page; the navigation highlights the area it belongs to."""
    area = template.split("/")[-1].split(".")[0]
    active = {"application": "applications", "application_form": "applications"}.get(
        area, area if area in ("applications", "jobs", "invoices") else "awards"
    )
    return render(request, template, page, viewer=viewer, active=active, status_code=status)


def _member(viewer: Viewer, organisation_id: uuid.UUID) -> None:
    viewer.require_member_of(organisation_id)


def _base(session: Any, viewer: Viewer, organisation_id: uuid.UUID) -> dict[str, Any]:
    _member(viewer, organisation_id)
    organisation = get_organisation(session, organisation_id, viewer.subject)
    return {"organisation": organisation, "org_base": f"/orgs/{organisation_id}"}


def _own_application(
    session: Any, viewer: Viewer, organisation_id: uuid.UUID, application_id: uuid.UUID
) -> Application:
    application = applications.get_application(session, viewer.subject, application_id)
    if application.organisation_id != organisation_id:
        raise ApplicationNotFound(f"no application {application_id}")
    return application


@router.get("")
def organisation_home(organisation_id: uuid.UUID, viewer: CurrentViewer) -> Response:
    _member(viewer, organisation_id)
    return RedirectResponse(f"/orgs/{organisation_id}/applications", status_code=303)


@router.get("/applications")
def application_list(
    request: Request, organisation_id: uuid.UUID, viewer: CurrentViewer, session: PageSession
) -> Response:
    page = _base(session, viewer, organisation_id)
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
    return {
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
    page = _base(session, viewer, organisation_id)
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
    page = _base(session, viewer, organisation_id)
    form = Form(await checked_form(request), translator(viewer.locale))
    changes = _read_application_form(form)
    if form.ok:
        try:
            created = applications.create_application(
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
            )
        except DomainError as error:
            form.absorb(error, FIELDS)
        else:
            return RedirectResponse(
                f"/orgs/{organisation_id}/applications/{created.id}", status_code=303
            )
    values = {name: form.raw(name) for name in FIELDS}
    page.update(_form_context(session, clock.now(), values, form.errors))
    return _application_form(request, viewer, page, None, form)


@router.get("/applications/{application_id}")
def application_detail(
    request: Request,
    organisation_id: uuid.UUID,
    application_id: uuid.UUID,
    viewer: CurrentViewer,
    session: PageSession,
) -> Response:
    page = _base(session, viewer, organisation_id)
    application = _own_application(session, viewer, organisation_id, application_id)
    page.update(
        application=application,
        history=applications.history(session, viewer.subject, application_id),
        editable=application.status in EDITABLE_STATES,
        errors={},
        form_error=None,
    )
    return _page(request, "applicant/application.html", page, viewer)


@router.get("/applications/{application_id}/edit")
def edit_application_form(
    request: Request,
    organisation_id: uuid.UUID,
    application_id: uuid.UUID,
    viewer: CurrentViewer,
    session: PageSession,
    clock: PageClock,
) -> Response:
    page = _base(session, viewer, organisation_id)
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
    page = _base(session, viewer, organisation_id)
    application = _own_application(session, viewer, organisation_id, application_id)
    form = Form(await checked_form(request), translator(viewer.locale))
    changes = _read_application_form(form)
    if form.ok:
        try:
            applications.update_application(session, viewer.subject, application_id, changes)
        except DomainError as error:
            form.absorb(error, FIELDS)
        else:
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
    page = _base(session, viewer, organisation_id)
    application = _own_application(session, viewer, organisation_id, application_id)
    form = Form(await checked_form(request), translator(viewer.locale))
    action = form.choice("action", APPLICANT_MOVES)
    reason = form.text("reason", max_length=5000)
    if action is not None and form.ok:
        try:
            with session.begin_nested():
                applications.move(
                    session,
                    viewer.subject,
                    application_id,
                    APPLICANT_MOVES[action],
                    reason=reason or action,
                    at=clock.now(),
                )
        except DomainError as error:
            form.absorb(error, ("reason",))
        else:
            return RedirectResponse(
                f"/orgs/{organisation_id}/applications/{application_id}", status_code=303
            )
    session.refresh(application)
    page.update(
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


# -- awards, jobs, invoices ----------------------------------------------------------------


def _awards(session: Session, viewer: Viewer, organisation_id: uuid.UUID) -> list[Award]:
    return list_awards(session, viewer.subject, organisation_id=organisation_id, limit=500)


@router.get("/awards")
def award_list(
    request: Request,
    organisation_id: uuid.UUID,
    viewer: CurrentViewer,
    session: PageSession,
) -> Response:
    page = _base(session, viewer, organisation_id)
    page["uses"] = award_uses(session, _awards(session, viewer, organisation_id))
    return _page(request, "applicant/awards.html", page, viewer)


@router.get("/awards/{award_id}")
def award_detail(
    request: Request,
    organisation_id: uuid.UUID,
    award_id: uuid.UUID,
    viewer: CurrentViewer,
    session: PageSession,
    clock: PageClock,
) -> Response:
    page = _base(session, viewer, organisation_id)
    award = get_readable(session, viewer.subject, award_id)
    if award.organisation_id != organisation_id:
        raise AwardNotFound(f"award {award_id} not found")
    use = award_uses(session, [award])[0]
    burn = burn_down(session, use, clock.now())
    _ = translator(viewer.locale)
    future = len(burn.months) - len(burn.remaining_hours)
    padded: list[float | None] = [*burn.remaining_hours, *([None] * future)]
    spec = charts.lines(
        burn.months,
        [
            (_("GPU-hours left"), padded),
            (_("Even pace"), burn.ideal_hours),
        ],
        y_title=_("GPU-hours"),
        dashed=(_("Even pace"),),
    )
    months = money_by_month(session, award_id=award.id)
    page.update(use=use, burn=burn, chart_spec=spec, months=months)
    return _page(request, "applicant/award.html", page, viewer)


@router.get("/jobs")
def job_list(
    request: Request,
    organisation_id: uuid.UUID,
    viewer: CurrentViewer,
    session: PageSession,
    cluster: PageCluster,
) -> Response:
    page = _base(session, viewer, organisation_id)
    awards = _awards(session, viewer, organisation_id)
    page.update(
        jobs=organisation_jobs(cluster, awards) if cluster is not None else None,
        awards=[a for a in awards if a.status is AwardStatus.ACTIVE],
        errors={},
        form_error=None,
        values={
            "name": "train",
            "gpus": "8",
            "time_limit_minutes": "240",
            "script": DEFAULT_SCRIPT,
        },
        reason_labels=REASON_LABELS,
        submitted=request.query_params.get("submitted"),
    )
    return _page(request, "applicant/jobs.html", page, viewer)


@router.post("/jobs")
async def submit(
    request: Request,
    organisation_id: uuid.UUID,
    viewer: CurrentViewer,
    session: PageSession,
    cluster: PageCluster,
) -> Response:
    page = _base(session, viewer, organisation_id)
    awards = _awards(session, viewer, organisation_id)
    form = Form(await checked_form(request), translator(viewer.locale))
    active = [a for a in awards if a.status is AwardStatus.ACTIVE]
    award = form.choice("award_id", [str(a.id) for a in active])
    gpus = form.integer("gpus", minimum=1, maximum=4096)
    limit = form.integer("time_limit_minutes", minimum=1, maximum=14 * 24 * 60)
    name = form.text("name", max_length=64)
    script = form.text("script", required=True, max_length=100_000)
    if script and not script.startswith("#!"):
        form.errors["script"] = form._("A batch script starts with #!.")
    if cluster is None:
        form.form_error = form._("The cluster is not connected.")
    if form.ok and cluster is not None and award and gpus and limit:
        try:
            job_id = submit_job(
                cluster,
                active,
                award_id=uuid.UUID(award),
                user=viewer.posix_username,
                name=name,
                gpus=gpus,
                time_limit_minutes=limit,
                script=script.replace("\r\n", "\n") + ("" if script.endswith("\n") else "\n"),
            )
        except DomainError as error:
            form.absorb(error, ("award_id", "gpus", "time_limit_minutes", "name", "script"))
        else:
            return RedirectResponse(
                f"/orgs/{organisation_id}/jobs?submitted={job_id}", status_code=303
            )
    page.update(
        jobs=organisation_jobs(cluster, awards) if cluster is not None else None,
        awards=active,
        errors=form.errors,
        form_error=form.form_error,
        values={n: form.raw(n) for n in ("name", "gpus", "time_limit_minutes", "script")},
        reason_labels=REASON_LABELS,
        submitted=None,
    )
    return _page(request, "applicant/jobs.html", page, viewer, status=400)


@router.post("/jobs/{job_id}/cancel")
async def cancel(
    request: Request,
    organisation_id: uuid.UUID,
    job_id: str,
    viewer: CurrentViewer,
    session: PageSession,
    cluster: PageCluster,
) -> Response:
    _base(session, viewer, organisation_id)
    await checked_form(request)
    if cluster is None:
        raise JobNotFound(f"no job {job_id}")
    cancel_job(cluster, _awards(session, viewer, organisation_id), job_id)
    return RedirectResponse(f"/orgs/{organisation_id}/jobs", status_code=303)


@router.get("/invoices")
def invoice_list(
    request: Request, organisation_id: uuid.UUID, viewer: CurrentViewer, session: PageSession
) -> Response:
    page = _base(session, viewer, organisation_id)
    page["months"] = money_by_month(session, organisation_id=organisation_id)
    page["documents"] = organisation_documents(session, organisation_id)
    return _page(request, "applicant/invoices.html", page, viewer)


@router.get("/invoices/{document_id}.{fmt}")
def invoice_file(
    organisation_id: uuid.UUID,
    document_id: uuid.UUID,
    fmt: str,
    viewer: CurrentViewer,
    session: PageSession,
) -> Response:
    """An invoice as PDF (rendered by the invoicing service) or CSV."""
    _member(viewer, organisation_id)
    doc = organisation_document(session, organisation_id, document_id)
    if fmt == "pdf":
        return Response(
            document_pdf(doc),
            media_type="application/pdf",
            headers={"content-disposition": f'inline; filename="{doc.number}.pdf"'},
        )
    if fmt == "csv":
        return Response(
            document_csv(doc),
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": f'attachment; filename="{doc.number}.csv"'},
        )
    raise NotFound(f"no format {fmt}")
