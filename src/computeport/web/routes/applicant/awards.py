"""The applicant's awards: the list with what each has used, and one award's burn-down."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import Response

from computeport.award.repository import get_readable
from computeport.web import charts
from computeport.web.deps import CurrentViewer, PageClock, PageSession
from computeport.web.i18n import translator
from computeport.web.routes.applicant.pages import (
    PREFIX,
    organisation_awards,
    organisation_page,
    render_page,
)
from computeport.web.views.awards import award_uses, burn_down
from computeport.web.views.usage import money_by_month

router = APIRouter(prefix=PREFIX, include_in_schema=False)


@router.get("/awards")
def award_list(
    request: Request,
    organisation_id: uuid.UUID,
    viewer: CurrentViewer,
    session: PageSession,
) -> Response:
    page = organisation_page(session, viewer, organisation_id)
    page["uses"] = award_uses(session, organisation_awards(session, viewer, organisation_id))
    return render_page(request, "applicant/awards.html", page, viewer)


@router.get("/awards/{award_id}")
def award_detail(
    request: Request,
    organisation_id: uuid.UUID,
    award_id: uuid.UUID,
    viewer: CurrentViewer,
    session: PageSession,
    clock: PageClock,
) -> Response:
    page = organisation_page(session, viewer, organisation_id)
    award = get_readable(session, viewer.subject, award_id, organisation_id=organisation_id)
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
    return render_page(request, "applicant/award.html", page, viewer)
