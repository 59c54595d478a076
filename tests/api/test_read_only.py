"""Safe methods run read-only; a token's use is recorded apart, at most once per resolution."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session

from computeport.api.app import create_app
from computeport.db.engine import (
    ReadOnlyTransaction,
    make_engine,
    make_session_factory,
    unit_of_work,
)
from computeport.db.schema import create_schema
from computeport.http.deps import SessionDep
from computeport.http.state import AppState
from computeport.identity.service import LAST_USED_RESOLUTION
from computeport.kit.clock import ManualClock
from computeport.kit.slurm_names import organisation_account_name
from computeport.models.identity import ApiToken, Organisation, OrganisationCategory, Role
from computeport.settings import Settings
from tests.api.fixtures import Actor, Actors
from tests.factories import identity as identity_factory


def _last_used(session: Session, actor: Actor) -> object:
    session.expire_all()
    return session.scalar(select(ApiToken.last_used_at).where(ApiToken.user_id == actor.user.id))


class TestTokenUse:
    def test_a_read_records_the_use_once_per_resolution(
        self, client: TestClient, actors: Actors, session: Session, clock: ManualClock
    ) -> None:
        funder = actors.staff(Role.FUNDER)
        first = clock.now()
        assert client.get("/api/v1/me", headers=funder.headers).status_code == 200
        assert _last_used(session, funder) == first
        clock.advance(LAST_USED_RESOLUTION - timedelta(seconds=1))
        assert client.get("/api/v1/me", headers=funder.headers).status_code == 200
        assert _last_used(session, funder) == first
        clock.advance(timedelta(seconds=1))
        assert client.get("/api/v1/me", headers=funder.headers).status_code == 200
        assert _last_used(session, funder) == clock.now()

    def test_a_write_records_the_use_in_its_own_transaction(
        self, client: TestClient, actors: Actors, session: Session, clock: ManualClock
    ) -> None:
        person = actors.nobody()
        created = client.post("/api/v1/tokens", json={"name": "x"}, headers=person.headers)
        assert created.status_code == 201
        assert _last_used(session, person) == clock.now()

    def test_a_refused_token_records_nothing(
        self, client: TestClient, actors: Actors, session: Session
    ) -> None:
        person = actors.nobody()
        token = session.scalars(select(ApiToken).where(ApiToken.user_id == person.user.id)).one()
        token.revoked_at = token.created_at
        session.flush()
        assert client.get("/api/v1/me", headers=person.headers).status_code == 401
        assert _last_used(session, person) is None


def test_a_get_that_writes_is_refused(app: FastAPI, actors: Actors) -> None:
    """A safe method's unit of work is read-only: a write there is a bug, and fails loudly."""

    @app.get("/test-writes-on-get")
    def writes(session: SessionDep) -> None:
        session.add(
            Organisation(
                name="sneaky",
                category=OrganisationCategory.ENTERPRISE,
                slurm_account=organisation_account_name("sneaky"),
            )
        )
        session.flush()

    officer = actors.staff(Role.OPERATOR)
    with TestClient(app) as client, pytest.raises(ReadOnlyTransaction):
        client.get("/test-writes-on-get", headers=officer.headers)


@pytest.fixture
def file_app(tmp_path: Path, clock: ManualClock) -> Iterator[tuple[FastAPI, Engine, str]]:
    """The app on a SQLite file (WAL), no dependency overridden: production's sessions; a
    short busy timeout, so that a wait for the write lock fails fast."""
    engine = make_engine(f"sqlite:///{tmp_path / 'api.sqlite3'}")

    def short_timeout(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA busy_timeout=100")

    event.listen(engine, "connect", short_timeout)
    create_schema(engine)
    sessions = make_session_factory(engine)
    with unit_of_work(sessions) as session:
        person = identity_factory.user(session, roles=(Role.FUNDER,), at=clock.now())
        token = identity_factory.token(session, person, at=clock.now())
    settings = Settings(database_url="sqlite://", attachments_dir=tmp_path / "attachments")
    yield create_app(settings, AppState(settings, engine, sessions, clock)), engine, token
    engine.dispose()


def test_sqlite_reads_do_not_wait_for_the_writer(
    file_app: tuple[FastAPI, Engine, str],
    clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """SQLite only (the write lock is SQLite's): while another connection holds the write lock,
    a GET answers; recording the token's use, which needs the lock, gives up (logged) without
    failing the request, and the next GET after the lock is released records it."""
    app, engine, token = file_app
    headers = {"Authorization": f"Bearer {token}"}
    holder = engine.connect()
    with TestClient(app) as client:
        try:
            holder.begin()  # a write transaction: BEGIN IMMEDIATE takes the lock
            with caplog.at_level(logging.WARNING, logger="computeport.identity.auth"):
                assert client.get("/api/v1/me", headers=headers).status_code == 200
            assert "could not record the use" in caplog.text
        finally:
            holder.close()
        assert client.get("/api/v1/me", headers=headers).status_code == 200
    with engine.connect() as connection:
        assert connection.scalar(select(ApiToken.last_used_at)) == clock.now()
