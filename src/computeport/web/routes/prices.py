"""The rate card page: every price in force today and the next announced change, for anyone
signed in (applicants read it before they apply; the scheme pays its share of these prices)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from computeport.web.deps import CurrentViewer, PageClock, PageSession
from computeport.web.templating import render
from computeport.web.views.rate_card import rate_card_rows

router = APIRouter(include_in_schema=False)


@router.get("/prices")
def rate_card_page(
    request: Request, viewer: CurrentViewer, session: PageSession, clock: PageClock
) -> Response:
    now = clock.now()
    rows = rate_card_rows(session, now, zh=viewer.locale == "zh-Hant")
    return render(
        request,
        "rate_card.html",
        {
            "rows": rows,
            "today": now,
            "assumed": any(r.in_force is not None and r.in_force.assumed for r in rows),
        },
        viewer=viewer,
        active="prices",
    )


__all__ = ["router"]
