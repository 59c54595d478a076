"""FastAPI dependencies: one session per request (committed at the boundary), the clock.

A request with a safe method (GET, HEAD, OPTIONS) gets a **read-only** session: on SQLite a
deferred transaction that never waits for the writer (the virtual cluster's worker, another
request) and never makes one wait; on PostgreSQL a ``READ ONLY`` transaction.  Any other method
gets a write session, which takes the write lock before it reads.  A read that must leave a
trace (an API token's ``last_used_at``) does it in a separate short unit of work
(:data:`SideWriteDep`), never in the read's transaction.

The trivial dependencies are ``async``: FastAPI runs a sync dependency in the thread pool, and a
thread hop per dependency costs more than the dependency itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from computeport.api.state import AppState
from computeport.db.engine import unit_of_work
from computeport.kit.clock import Clock

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
"""Methods that must not change anything (RFC 9110 §9.2.1): they get a read-only session."""


def is_safe(request: Request) -> bool:
    return request.method.upper() in SAFE_METHODS


async def app_state(request: Request) -> AppState:
    state: AppState = request.app.state.cp
    return state


def db_session(
    request: Request, state: Annotated[AppState, Depends(app_state)]
) -> Iterator[Session]:
    """The request's unit of work: services flush, this commits or rolls back.

    Read-only for safe methods (see the module's docstring).
    """
    session = (state.read_sessions if is_safe(request) else state.sessions)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


SideWrite = Callable[[], AbstractContextManager[Session]]
"""Opens a short unit of work of its own (committed on exit), outside the request's."""


async def side_write(state: Annotated[AppState, Depends(app_state)]) -> SideWrite:
    """A separate write transaction, for the trace a read leaves (tests override this)."""
    return lambda: unit_of_work(state.sessions)


async def clock(state: Annotated[AppState, Depends(app_state)]) -> Clock:
    return state.clock


SessionDep = Annotated[Session, Depends(db_session)]
ClockDep = Annotated[Clock, Depends(clock)]
SideWriteDep = Annotated[SideWrite, Depends(side_write)]
