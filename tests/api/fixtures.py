"""Reusable API fixtures: an app on the test session, a client, and actors with roles and tokens.

Import them into any test package's ``conftest.py``::

    from tests.api.fixtures import actors, api_settings, app, client, world  # noqa: F401

The app's ``db_session`` dependency is overridden to yield the test ``session`` inside a
SAVEPOINT per request: a request that fails rolls back its savepoint (as production rolls back
its transaction), and everything is rolled back after the test.  ``AppState.side_write`` (the
separate short transaction a read's trace is written in) is a SAVEPOINT on the same session.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from computeport.api.app import create_app
from computeport.api.deps import db_session, is_safe
from computeport.api.state import AppState, SideWrite
from computeport.backends import ClusterBackend
from computeport.db.engine import READ_ONLY, make_session_factory, refuse_writes
from computeport.identity.subject import Subject
from computeport.kit.clock import ManualClock
from computeport.models.identity import Organisation, Role, User
from computeport.settings import Settings
from tests.factories import identity as identity_factory


@dataclass
class Actor:
    """A user with a token, as an API client sees it."""

    user: User
    token: str
    subject: Subject

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Actors:
    """Makes actors: ``actors.staff(Role.SCHEME_OFFICER)``, ``actors.applicant(org)``."""

    session: Session
    clock: ManualClock
    _orgs: list[Organisation] = field(default_factory=list)

    def _actor(self, user: User) -> Actor:
        token = identity_factory.token(self.session, user, at=self.clock.now())
        return Actor(user, token, identity_factory.subject(self.session, user))

    def staff(self, *roles: Role) -> Actor:
        return self._actor(identity_factory.user(self.session, roles=roles, at=self.clock.now()))

    def applicant(
        self, organisation: Organisation | None = None, role: Role = Role.ORG_ADMIN
    ) -> Actor:
        """A member (admin by default) of ``organisation`` (a new one when omitted)."""
        org = organisation or self.organisation()
        user = identity_factory.user(
            self.session, roles=(role,), organisation=org, at=self.clock.now()
        )
        return self._actor(user)

    def organisation(self) -> Organisation:
        org = identity_factory.organisation(self.session, at=self.clock.now())
        self._orgs.append(org)
        return org

    def nobody(self) -> Actor:
        """An authenticated user with no role at all."""
        return self._actor(identity_factory.user(self.session, at=self.clock.now()))


@dataclass
class World:
    """What a permission case needs to build its data."""

    session: Session
    clock: ManualClock
    actors: Actors
    settings: Settings


@pytest.fixture
def api_settings(tmp_path: Path) -> Settings:
    return Settings(
        database_url="sqlite://",
        attachments_dir=tmp_path / "attachments",
        attachment_max_bytes=64 * 1024,
    )


def savepoint_session(session: Session) -> Callable[[Request], Iterator[Session]]:
    """A ``db_session`` override that yields ``session`` inside a SAVEPOINT per request.

    A request that fails rolls back its savepoint (as production rolls back its transaction);
    the test's outer transaction rolls everything back afterwards.  A request with a safe method
    is read-only, as in production: an ORM write in it raises ``ReadOnlyTransaction``.
    """
    if not event.contains(session, "before_flush", refuse_writes):
        event.listen(session, "before_flush", refuse_writes)

    def _session(request: Request) -> Iterator[Session]:
        nested = session.begin_nested()
        session.info[READ_ONLY] = is_safe(request)
        try:
            yield session
        except BaseException:
            if nested.is_active:
                nested.rollback()
            raise
        else:
            if nested.is_active:
                nested.commit()
        finally:
            session.info.pop(READ_ONLY, None)

    return _session


def savepoint_side_write(session: Session) -> SideWrite:
    """For ``AppState.side_write``: the separate unit of work is a SAVEPOINT on ``session``."""

    @contextmanager
    def unit() -> Iterator[Session]:
        was = session.info.pop(READ_ONLY, None)
        try:
            with session.begin_nested():
                yield session
        finally:
            if was is not None:
                session.info[READ_ONLY] = was

    return unit


def build_api_app(
    session: Session,
    db_engine: Engine,
    clock: ManualClock,
    settings: Settings,
    backend: ClusterBackend | None = None,
) -> FastAPI:
    """The API app on the test's engine and clock, its requests running on ``session``."""
    state = AppState(settings, db_engine, make_session_factory(db_engine), clock, backend)
    application = create_app(settings, state)
    application.dependency_overrides[db_session] = savepoint_session(session)
    state.side_write = savepoint_side_write(session)
    return application


@pytest.fixture
def app(session: Session, db_engine: Engine, clock: ManualClock, api_settings: Settings) -> FastAPI:
    return build_api_app(session, db_engine, clock, api_settings)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def actors(session: Session, clock: ManualClock) -> Actors:
    return Actors(session, clock)


@pytest.fixture
def world(session: Session, clock: ManualClock, actors: Actors, api_settings: Settings) -> World:
    return World(session, clock, actors, api_settings)
