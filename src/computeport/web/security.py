"""Browser sessions and CSRF protection.

The session is Starlette's signed cookie (itsdangerous, keyed by ``Settings.secret_key``); it
holds only the user's id and a per-session CSRF token.  Every POST form carries the token in a
hidden field and :func:`checked_form` refuses the request when it does not match — a form posted
from another site cannot know it.
"""

from __future__ import annotations

import hmac
import secrets
import uuid

from fastapi import Request
from starlette.datastructures import FormData

from computeport.identity.session_keys import SESSION_CSRF_KEY, SESSION_USER_KEY
from computeport.web.errors import CsrfFailed

SESSION_COOKIE = "computeport_session"
USER_KEY = SESSION_USER_KEY
"""Shared with ``computeport.identity.auth``, so the browser's session works for the API."""
CSRF_KEY = SESSION_CSRF_KEY
"""Shared too: a cookie-authenticated API write must send this token in ``X-CSRF-Token``."""
CSRF_FIELD = "csrf_token"
LOCALE_KEY = "locale"


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use."""
    token = request.session.get(CSRF_KEY)
    if not isinstance(token, str) or len(token) < 32:
        token = secrets.token_urlsafe(32)
        request.session[CSRF_KEY] = token
    return token


async def checked_form(request: Request) -> FormData:
    """The posted form, after its CSRF token was checked against the session's."""
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    expected = request.session.get(CSRF_KEY)
    if (
        not isinstance(sent, str)
        or not isinstance(expected, str)
        or not hmac.compare_digest(sent, expected)
    ):
        raise CsrfFailed("the form's security token is missing or stale", field=CSRF_FIELD)
    return form


def session_user_id(request: Request) -> uuid.UUID | None:
    raw = request.session.get(USER_KEY)
    if not isinstance(raw, str):
        return None
    try:
        return uuid.UUID(raw)
    except ValueError:
        return None


def sign_in(request: Request, user_id: uuid.UUID) -> None:
    """Start a fresh session for ``user_id`` (new CSRF token: no session fixation)."""
    request.session.clear()
    request.session[USER_KEY] = str(user_id)
    request.session[CSRF_KEY] = secrets.token_urlsafe(32)


def sign_out(request: Request) -> None:
    request.session.clear()
