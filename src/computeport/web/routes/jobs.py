"""The centre's jobs for operators and scheme officers: every job on the cluster, filtered by
state, partition, account, organisation and user, a page at a time; and the staff view of an
award, which each job links to.

The operations page shows the first jobs of each kind and links here for the rest.
"""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from computeport.award.repository import get_readable
from computeport.backends import JobState
from computeport.kit.errors import NotFound
from computeport.models.identity import Organisation
from computeport.web import charts
from computeport.web.deps import CurrentViewer, PageClock, PageCluster, PageSession
from computeport.web.forms import WHOLE_NUMBER
from computeport.web.i18n import translator
from computeport.web.templating import render
from computeport.web.viewer import OPS_READERS
from computeport.web.views.awards import award_uses, burn_down
from computeport.web.views.reasons import REASON_LABELS
from computeport.web.views.staff_jobs import JobFilters, centre_jobs
from computeport.web.views.usage import money_by_month

router = APIRouter(include_in_schema=False)

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
    award = get_readable(session, viewer.subject, award_id)
    organisation = session.get(Organisation, award.organisation_id)
    if organisation is None:  # pragma: no cover - a foreign key guarantees it
        raise NotFound("no such organisation")
    use = award_uses(session, [award])[0]
    burn = burn_down(session, use, clock.now())
    _ = translator(viewer.locale)
    future = len(burn.months) - len(burn.remaining_hours)
    padded: list[float | None] = [*burn.remaining_hours, *([None] * future)]
    spec = charts.lines(
        burn.months,
        [(_("GPU-hours left"), padded), (_("Even pace"), burn.ideal_hours)],
        y_title=_("GPU-hours"),
        dashed=(_("Even pace"),),
    )
    page = {
        "organisation": organisation,
        "org_base": f"/jobs?organisation={organisation.id}",
        "use": use,
        "burn": burn,
        "chart_spec": spec,
        "months": money_by_month(session, award_id=award.id),
        "jobs_url": "/jobs?" + urlencode({"account": award.slurm_account}),
    }
    return render(request, "applicant/award.html", page, viewer=viewer, active="centre-jobs")
