"""What the app holds for its lifetime: settings, engine, session factories, clock, cluster."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from computeport.backends import ClusterBackend
from computeport.db.engine import (
    make_engine,
    make_read_session_factory,
    make_session_factory,
    unit_of_work,
)
from computeport.kit.clock import Clock
from computeport.settings import Settings


class InFlight:
    """Keys of side work under way in this process, so that a burst of requests that all find
    the same thing to do (a token's stale ``last_used_at``) schedules it once, not once each."""

    def __init__(self) -> None:
        self._keys: set[Hashable] = set()
        self._lock = threading.Lock()

    def claim(self, key: Hashable) -> bool:
        """True for the caller that now owns ``key`` (and must :meth:`release` it)."""
        with self._lock:
            if key in self._keys:
                return False
            self._keys.add(key)
            return True

    def release(self, key: Hashable) -> None:
        with self._lock:
            self._keys.discard(key)


SideWrite = Callable[[], AbstractContextManager[Session]]
"""Opens a short unit of work of its own (committed on exit), outside the request's."""


@dataclass
class AppState:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    """Units of work that may write (a request with an unsafe method, a background job)."""
    clock: Clock
    backend: ClusterBackend | None = None
    """The cluster (``Settings.backend``); ``None`` where a deployment runs without one."""
    read_sessions: sessionmaker[Session] = field(init=False, repr=False)
    """Read-only units of work on the same engine (GET/HEAD): no write lock, writes refused."""

    in_flight: InFlight = field(init=False, repr=False, default_factory=InFlight)
    side_write: SideWrite = field(init=False, repr=False)
    """A separate write transaction, for the trace a read leaves (``last_used_at``); tests
    replace it with a savepoint on their session."""

    def __post_init__(self) -> None:
        self.read_sessions = make_read_session_factory(self.engine)
        self.side_write = lambda: unit_of_work(self.sessions)

    @classmethod
    def from_settings(cls, settings: Settings, clock: Clock | None = None) -> AppState:
        """Engine, sessions and the back end; with ``sim`` the clock is the cluster's own."""
        from computeport.award.desired import desired_state_reader
        from computeport.backends.factory import open_backend

        engine = make_engine(settings.database_url)
        sessions = make_session_factory(engine)
        backend, clock = open_backend(
            settings, sessions, clock, desired=desired_state_reader(sessions)
        )
        return cls(settings, engine, sessions, clock, backend)
