"""The FastAPI authentication dependency: ``CurrentSubject``.

A request is authenticated by ``Authorization: Bearer cpt_…`` (API clients) or, for the web
portal, by a ``user_id`` in a signed session cookie (Starlette's ``SessionMiddleware``, when the
portal installs it).  The browser sends that cookie with any request, including one a hostile
page makes it send, so a cookie-authenticated POST/PUT/PATCH/DELETE must also carry the
session's CSRF token in ``X-CSRF-Token`` (a page on another site cannot read it) or it is 403;
a bearer token is never sent by the browser on its own and needs no such check.
A missing or bad credential is 401 problem+json;
wrong roles are checked by the service or by
:func:`require_roles` (403).

Every request looks its credential up again (one indexed query), so revoking a token or a role
takes effect at once.  A token's ``last_used_at`` is written at most once per
``LAST_USED_RESOLUTION``: for a write request in its own transaction (it holds the write lock
already), for a read after the response, in a short transaction of its own
(``AppState.side_write``), so that a GET never waits for the database's write lock.

Usage::

    @router.get("/things")
    def list_things(subject: CurrentSubject, session: SessionDep) -> ...:
        subject.require(Role.SCHEME_OFFICER)
"""

from __future__ import annotations

import functools
import hmac
import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated

from fastapi import BackgroundTasks, Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from computeport.http.deferred import defer
from computeport.http.deps import SessionDep, is_safe, state_of
from computeport.http.state import AppState, InFlight, SideWrite
from computeport.http.throttle import client_address
from computeport.identity.errors import CsrfRefused, InvalidCredentials, MissingCredentials
from computeport.identity.service import authenticate_user_id, check_token, record_token_use
from computeport.identity.session_keys import CSRF_HEADER, SESSION_CSRF_KEY, SESSION_USER_KEY
from computeport.identity.subject import Subject
from computeport.identity.throttling import token_failed, token_refusal
from computeport.models.identity import Role

__all__ = [
    "CSRF_HEADER",
    "SESSION_CSRF_KEY",
    "SESSION_USER_KEY",
    "CurrentSubject",
    "OptionalSubject",
    "current_subject",
    "optional_subject",
    "require_roles",
]

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _check_csrf(request: Request) -> None:
    if request.method.upper() not in UNSAFE_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER)
    expected = request.session.get(SESSION_CSRF_KEY)
    if (
        not sent
        or not isinstance(expected, str)
        or not hmac.compare_digest(sent.encode(), expected.encode())
    ):
        raise CsrfRefused(
            f"a request authenticated by the session cookie must send the session's "
            f"CSRF token in {CSRF_HEADER} (or use 'Authorization: Bearer <API token>')",
            field=CSRF_HEADER,
        )


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise InvalidCredentials("use 'Authorization: Bearer cpt_…'", field="authorization")
    return value.strip()


log = logging.getLogger(__name__)


def _record_use_apart(
    side_write: SideWrite, in_flight: InFlight, key: object, token_id: uuid.UUID, now: datetime
) -> None:
    """Record a token's use in a unit of work of its own (after a read's response)."""
    try:
        with side_write() as session:
            record_token_use(session, token_id, now)
    except OperationalError as error:  # the database stayed locked: the next request retries
        log.warning("could not record the use of API token %s: %s", token_id, error)
    finally:
        in_flight.release(key)


async def optional_subject(
    request: Request, session: SessionDep, background: BackgroundTasks
) -> Subject | None:
    """The caller if any credential is presented (a bad one is still 401), else ``None``.

    For a safe method the lookup runs right here, on the event loop: it is one indexed query in
    a read-only transaction, which never waits for a lock (SQLite WAL, PostgreSQL MVCC), and a
    hop to the thread pool and back costs more than the query.  For any other method the first
    query takes the write lock (``BEGIN IMMEDIATE``), which may wait: that goes to the pool.

    A request that presents a token is refused (429) without a lookup when its address has
    failed too many token checks (``identity.throttling``); a failed check is counted, and
    audited after the answer (``http.deferred``): the request's own unit of work rolls back.
    """
    if "authorization" not in request.headers:
        return await _authenticate_off_loop(request, session, background)
    state = state_of(request)
    address = client_address(request)
    if state.throttle.is_local:  # a dictionary lookup: no reason to leave the loop
        refused = token_refusal(state.throttle, address)
    else:  # a round trip to the shared store
        refused = await run_in_threadpool(token_refusal, state.throttle, address)
    if refused is not None:
        raise refused
    try:
        return await _authenticate_off_loop(request, session, background)
    except InvalidCredentials as error:
        defer(request, functools.partial(_token_failed_apart, state, address, error))
        raise


async def _authenticate_off_loop(
    request: Request, session: Session, background: BackgroundTasks
) -> Subject | None:
    if is_safe(request):
        return _authenticate(request, session, background)
    return await run_in_threadpool(_authenticate, request, session, background)


def _token_failed_apart(state: AppState, address: str, error: InvalidCredentials) -> None:
    """Count and audit a failed token check in a unit of work of its own (after the answer)."""
    try:
        with state.side_write() as session:
            token_failed(session, state.throttle, address, error, state.clock.now())
    except OperationalError as failure:  # the database stayed locked: logged, not lost silently
        log.warning("could not audit a failed API token check from %s: %s", address, failure)


def _authenticate(
    request: Request, session: Session, background: BackgroundTasks
) -> Subject | None:
    token = _bearer(request)
    if token is not None:
        state = state_of(request)
        now = state.clock.now()
        check = check_token(session, token, now)
        if check.use_is_stale(now):
            if not is_safe(request):
                record_token_use(session, check.token_id, now)
            elif state.in_flight.claim(key := ("token_use", check.token_id)):
                background.add_task(
                    _record_use_apart, state.side_write, state.in_flight, key, check.token_id, now
                )
        return check.subject
    if "session" in request.scope:
        raw = request.session.get(SESSION_USER_KEY)
        if raw:
            try:
                user_id = uuid.UUID(str(raw))
            except ValueError:
                raise InvalidCredentials("your session is corrupt; sign in again") from None
            _check_csrf(request)
            return authenticate_user_id(session, user_id)
    return None


async def current_subject(
    subject: Annotated[Subject | None, Depends(optional_subject)],
) -> Subject:
    """The authenticated caller, or 401."""
    if subject is None:
        raise MissingCredentials(
            "authentication required: send 'Authorization: Bearer <API token>'"
        )
    return subject


CurrentSubject = Annotated[Subject, Depends(current_subject)]
OptionalSubject = Annotated[Subject | None, Depends(optional_subject)]


def require_roles(*roles: Role) -> Callable[[Subject], Awaitable[Subject]]:
    """A dependency factory: ``Depends(require_roles(Role.OPERATOR))`` → 403 for other roles."""

    async def dependency(subject: CurrentSubject) -> Subject:
        subject.require(*roles)
        return subject

    return dependency
