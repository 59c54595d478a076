"""Migration 0012 on a database with gateway usage: down to 0017 drops the audio columns and
keeps every row (usage, and the deployments' upstreams: no table is rebuilt); up again gives
the existing rows no audio and existing deployments ``text``."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine, inspect
from sqlalchemy.orm import Session
from tests.factories import identity as identity_factory
from tests.support.databases import drop_postgres_database, fresh_postgres_database, worker_suffix

from computeport.db.engine import make_engine
from computeport.db.migrate import downgrade, upgrade
from computeport.gateway.keys import register_deployment
from computeport.kit.clock import ManualClock

PREVIOUS = "0017_site_views"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    url = (
        f"sqlite:///{tmp_path / 'migrate.sqlite3'}"
        if request.param == "sqlite"
        else fresh_postgres_database(f"cp_migrate_audio_{worker_suffix()}")
    )
    made = make_engine(url)
    yield made
    made.dispose()
    if request.param != "sqlite":
        drop_postgres_database(url)


def test_audio_columns_come_and_go_and_the_usage_stays(engine: Engine) -> None:
    upgrade(engine)
    downgrade(engine, PREVIOUS)
    assert "audio_ms" not in {c["name"] for c in inspect(engine).get_columns("token_usage")}
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO token_usage (request_id, organisation_id, key_id, model, endpoint,"
                " started_at, prompt_tokens, completion_tokens, estimated, streamed, latency_ms,"
                " status, ingested_at) VALUES (:r, :o, :k, 'smollm2', 'chat.completions', :t,"
                " 10, 5, false, false, 12, 200, :t)"
            ),
            {
                "r": "req-1",
                "o": uuid.uuid4().hex,
                "k": uuid.uuid4().hex,
                "t": datetime(2026, 12, 1, tzinfo=UTC),
            },
        )
    upgrade(engine)
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT request_id, audio_ms FROM token_usage")).all()
    assert [tuple(r) for r in rows] == [("req-1", 0)]
    columns = {c["name"] for c in inspect(engine).get_columns("model_deployment")}
    assert "modality" in columns
    with Session(engine) as session, session.begin():
        org = identity_factory.organisation(session)
        register_deployment(
            session,
            ManualClock(datetime(2026, 12, 4, tzinfo=UTC)),
            name="whisper-1",
            organisation_id=org.id,
            accelerator_type="cpu",
            upstreams=["http://10.0.0.6:8000/v1"],
            modality="speech",
        )
    downgrade(engine, PREVIOUS)
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM token_usage")).scalar() == 1
        # Dropping the columns must not rebuild the tables: on SQLite a rebuild deletes the
        # deployment's upstreams (and usage's charges) by ON DELETE CASCADE.
        upstreams = connection.execute(sa.text("SELECT base_url FROM model_upstream")).all()
        assert [tuple(r) for r in upstreams] == [("http://10.0.0.6:8000/v1",)]
