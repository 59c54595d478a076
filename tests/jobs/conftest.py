"""Jobs API fixtures: the shared API fixtures, with a small virtual cluster in the app state."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from computeport.backends.sim import SimBackend, cyberport_inventory
from computeport.kit.clock import ManualClock
from computeport.settings import Settings
from tests.api.fixtures import actors, api_settings, build_api_app, client, world

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
    return build_api_app(session, db_engine, clock, api_settings, sim)
