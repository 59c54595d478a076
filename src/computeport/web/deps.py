"""Page dependencies: a unit of work, the clock, and the viewer (or a redirect to log in).

The portal reads the app's lifetime state (``app.state.cp``: session factory and clock) through
the small :class:`PortalState` protocol instead of importing the API package: the web and the
API are sibling edges and never import each other (the import-linter layers contract).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Protocol

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker

from computeport.backends import ClusterBackend
from computeport.identity.errors import InvalidCredentials
from computeport.identity.service import authenticate_user_id, get_user
from computeport.kit.clock import Clock
from computeport.settings import Settings
from computeport.web.i18n import normalise
from computeport.web.security import session_user_id, sign_out
from computeport.web.viewer import Viewer


class PortalState(Protocol):
    """What the portal needs of the app's state (``computeport.api.state.AppState``)."""

    settings: Settings
    sessions: sessionmaker[Session]
    read_sessions: sessionmaker[Session]
    clock: Clock
    backend: ClusterBackend | None


class LoginRequired(Exception):
    """No one is signed in: the page answers with a redirect to ``/login?next=…``."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def portal_state(request: Request) -> PortalState:
    state: PortalState = request.app.state.cp
    return state


def mark_page(request: Request) -> None:
    """Tag the request as a page so errors render as HTML rather than problem+json."""
    request.state.web_page = True


def page_session(request: Request) -> Iterator[Session]:
    """The page's unit of work: services flush, this commits (or rolls back on error).

    A GET or HEAD page reads in a read-only transaction (no write lock; see
    ``computeport.db.engine``); a form post writes.
    """
    mark_page(request)
    state = portal_state(request)
    read_only = request.method.upper() in ("GET", "HEAD")
    session = (state.read_sessions if read_only else state.sessions)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def page_clock(request: Request) -> Clock:
    return portal_state(request).clock


def cluster_backend(request: Request) -> ClusterBackend | None:
    """The cluster back end the app runs with (the virtual cluster, or Slurm), if any."""
    return portal_state(request).backend


# Function-scoped: the unit of work commits *before* the response is sent.  FastAPI's default
# ends a dependency with ``yield`` after sending, so a 201 or a redirect could reach the client
# before (or without) the commit (tests/web/test_commit_before_answer.py).
PageSession = Annotated[Session, Depends(page_session, scope="function")]
PageClock = Annotated[Clock, Depends(page_clock)]
PageCluster = Annotated[ClusterBackend | None, Depends(cluster_backend)]


def optional_viewer(request: Request, session: PageSession) -> Viewer | None:
    """The signed-in viewer, or ``None`` (a stale session is cleared, not an error)."""
    user_id = session_user_id(request)
    if user_id is None:
        return None
    try:
        subject = authenticate_user_id(session, user_id)
    except InvalidCredentials:
        sign_out(request)
        return None
    user = get_user(session, user_id, subject)
    return Viewer(
        subject=subject,
        display_name=user.display_name,
        locale=normalise(user.locale),
        posix_username=user.posix_username,
    )


def current_viewer(
    request: Request, viewer: Annotated[Viewer | None, Depends(optional_viewer)]
) -> Viewer:
    """The signed-in viewer; anonymous visitors are sent to the login page."""
    if viewer is None:
        target = request.url.path
        if request.url.query:
            target += "?" + request.url.query
        raise LoginRequired(target)
    return viewer


OptionalViewer = Annotated[Viewer | None, Depends(optional_viewer)]
CurrentViewer = Annotated[Viewer, Depends(current_viewer)]
