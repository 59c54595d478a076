"""FastAPI dependencies: one session per request (committed at the boundary), the clock."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from computeport.api.state import AppState
from computeport.kit.clock import Clock


def app_state(request: Request) -> AppState:
    state: AppState = request.app.state.cp
    return state


def db_session(state: Annotated[AppState, Depends(app_state)]) -> Iterator[Session]:
    """The request's unit of work: services flush, this commits or rolls back."""
    session = state.sessions()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def clock(state: Annotated[AppState, Depends(app_state)]) -> Clock:
    return state.clock


SessionDep = Annotated[Session, Depends(db_session)]
ClockDep = Annotated[Clock, Depends(clock)]
