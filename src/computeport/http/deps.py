"""FastAPI dependencies: one session per request (committed at the boundary), the clock.

A request with a safe method (GET, HEAD, OPTIONS) gets a **read-only** session: on SQLite a
deferred transaction that never waits for the writer (the virtual cluster's worker, another
request) and never makes one wait; on PostgreSQL a ``READ ONLY`` transaction.  Any other method
gets a write session, which takes the write lock before it reads.  A read that must leave a
trace (an API token's ``last_used_at``) does it in a separate short unit of work
(``AppState.side_write``), never in the read's transaction.

Cheap on purpose, since every request pays for them: the dependencies that do no I/O are
``async`` (FastAPI runs a sync dependency in the thread pool, a thread hop per dependency) and
take the app's state straight from the request rather than through a dependency of their own
(each node of the dependency graph costs FastAPI time on every request).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, TypeVar

from fastapi import Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import TypeAdapter
from sqlalchemy.orm import Session

from computeport.http.state import AppState
from computeport.kit.clock import Clock

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
"""Methods that must not change anything (RFC 9110 §9.2.1): they get a read-only session."""


def is_safe(request: Request) -> bool:
    return request.method.upper() in SAFE_METHODS


def state_of(request: Request) -> AppState:
    """The app's lifetime state (``app.state.cp``)."""
    state: AppState = request.app.state.cp
    return state


async def app_state(request: Request) -> AppState:
    return state_of(request)


async def db_session(request: Request) -> AsyncIterator[Session]:
    """The request's unit of work: services flush, this commits or rolls back.

    Read-only for safe methods (see the module's docstring).  Opening a session does no I/O
    (it connects at its first query, in the endpoint's thread), so this is ``async``; a write's
    commit and rollback, which may wait for the database, go to the thread pool, while a read's
    end is the rollback of a read transaction (no lock held, nothing to flush), done in place.
    """
    state = state_of(request)
    if is_safe(request):
        session = state.read_sessions()
        try:
            yield session
        finally:
            session.close()
        return
    session = state.sessions()
    try:
        yield session
        await run_in_threadpool(session.commit)
    except BaseException:
        await run_in_threadpool(session.rollback)
        raise
    finally:
        await run_in_threadpool(session.close)


async def clock(request: Request) -> Clock:
    return state_of(request).clock


T = TypeVar("T")


def json_response(adapter: TypeAdapter[T], value: T) -> Response:
    """``value`` as the JSON body FastAPI would make of it, without FastAPI's second pass.

    An endpoint that returns a model makes FastAPI validate it again against its
    ``response_model`` (in the thread pool for a sync endpoint: one more hop) before serialising
    it.  A read endpoint that builds its response models itself returns this instead: the same
    bytes (pydantic-core's ``dump_json`` of the same type, as FastAPI's fast path does) and
    media type, while ``response_model=`` on the route keeps the OpenAPI schema as it was.
    """
    return Response(adapter.dump_json(value), media_type="application/json")


# Function-scoped: the unit of work commits *before* the response is sent.  FastAPI's default
# ends a dependency with ``yield`` after sending, so a 201 or a redirect could reach the client
# before (or without) the commit (tests/web/test_commit_before_answer.py).
SessionDep = Annotated[Session, Depends(db_session, scope="function")]
ClockDep = Annotated[Clock, Depends(clock)]
