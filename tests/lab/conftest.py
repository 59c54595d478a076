"""Lab API and page fixtures: the shared API fixtures with a small virtual cluster."""

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
    """2 nodes × 8 H800 (16 GPUs) on the test's manual clock."""
    return SimBackend(cyberport_inventory(2, cluster="labtest"), clock)


@pytest.fixture
def app(
    session: Session,
    db_engine: Engine,
    clock: ManualClock,
    api_settings: Settings,
    sim: SimBackend,
) -> FastAPI:
    return build_api_app(session, db_engine, clock, api_settings, sim)
