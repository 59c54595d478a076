"""The sites page: the centre's inventory (sites → clusters → partitions, accelerator types).

Read-only, like the API: the inventory changes by loading its file, so the page shows the
command rather than a form.  Every staff member may read it; before any inventory is loaded
it says which single cluster the deployment's settings name.
"""

from __future__ import annotations

from datetime import UTC

from fastapi import APIRouter, Request
from fastapi.responses import Response

from computeport.backends.registry import default_connection
from computeport.models.identity import STAFF_ROLES
from computeport.web.deps import CurrentViewer, PageClock, PageSession, portal_state
from computeport.web.templating import render
from computeport.web.views.centre_sites import sites_page

router = APIRouter(include_in_schema=False)

SITES_READERS = tuple(sorted(STAFF_ROLES))


@router.get("/sites")
def sites(
    request: Request, viewer: CurrentViewer, session: PageSession, clock: PageClock
) -> Response:
    viewer.require(*SITES_READERS)
    page = sites_page(session, clock.now().astimezone(UTC).date())
    default = default_connection(portal_state(request).settings)
    return render(
        request,
        "sites.html",
        {"page": page, "default": default, "zh": viewer.locale == "zh-Hant"},
        viewer=viewer,
        active="sites",
    )
