"""The Jinja2 environment and :func:`render`, which gives every page the same context.

Every template receives ``_`` (the viewer's language), ``viewer``, ``csrf_token``, ``nav``,
``lang`` and the formatting filters of :mod:`computeport.web.formatting`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from computeport.models.identity import Role
from computeport.pricing.announce import amount_text
from computeport.web import formatting
from computeport.web.i18n import LANGUAGE_NAMES, SUPPORTED, Locale, negotiate, normalise, translator
from computeport.web.security import LOCALE_KEY, csrf_token
from computeport.web.viewer import Viewer

TEMPLATES_DIR = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class NavItem:
    """One entry of the top navigation, shown to the roles that may open it."""

    label: str
    href: str
    key: str


def _tojson_script(value: object) -> Markup:
    """JSON safe inside ``<script type="application/json">`` (no ``</script>`` breakout)."""
    text = json.dumps(value, separators=(",", ":"), default=str)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)  # noqa: S704 - escaped above for a script data block


def build_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html", "xml"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        money=formatting.money,
        money_short=formatting.money_short,
        number=formatting.number,
        gpu_hours=formatting.gpu_hours,
        percent=formatting.percent,
        hk_time=formatting.hk_time,
        hk_date=formatting.hk_date,
        utc_iso=formatting.utc_iso,
        duration=formatting.duration,
        json_script=_tojson_script,
        price=amount_text,
    )
    return env


ENV = build_environment()


def request_locale(request: Request, viewer: Viewer | None) -> Locale:
    """The viewer's stored language, else the session's choice, else the browser's."""
    if viewer is not None:
        return viewer.locale
    chosen = request.session.get(LOCALE_KEY)
    if isinstance(chosen, str):
        return normalise(chosen)
    return negotiate(request.headers.get("accept-language"))


def navigation(viewer: Viewer | None, organisation_path: str | None) -> list[NavItem]:
    """The pages this viewer may open, in a fixed order."""
    if viewer is None:
        return []
    items = [NavItem("Home", "/", "home")]
    staff_ops = (Role.OPERATOR, Role.SCHEME_OFFICER)
    if viewer.has(*staff_ops):
        items.append(NavItem("Operations", "/ops", "ops"))
        items.append(NavItem("Centre jobs", "/jobs", "centre-jobs"))
    if viewer.has(Role.SCHEME_OFFICER, Role.COMMITTEE_MEMBER, Role.OPERATOR, Role.FUNDER):
        items.append(NavItem("Scheme", "/scheme", "scheme"))
    if viewer.is_applicant and organisation_path:
        items.append(NavItem("Applications", f"{organisation_path}/applications", "applications"))
        items.append(NavItem("Awards", f"{organisation_path}/awards", "awards"))
        items.append(NavItem("Jobs", f"{organisation_path}/jobs", "jobs"))
        items.append(NavItem("Invoices", f"{organisation_path}/invoices", "invoices"))
        items.append(NavItem("Inference", f"{organisation_path}/inference", "inference"))
    if viewer.has(Role.REVIEWER):
        items.append(NavItem("Review", "/review", "review"))
    if viewer.has(Role.COMMITTEE_MEMBER, Role.SCHEME_OFFICER):
        items.append(NavItem("Committee", "/committee", "committee"))
    if viewer.has(Role.FUNDER):
        items.append(NavItem("Funder", "/funder", "funder"))
    if viewer.has(Role.OPERATOR, Role.SCHEME_OFFICER, Role.FUNDER):
        items.append(NavItem("Billing", "/billing", "billing"))
    if viewer.has(Role.OPERATOR, Role.FUNDER, Role.SCHEME_OFFICER):
        items.append(NavItem("Capacity", "/capacity", "capacity"))
    if viewer.has(Role.OPERATOR, Role.FUNDER, Role.SCHEME_OFFICER):
        items.append(NavItem("Sites", "/sites", "sites"))
    if viewer.has(Role.OPERATOR, Role.SCHEME_OFFICER, Role.COMMITTEE_MEMBER):
        items.append(NavItem("Policy lab", "/lab", "lab"))
    if viewer.has(Role.OPERATOR, Role.SCHEME_OFFICER, Role.FUNDER):
        items.append(NavItem("Inference gateway", "/inference", "inference-figures"))
    if viewer.has(Role.OPERATOR, Role.SCHEME_OFFICER, Role.FUNDER, Role.COMMITTEE_MEMBER):
        items.append(NavItem("Reports", "/reports", "reports"))
    items.append(NavItem("Rate card", "/prices", "prices"))
    return items


def organisation_path(viewer: Viewer | None) -> str | None:
    if viewer is None or not viewer.is_applicant or viewer.primary_organisation is None:
        return None
    return f"/orgs/{viewer.primary_organisation}"


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    viewer: Viewer | None = None,
    status_code: int = 200,
    active: str = "",
) -> HTMLResponse:
    """Render ``template`` with the shared page context."""
    locale = request_locale(request, viewer)
    org_path = organisation_path(viewer)
    page: dict[str, Any] = {
        "request": request,
        "viewer": viewer,
        "lang": locale,
        "languages": [(code, LANGUAGE_NAMES[code]) for code in SUPPORTED],
        "_": translator(locale),
        "csrf_token": csrf_token(request),
        "nav": navigation(viewer, org_path),
        "org_path": org_path,
        "active": active,
        "path": request.url.path,
    }
    page.update(context or {})
    html = ENV.get_template(template).render(page)
    return HTMLResponse(html, status_code=status_code)
