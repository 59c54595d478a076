"""The applicant's jobs on the cluster: the list with the scheduler's reasons, submitting a
batch script against an active award, cancelling."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from computeport.backends import JobNotFound
from computeport.models.award import AwardStatus
from computeport.web.deps import CurrentViewer, PageCluster, PageSession
from computeport.web.forms import Form
from computeport.web.i18n import translator
from computeport.web.routes.applicant.pages import (
    PREFIX,
    organisation_awards,
    organisation_page,
    render_page,
)
from computeport.web.security import checked_form
from computeport.web.views.jobs import DEFAULT_SCRIPT, cancel_job, organisation_jobs, submit_job
from computeport.web.views.reasons import REASON_LABELS

router = APIRouter(prefix=PREFIX, include_in_schema=False)

JOB_FIELDS = ("award_id", "gpus", "time_limit_minutes", "name", "script")


@router.get("/jobs")
def job_list(
    request: Request,
    organisation_id: uuid.UUID,
    viewer: CurrentViewer,
    session: PageSession,
    cluster: PageCluster,
) -> Response:
    page = organisation_page(session, viewer, organisation_id)
    awards = organisation_awards(session, viewer, organisation_id)
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
    return render_page(request, "applicant/jobs.html", page, viewer)


@router.post("/jobs")
async def submit(
    request: Request,
    organisation_id: uuid.UUID,
    viewer: CurrentViewer,
    session: PageSession,
    cluster: PageCluster,
) -> Response:
    page = organisation_page(session, viewer, organisation_id)
    awards = organisation_awards(session, viewer, organisation_id)
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
    if cluster is not None and award and gpus and limit:
        # The cluster call writes no rows: no savepoint to guard.
        done = form.attempt(
            None,
            JOB_FIELDS,
            lambda: submit_job(
                cluster,
                active,
                award_id=uuid.UUID(award),
                user=viewer.posix_username,
                name=name,
                gpus=gpus,
                time_limit_minutes=limit,
                script=script.replace("\r\n", "\n") + ("" if script.endswith("\n") else "\n"),
            ),
        )
        if done is not None:
            return RedirectResponse(
                f"/orgs/{organisation_id}/jobs?submitted={done.value}", status_code=303
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
    return render_page(request, "applicant/jobs.html", page, viewer, status=400)


@router.post("/jobs/{job_id}/cancel")
async def cancel(
    request: Request,
    organisation_id: uuid.UUID,
    job_id: str,
    viewer: CurrentViewer,
    session: PageSession,
    cluster: PageCluster,
) -> Response:
    organisation_page(session, viewer, organisation_id)
    await checked_form(request)
    if cluster is None:
        raise JobNotFound(f"no job {job_id}")
    cancel_job(cluster, organisation_awards(session, viewer, organisation_id), job_id)
    return RedirectResponse(f"/orgs/{organisation_id}/jobs", status_code=303)
