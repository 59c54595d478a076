"""What every applicant page shares: membership of the organisation, the page's base context,
the organisation's awards, and rendering with the right navigation item highlighted."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from computeport.award.repository import list_awards
from computeport.identity.service import get_organisation
from computeport.models.award import Award
from computeport.web.templating import render
from computeport.web.viewer import Viewer

PREFIX = "/orgs/{organisation_id}"
"""Every applicant page lives under its organisation."""


def render_page(
    request: Request, template: str, page: dict[str, Any], viewer: Viewer, status: int = 200
) -> Response:
    """Render an applicant page; the navigation highlights the area it belongs to."""
    area = template.split("/")[-1].split(".")[0]
    active = {"application": "applications", "application_form": "applications"}.get(
        area, area if area in ("applications", "jobs", "invoices", "inference") else "awards"
    )
    return render(request, template, page, viewer=viewer, active=active, status_code=status)


def require_member(viewer: Viewer, organisation_id: uuid.UUID) -> None:
    viewer.require_member_of(organisation_id)


def organisation_page(
    session: Session, viewer: Viewer, organisation_id: uuid.UUID
) -> dict[str, Any]:
    """The context every page starts from (after checking membership)."""
    require_member(viewer, organisation_id)
    organisation = get_organisation(session, organisation_id, viewer.subject)
    return {"organisation": organisation, "org_base": f"/orgs/{organisation_id}"}


def organisation_awards(
    session: Session, viewer: Viewer, organisation_id: uuid.UUID
) -> list[Award]:
    return list_awards(session, viewer.subject, organisation_id=organisation_id, limit=500)
