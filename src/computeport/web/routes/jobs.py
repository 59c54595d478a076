"""The centre's jobs for operators and scheme officers: every job on the cluster, filtered by
state, partition, account, organisation and user, a page at a time; and the staff view of an
award, which each job links to.

The operations page shows the first jobs of each kind and links here for the rest.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from computeport.award.repository import get_readable
from computeport.award.share_commitments import committed_on_source
from computeport.award.shares import SHARE_MOVERS, move_hours
from computeport.backends import JobState
from computeport.kit.errors import NotFound
from computeport.models.identity import Organisation
from computeport.web import charts
from computeport.web.deps import CurrentViewer, PageClock, PageCluster, PageSession, portal_state
from computeport.web.forms import WHOLE_NUMBER, Form
from computeport.web.i18n import translator
from computeport.web.security import checked_form
from computeport.web.templating import render
from computeport.web.viewer import OPS_READERS, Viewer
from computeport.web.views.award_shares import shares_panel
from computeport.web.views.awards import award_uses, burn_down
from computeport.web.views.reasons import REASON_LABELS
from computeport.web.views.staff_jobs import JobFilters, centre_jobs
from computeport.web.views.usage import money_by_month

router = APIRouter(include_in_schema=False)

MAX_MOVE_HOURS = 10**9
"""Most GPU-hours one move may name (the award itself bounds it far below)."""
SHARE_FIELDS = ("accelerator_type", "from", "to", "hours", "reason")

MAX_FILTER = 64
"""Longest partition, account or user name a filter keeps (Slurm's own names are shorter)."""


def _uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text) if text else None
    except ValueError:
        return None


def _name(text: str) -> str | None:
    text = text.strip()
    return text if text and len(text) <= MAX_FILTER and text.isprintable() else None


@router.get("/jobs")
def jobs_page(
    request: Request,
    viewer: CurrentViewer,
    session: PageSession,
    cluster: PageCluster,
    state: str = "",
    partition: str = "",
    account: str = "",
    organisation: str = "",
    user: str = "",
    page: str = "1",
) -> Response:
    """Every job the scheduler holds; filters (and the page number) ignore bad values, as the
    billing desk's do, so a hand-edited address still shows a list."""
    viewer.require(*OPS_READERS)
    filters = JobFilters(
        state=JobState(state) if state in set(JobState) else None,
        partition=_name(partition),
        account=_name(account),
        organisation_id=_uuid(organisation),
        user=_name(user),
    )
    listing = (
        centre_jobs(
            session, cluster, filters, page=int(page) if WHOLE_NUMBER.fullmatch(page) else 1
        )
        if cluster is not None
        else None
    )

    def page_url(number: int) -> str:
        return "/jobs?" + urlencode({**request.query_params, "page": str(number)})

    return render(
        request,
        "jobs.html",
        {
            "listing": listing,
            "filters": filters,
            "page_url": page_url,
            "reason_labels": REASON_LABELS,
        },
        viewer=viewer,
        active="centre-jobs",
    )


def _award_context(
    session: Session, viewer: Viewer, award_id: uuid.UUID, now: datetime
) -> dict[str, Any]:
    """The staff award page: use, burn-down, months, and its GPU-hours per cluster."""
    award = get_readable(session, viewer.subject, award_id)
    organisation = session.get(Organisation, award.organisation_id)
    if organisation is None:  # pragma: no cover - a foreign key guarantees it
        raise NotFound("no such organisation")
    use = award_uses(session, [award])[0]
    burn = burn_down(session, use, now)
    _ = translator(viewer.locale)
    future = len(burn.months) - len(burn.remaining_hours)
    padded: list[float | None] = [*burn.remaining_hours, *([None] * future)]
    spec = charts.lines(
        burn.months,
        [(_("GPU-hours left"), padded), (_("Even pace"), burn.ideal_hours)],
        y_title=_("GPU-hours"),
        dashed=(_("Even pace"),),
    )
    return {
        "organisation": organisation,
        "org_base": f"/jobs?organisation={organisation.id}",
        "use": use,
        "burn": burn,
        "chart_spec": spec,
        "months": money_by_month(session, award_id=award.id),
        "jobs_url": "/jobs?" + urlencode({"account": award.slurm_account}),
        "shares": shares_panel(session, award, viewer),
        "errors": {},
        "form_error": None,
        "form": {},
    }


@router.get("/awards/{award_id}")
def award_page(
    request: Request,
    award_id: uuid.UUID,
    viewer: CurrentViewer,
    session: PageSession,
    clock: PageClock,
) -> Response:
    """An award as its organisation sees it (use, burn-down, months), for staff."""
    viewer.require(*OPS_READERS)
    page = _award_context(session, viewer, award_id, clock.now())
    return render(request, "applicant/award.html", page, viewer=viewer, active="centre-jobs")


@router.post("/awards/{award_id}/shares")
async def move_award_hours(
    request: Request,
    award_id: uuid.UUID,
    viewer: CurrentViewer,
    session: PageSession,
    clock: PageClock,
    cluster: PageCluster,
) -> Response:
    """Move GPU-hours between the award's clusters and its reserve: the audited amendment of
    ``POST /api/v1/awards/{id}/shares``, with the same floor (used plus what the source's
    queued and running jobs reserve); a refusal is shown at its field, nothing moved."""
    viewer.require(*SHARE_MOVERS)
    award = get_readable(session, viewer.subject, award_id)
    panel = shares_panel(session, award, viewer)
    form = Form(await checked_form(request), translator(viewer.locale))
    kind = form.choice("accelerator_type", panel.types)
    source = form.choice("from", panel.sources)
    target = form.choice("to", panel.targets)
    hours = form.integer("hours", minimum=1, maximum=MAX_MOVE_HOURS)
    reason = form.text("reason", required=True, max_length=5000)
    settings = portal_state(request).settings

    def move() -> None:
        if source is None or target is None or hours is None:  # pragma: no cover - form.ok
            raise AssertionError("the form read cleanly")

        def committed() -> dict[str, int]:
            return committed_on_source(session, award, source, cluster, settings) or {}

        move_hours(
            session, award.id, source=source, target=target, hours=hours, reason=reason,
            actor_id=viewer.subject.user_id, clock=clock, accelerator_type=kind,
            committed=committed,
        )  # fmt: skip

    if form.attempt(session, SHARE_FIELDS, move, aliases={"status": "hours"}):
        return RedirectResponse(f"/awards/{award_id}#shares", status_code=303)
    page = _award_context(session, viewer, award_id, clock.now())
    page.update(errors=form.errors, form_error=form.form_error, form=dict(form.data))
    return render(
        request, "applicant/award.html", page, viewer=viewer, active="centre-jobs", status_code=400
    )
