"""``/inference``: the operator's, the scheme officer's and the funder's view of the inference
gateway — tokens and requests per model and per department, latency percentiles, the error
rate, and the share of government departments that used the service in the month."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from computeport.gateway.figures import FIGURE_READERS
from computeport.web.deps import CurrentViewer, PageSession
from computeport.web.i18n import translator
from computeport.web.templating import render
from computeport.web.views.inference import inference_context

router = APIRouter(include_in_schema=False)


@router.get("/inference")
def inference_page(
    request: Request, viewer: CurrentViewer, session: PageSession, period: str | None = None
) -> Response:
    viewer.require(*FIGURE_READERS)
    # The gateway meters on the wall clock (its months are real), not the simulated cluster's.
    gateway = getattr(request.app.state, "gateway", None)
    now = (gateway.clock if gateway is not None else request.app.state.cp.clock).now()
    context = inference_context(session, period, now, translator(viewer.locale))
    return render(request, "inference.html", context, viewer=viewer, active="inference-figures")
