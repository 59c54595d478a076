"""The policy lab page: operators and the committee ask "what if" of the last N days.

``/lab`` shows the question form and the saved studies; posting it replays the window (the
baseline and each change, a few seconds for 90 days of the demo) and saves the answer, then
``/lab/{id}`` reads it: the baseline's fidelity, a chart and the side-by-side tables, with the
JSON and CSV exports. A bad question is shown again with the reason (422), nothing saved.
"""

from __future__ import annotations

import json
import uuid

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from computeport.kit.errors import DomainError
from computeport.lab.service import MAX_CHANGES, MAX_DAYS, Question, ask
from computeport.lab.store import load_study, recent_studies
from computeport.lab.study import csv_of
from computeport.models.identity import Role
from computeport.web.deps import CurrentViewer, PageClock, PageCluster, PageSession
from computeport.web.forms import Form
from computeport.web.i18n import translator
from computeport.web.security import checked_form
from computeport.web.templating import render
from computeport.web.views.lab import lab_chart, lab_rows

router = APIRouter(include_in_schema=False)

LAB_USERS = (Role.OPERATOR, Role.SCHEME_OFFICER, Role.COMMITTEE_MEMBER)
EXAMPLE = "reserve=government:10"


def _form_page(
    request: Request,
    viewer: CurrentViewer,
    session: PageSession,
    values: dict[str, str],
    error: str | None = None,
    status: int = 200,
) -> Response:
    return render(
        request,
        "lab.html",
        {
            "studies": recent_studies(session),
            "values": values,
            "form_error": error,
            "max_changes": MAX_CHANGES,
        },
        viewer=viewer,
        status_code=status,
        active="lab",
    )


@router.get("/lab")
def lab_page(request: Request, viewer: CurrentViewer, session: PageSession) -> Response:
    viewer.require(*LAB_USERS)
    return _form_page(request, viewer, session, {"days": "90", "changes": EXAMPLE, "policy": ""})


@router.post("/lab")
async def lab_ask(
    request: Request,
    viewer: CurrentViewer,
    session: PageSession,
    clock: PageClock,
    cluster: PageCluster,
) -> Response:
    viewer.require(*LAB_USERS)
    form = Form(await checked_form(request), translator(viewer.locale))
    days = form.integer("days", minimum=1, maximum=MAX_DAYS)
    changes = [line.strip() for line in form.text("changes", max_length=4000).splitlines()]
    policy = form.text("policy", max_length=20000)
    values = {"days": form.raw("days"), "changes": form.raw("changes"), "policy": policy}
    if days is None:
        return _form_page(request, viewer, session, values, form.errors.get("days"), 422)
    try:
        with session.begin_nested():
            question = Question.last_days(clock.now(), days, [c for c in changes if c], policy)
            study_id, _study = ask(
                session, cluster, question, clock=clock, requested_by=viewer.subject.user_id
            )
    except DomainError as error:
        return _form_page(request, viewer, session, values, error.message, 422)
    return RedirectResponse(f"/lab/{study_id}", status_code=303)


@router.get("/lab/{study_id}")
def lab_study(
    request: Request, study_id: uuid.UUID, viewer: CurrentViewer, session: PageSession
) -> Response:
    viewer.require(*LAB_USERS)
    study = load_study(session, study_id)
    _ = translator(viewer.locale)
    result = study.result
    longest = [(s["name"], s["longest_waits"][:5]) for s in result["scenarios"]]
    return render(
        request,
        "lab_study.html",
        {
            "study": study,
            "result": result,
            "fidelity": result["baseline_fidelity"],
            "chart_spec": lab_chart(result, _),
            "by_category": lab_rows(result, "by_category"),
            "by_org": lab_rows(result, "by_org"),
            "utilisation": [(s["name"], s["utilisation"]) for s in result["scenarios"]],
            "longest": longest,
        },
        viewer=viewer,
        active="lab",
    )


@router.get("/lab/{study_id}/study.json")
def lab_json(study_id: uuid.UUID, viewer: CurrentViewer, session: PageSession) -> Response:
    viewer.require(*LAB_USERS)
    study = load_study(session, study_id)
    return Response(
        json.dumps(study.result, indent=2),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="lab-{study_id}.json"'},
    )


@router.get("/lab/{study_id}/table.csv")
def lab_csv(study_id: uuid.UUID, viewer: CurrentViewer, session: PageSession) -> Response:
    viewer.require(*LAB_USERS)
    study = load_study(session, study_id)
    return Response(
        csv_of(study.result),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="lab-{study_id}.csv"'},
    )
