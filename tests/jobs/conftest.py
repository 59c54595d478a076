"""Jobs API fixtures: the shared API fixtures, with a small virtual cluster in the app state."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from computeport.api.app import create_app
from computeport.api.deps import db_session
from computeport.api.state import AppState
from computeport.backends.sim import SimBackend, cyberport_inventory
from computeport.db.engine import make_session_factory
from computeport.kit.clock import ManualClock
from computeport.settings import Settings
from tests.api.fixtures import actors, api_settings, client, world

__all__ = ["actors", "api_settings", "app", "client", "sim", "world"]


@pytest.fixture
def sim(clock: ManualClock) -> SimBackend:
    """4 nodes × 8 H800 (32 GPUs) on the test's manual clock."""
    return SimBackend(cyberport_inventory(4, cluster="apitest"), clock)


@pytest.fixture
def app(
    session: Session,
    db_engine: Engine,
    clock: ManualClock,
    api_settings: Settings,
    sim: SimBackend,
) -> FastAPI:
    state = AppState(api_settings, db_engine, make_session_factory(db_engine), clock, sim)
    application = create_app(api_settings, state)

    def _session() -> Iterator[Session]:
        nested = session.begin_nested()
        try:
            yield session
        except BaseException:
            if nested.is_active:
                nested.rollback()
            raise
        else:
            if nested.is_active:
                nested.commit()

    application.dependency_overrides[db_session] = _session
    return application
