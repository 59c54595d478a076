"""What the app holds for its lifetime: settings, engine, session factory, clock, cluster."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from computeport.backends.protocol import ClusterBackend
from computeport.db.engine import make_engine, make_session_factory
from computeport.kit.clock import Clock
from computeport.settings import Settings


@dataclass
class AppState:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    clock: Clock
    backend: ClusterBackend | None = None
    """The cluster (``Settings.backend``); ``None`` where a deployment runs without one."""

    @classmethod
    def from_settings(cls, settings: Settings, clock: Clock | None = None) -> AppState:
        """Engine, sessions and the back end; with ``sim`` the clock is the cluster's own."""
        from computeport.backends.factory import open_backend

        engine = make_engine(settings.database_url)
        sessions = make_session_factory(engine)
        backend, clock = open_backend(settings, sessions, clock)
        return cls(settings, engine, sessions, clock, backend)
