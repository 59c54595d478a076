"""The department's inference page: its gateway keys, its data policy (redaction, allowed
sites, how many identifiers were redacted this month), its usage (tokens of chat, seconds of
transcribed audio), spend and subsidy by day and model this month (the same read as
``GET /api/v1/inference-usage``), and its money budgets with the period they follow (the
calendar month in Hong Kong time) and when they reset."""

from __future__ import annotations

import uuid
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import Response

from computeport.gateway.budget_admin import budget_report
from computeport.gateway.keys import organisation_keys
from computeport.gateway.repository import policy_of, redactions_since, usage_by_day_and_model
from computeport.kit.periods import parse_period, period_of
from computeport.web.deps import CurrentViewer, PageSession
from computeport.web.routes.applicant.pages import PREFIX, organisation_page, render_page
from computeport.web.views.rate_card import site_names

router = APIRouter(prefix=PREFIX, include_in_schema=False)


@router.get("/inference")
def inference_page(
    request: Request, organisation_id: uuid.UUID, viewer: CurrentViewer, session: PageSession
) -> Response:
    page = organisation_page(session, viewer, organisation_id)
    clock = request.app.state.cp.clock
    gateway = getattr(request.app.state, "gateway", None)
    now = gateway.clock.now() if gateway is not None else clock.now()
    period = period_of(now)
    start, end = parse_period(period)
    rows = usage_by_day_and_model(session, organisation_id, start, end)
    page["period"] = period
    zone = ZoneInfo(request.app.state.cp.settings.gateway_budget_timezone)
    page["budgets"] = budget_report(session, organisation_id, now, zone)
    page["keys"] = organisation_keys(session, organisation_id)
    policy = policy_of(session, organisation_id)
    names = site_names(session, zh=viewer.locale == "zh-Hant")
    sites = policy.sites if policy is not None else None
    page["policy"] = {
        "redact": policy is not None and policy.redact,
        "sites": [names.get(k, k) for k in sites] if sites is not None else None,
        "redactions": redactions_since(session, organisation_id, start),
    }
    page["usage"] = [
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
        for day, model, n, p, c, ms, lst, sub, cop in rows
    ]
    page["totals"] = {
        k: sum(int(str(r[k])) for r in page["usage"])
        for k in (
            "requests",
            "prompt_tokens",
            "completion_tokens",
            "audio_seconds",
            "list_minor",
            "subsidy_minor",
            "copay_minor",
        )
    }
    return render_page(request, "applicant/inference.html", page, viewer)
