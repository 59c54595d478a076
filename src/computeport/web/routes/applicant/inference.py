"""The department's inference page: its gateway keys and its usage (tokens of chat, seconds of
transcribed audio), spend and subsidy by day and model this month (the same read as
``GET /api/v1/inference-usage``)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import Response

from computeport.gateway.keys import organisation_keys
from computeport.gateway.repository import usage_by_day_and_model
from computeport.kit.periods import parse_period, period_of
from computeport.web.deps import CurrentViewer, PageSession
from computeport.web.routes.applicant.pages import PREFIX, organisation_page, render_page

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
    page["keys"] = organisation_keys(session, organisation_id)
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
