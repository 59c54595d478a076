"""The department's inference page: its gateway keys, its data policy (redaction, allowed
sites, how many identifiers were redacted this month), its usage (tokens of chat, seconds of
transcribed audio), spend and subsidy by day and model this month (the same read as
``GET /api/v1/inference-usage``), its money budgets with the
period they follow (the calendar month in Hong Kong time) and when they reset, and the forms
that issue a key per application and revoke one.

Who may do what follows the management API: members see the keys (their prefix, never the
secret); the organisation's admin or an operator issues and revokes (an operator reaches the
page without belonging to the department, as they do through the API).  A new key is shown on
the answer to the form that made it, once (``Cache-Control: no-store``), and never again.
"""

from __future__ import annotations

import uuid
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from computeport.gateway.budget_admin import budget_report
from computeport.gateway.keys import issue_key, may_manage_keys, organisation_keys, revoke_key
from computeport.gateway.repository import (
    key_of,
    policy_of,
    redactions_since,
    usage_by_day_and_model,
)
from computeport.identity.service import get_organisation
from computeport.kit.errors import NotFound, PermissionDenied
from computeport.kit.periods import parse_period, period_of
from computeport.models.identity import Role
from computeport.web.deps import CurrentViewer, PageSession
from computeport.web.forms import Form
from computeport.web.i18n import translator
from computeport.web.routes.applicant.pages import PREFIX, organisation_page, render_page
from computeport.web.security import checked_form
from computeport.web.viewer import Viewer
from computeport.web.views.rate_card import site_names

router = APIRouter(prefix=PREFIX, include_in_schema=False)

MONEY_AND_TOKENS = (
    "requests",
    "prompt_tokens",
    "completion_tokens",
    "audio_seconds",
    "list_minor",
    "subsidy_minor",
    "copay_minor",
)


def _base(session: Any, viewer: Viewer, organisation_id: uuid.UUID) -> dict[str, Any]:
    """The page's base context: a member's, or an operator's (staff see every department)."""
    if viewer.subject.has_role(Role.OPERATOR):
        organisation = get_organisation(session, organisation_id, viewer.subject)
        return {"organisation": organisation, "org_base": f"/orgs/{organisation_id}"}
    return organisation_page(session, viewer, organisation_id)


def _usage(request: Request, session: Any, organisation_id: uuid.UUID) -> dict[str, Any]:
    clock = request.app.state.cp.clock
    gateway = getattr(request.app.state, "gateway", None)
    now = gateway.clock.now() if gateway is not None else clock.now()
    period = period_of(now)
    start, end = parse_period(period)
    usage = [
        {
            "day": str(day)[:10],
            "model": model,
            "requests": int(n),
            "prompt_tokens": int(p or 0),
            "completion_tokens": int(c or 0),
            "audio_seconds": round(int(ms) / 1000),
            "list_minor": int(lst),
            "subsidy_minor": int(sub),
            "copay_minor": int(cop),
        }
        for day, model, n, p, c, ms, lst, sub, cop in usage_by_day_and_model(
            session, organisation_id, start, end
        )
    ]
    totals = {k: sum(int(str(r[k])) for r in usage) for k in MONEY_AND_TOKENS}
    zone = ZoneInfo(request.app.state.cp.settings.gateway_budget_timezone)
    return {
        "period": period,
        "usage": usage,
        "totals": totals,
        "budgets": budget_report(session, organisation_id, now, zone),
        "redactions": redactions_since(session, organisation_id, start),
    }


def _policy(session: Any, viewer: Viewer, organisation_id: uuid.UUID, redactions: int) -> Any:
    """The data policy as the page shows it: sites by name in the reader's language."""
    policy = policy_of(session, organisation_id)
    names = site_names(session, zh=viewer.locale == "zh-Hant")
    sites = policy.sites if policy is not None else None
    return {
        "redact": policy is not None and policy.redact,
        "sites": [names.get(k, k) for k in sites] if sites is not None else None,
        "redactions": redactions,
    }


def _render(
    request: Request,
    session: Any,
    viewer: Viewer,
    organisation_id: uuid.UUID,
    page: dict[str, Any],
    *,
    form: Form | None = None,
    issued: str | None = None,
    status: int = 200,
) -> Response:
    page.update(_usage(request, session, organisation_id))
    page["policy"] = _policy(session, viewer, organisation_id, page.pop("redactions"))
    page.update(
        keys=organisation_keys(session, organisation_id),
        may_manage=may_manage_keys(viewer.subject, organisation_id),
        issued=issued,
        errors=form.errors if form is not None else {},
        form_error=form.form_error if form is not None else None,
        application=form.raw("application") if form is not None and issued is None else "",
    )
    response = render_page(request, "applicant/inference.html", page, viewer, status=status)
    if issued is not None:
        response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/inference")
def inference_page(
    request: Request, organisation_id: uuid.UUID, viewer: CurrentViewer, session: PageSession
) -> Response:
    page = _base(session, viewer, organisation_id)
    return _render(request, session, viewer, organisation_id, page)


@router.post("/inference/keys")
async def issue(
    request: Request, organisation_id: uuid.UUID, viewer: CurrentViewer, session: PageSession
) -> Response:
    page = _base(session, viewer, organisation_id)
    form = Form(await checked_form(request), translator(viewer.locale))
    if not may_manage_keys(viewer.subject, organisation_id):
        raise PermissionDenied("only the organisation's admin or an operator issues keys")
    application = form.text("application", required=True, max_length=100)
    clock = request.app.state.cp.clock
    done = form.attempt(
        session,
        ("application",),
        lambda: issue_key(
            session, clock, organisation_id, application, created_by=viewer.subject.user_id
        ),
    )
    if done is None:
        return _render(request, session, viewer, organisation_id, page, form=form, status=400)
    return _render(request, session, viewer, organisation_id, page, issued=done.value.plaintext)


@router.post("/inference/keys/{key_id}/revoke")
async def revoke(
    request: Request,
    organisation_id: uuid.UUID,
    key_id: uuid.UUID,
    viewer: CurrentViewer,
    session: PageSession,
) -> Response:
    _base(session, viewer, organisation_id)
    await checked_form(request)
    if key_of(session, key_id, organisation_id) is None:
        raise NotFound(f"gateway key {key_id} not found", field="key_id")
    if not may_manage_keys(viewer.subject, organisation_id):
        raise PermissionDenied("only the organisation's admin or an operator revokes keys")
    revoke_key(session, request.app.state.cp.clock, key_id, organisation_id)
    gateway = getattr(request.app.state, "gateway", None)
    if gateway is not None:
        gateway.lookups.forget_key(key_id)  # this process at once; others within their cache
    return RedirectResponse(f"/orgs/{organisation_id}/inference", status_code=303)
