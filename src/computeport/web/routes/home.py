"""The home page: the pages this viewer's roles open, as cards."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from computeport.web.deps import CurrentViewer
from computeport.web.templating import navigation, organisation_path, render

router = APIRouter(include_in_schema=False)

DESCRIPTIONS = {
    "ops": "Centre operations: utilisation, queues, jobs and nodes.",
    "scheme": "The HK$3B envelope, applications and awards.",
    "applications": "Your organisation's applications, awards, jobs and invoices.",
    "funder": "The scheme's key figures, read-only.",
    "review": "Applications assigned to you for review.",
    "committee": "Recommendations waiting for a decision.",
    "capacity": "Installed PFLOPS against the targets.",
    "reports": "Usage reports and the funder's yearly report.",
}


@router.get("/")
def home(request: Request, viewer: CurrentViewer) -> Response:
    cards = [
        (item, DESCRIPTIONS[item.key])
        for item in navigation(viewer, organisation_path(viewer))
        if item.key in DESCRIPTIONS
    ]
    roles = sorted(role.value for role in viewer.roles)
    return render(
        request, "home.html", {"cards": cards, "roles": roles}, viewer=viewer, active="home"
    )
