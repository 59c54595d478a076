"""Migration 0015 on a database with gateway traffic: existing usage keeps its rows with no
redactions, existing upstreams stay untagged (served as before to unrestricted departments),
and down then up again keeps both (expand-only)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from tests.factories import identity as identity_factory
from tests.factories.inference import event
from tests.support.databases import drop_postgres_database, fresh_postgres_database, worker_suffix

from computeport.db.engine import make_engine
from computeport.db.migrate import downgrade, upgrade
from computeport.gateway.keys import register_deployment
from computeport.kit.clock import ManualClock
from computeport.metering.token_ingest import ingest_token_usage

PREVIOUS = "0011_award_shares"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    url = (
        f"sqlite:///{tmp_path / 'migrate.sqlite3'}"
        if request.param == "sqlite"
        else fresh_postgres_database(f"cp_migrate_policy_{worker_suffix()}")
    )
    made = make_engine(url)
    yield made
    made.dispose()
    if request.param != "sqlite":
        drop_postgres_database(url)


def test_usage_and_upstreams_survive_down_and_up(engine: Engine) -> None:
    upgrade(engine)
    clock = ManualClock(datetime(2026, 12, 4, tzinfo=UTC))
    with Session(engine) as session, session.begin():
        org = identity_factory.organisation(session)
        register_deployment(
            session,
            clock,
            name="m",
            organisation_id=org.id,
            accelerator_type="h800",
            upstreams=["http://10.0.0.5:8000/v1"],
        )
        ingest_token_usage(session, clock, [event(org.id, None, 10, 5)])
    downgrade(engine, PREVIOUS)
    with engine.connect() as connection:
        columns = {c["name"] for c in sa.inspect(connection).get_columns("token_usage")}
        assert "redactions" not in columns
        assert not sa.inspect(connection).has_table("data_policy")
    upgrade(engine)
    with engine.connect() as connection:
        usage = connection.execute(sa.text("SELECT prompt_tokens, redactions FROM token_usage"))
        assert [tuple(r) for r in usage] == [(10, 0)]
        upstreams = connection.execute(sa.text("SELECT base_url, site_key FROM model_upstream"))
        assert [tuple(r) for r in upstreams] == [("http://10.0.0.5:8000/v1", None)]
