"""Sign in, sign out and the language switch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from computeport.http.throttle import client_address
from computeport.identity.errors import InvalidCredentials
from computeport.identity.throttling import SignInLocked, sign_in_refusal_minutes
from computeport.identity.throttling import sign_in as check_sign_in
from computeport.web.deps import OptionalViewer, PageClock, PageSession, mark_page
from computeport.web.i18n import normalise, translator
from computeport.web.preferences import set_user_locale
from computeport.web.security import LOCALE_KEY, checked_form, sign_in, sign_out
from computeport.web.templating import render, request_locale

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class DemoLogin:
    """One ready-made login shown on the demo's sign-in page."""

    role: str
    email: str
    password: str


def safe_next(value: object) -> str:
    """A local path to go to after signing in; anything else (``//evil``, ``http:``) is ``/``."""
    if not isinstance(value, str) or not value.startswith("/") or value.startswith("//"):
        return "/"
    if "\\" in value or "\n" in value or "\r" in value:
        return "/"
    return value


def _login_page(request: Request, status_code: int | None = None, **context: Any) -> Response:
    page: dict[str, Any] = {
        "errors": {},
        "email": "",
        "form_error": None,
        "next_path": "/",
        "sso_enabled": request.app.state.cp.settings.oidc_issuer is not None,
        "demo_logins": getattr(request.app.state, "demo_logins", None) or [],
    }
    page.update(context)
    status = 400 if page["errors"] or page["form_error"] else 200
    return render(request, "login.html", page, status_code=status_code or status)


@router.get("/login")
def login_form(request: Request, viewer: OptionalViewer, next: str = "/") -> Response:
    if viewer is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _login_page(request, next_path=safe_next(next))


@router.post("/login")
async def login(request: Request, session: PageSession, clock: PageClock) -> Response:
    mark_page(request)
    form = await checked_form(request)
    email = str(form.get("email") or "").strip()
    password = str(form.get("password") or "")
    next_path = safe_next(form.get("next"))
    _ = translator(request_locale(request, None))
    errors: dict[str, str] = {}
    if not email:
        errors["email"] = _("Enter your email.")
    if not password:
        errors["password"] = _("Enter your password.")
    if errors:
        return _login_page(request, errors=errors, email=email, next_path=next_path)
    state = request.app.state.cp
    try:
        user = check_sign_in(
            session, state.throttle, email, password, client_address(request), clock.now()
        )
    except SignInLocked as locked:
        # The same words whether or not anyone has this email (no hint that it exists).
        message = _(
            "Too many failed sign-in attempts. Try again in {minutes} minutes.",
            minutes=sign_in_refusal_minutes(locked),
        )
        return _login_page(request, 429, email=email, next_path=next_path, form_error=message)
    except InvalidCredentials:
        return _login_page(
            request, email=email, next_path=next_path, form_error="Email or password is wrong."
        )
    sign_in(request, user.id)
    return RedirectResponse(next_path, status_code=303)


@router.post("/logout")
async def logout(request: Request) -> Response:
    mark_page(request)
    await checked_form(request)
    sign_out(request)
    return RedirectResponse("/login", status_code=303)


@router.post("/lang")
async def switch_language(
    request: Request, session: PageSession, viewer: OptionalViewer
) -> Response:
    """Store the chosen language on the user (or in the anonymous session)."""
    form = await checked_form(request)
    locale = normalise(str(form.get("locale") or ""))
    if viewer is not None:
        set_user_locale(session, viewer.user_id, locale)
    request.session[LOCALE_KEY] = locale
    return RedirectResponse(safe_next(form.get("next")), status_code=303)
