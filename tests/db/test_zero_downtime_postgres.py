"""Zero-downtime upgrade on PostgreSQL: an API process keeps answering while the schema moves.

The order docs/deploy.md prescribes: (1) migrate (``computeport db upgrade``; migrations are
expand-then-contract, so the schema after an "expand" step still serves the previous version);
(2) restart the API processes one by one; (3) restart the workers.  This test covers step 1
with real parts: a uvicorn process (the whole app, API and portal) is started on a database at
the head *before* the newest migration, and a client keeps reading and writing through it
while the operator's ``computeport db upgrade`` runs in another process.  Every request must
succeed, every write must be there afterwards, and ``/readyz`` turns ready once the schema is
at this version's head.

The newest migration is found, not named (:mod:`tests.support.migrations`), so the test always
exercises whatever migration was added last.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from tests.factories import identity as identity_factory
from tests.support.databases import drop_postgres_database, fresh_postgres_database, worker_suffix
from tests.support.migrations import upgrade_to_previous_head
from tests.support.processes import Request, Traffic, answers, free_port, stop, wait_until

from computeport.db.engine import make_engine, make_session_factory, unit_of_work
from computeport.db.migrate import current_revision
from computeport.models.identity import Organisation, Role

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

SERVER = """
import sys
import uvicorn
from computeport.cli.serve import build_app
from computeport.db.engine import make_engine, make_session_factory
from computeport.http.state import AppState
from computeport.kit.clock import SystemClock
from computeport.settings import Settings

settings = Settings()
engine = make_engine(settings.database_url)
# the whole app on the real engine; no cluster (the test is about the schema, not a back end)
state = AppState(settings, engine, make_session_factory(engine), SystemClock(), None)
uvicorn.run(build_app(settings, state), host="127.0.0.1", port=int(sys.argv[1]),
            log_level="warning")
"""


def requests(n: int) -> list[Request]:
    return [
        ("GET", "/api/v1/me", None),
        ("GET", "/api/v1/organisations", None),
        ("POST", "/api/v1/organisations", {"name": f"Upgrade Org {n}", "category": "enterprise"}),
    ]


def test_an_api_process_answers_reads_and_writes_while_the_schema_is_upgraded(
    tmp_path: Path,
) -> None:
    url = fresh_postgres_database(f"cp_upgrade_{worker_suffix()}")
    engine = make_engine(url)
    process: subprocess.Popen[bytes] | None = None
    try:
        head, _parents = upgrade_to_previous_head(engine)
        with unit_of_work(make_session_factory(engine)) as session:
            operator = identity_factory.user(session, roles=(Role.OPERATOR,))
            token = identity_factory.token(session, operator)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = {**os.environ, "COMPUTEPORT_DATABASE_URL": url, "NO_COLOR": "1"}
        log = tmp_path / "api.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-c", SERVER, str(port)], stdout=out, stderr=out, env=env
            )

        wait_until("liveness", lambda: answers(base + "/healthz"), process, log)
        behind = httpx.get(base + "/readyz", timeout=30)
        assert behind.status_code == 503, behind.text  # held out of the pool until migrated
        assert behind.json()["failing"] == ["migrations"]

        traffic = Traffic(base, token, requests).start()
        wait_until("first writes", lambda: len(traffic.created) >= 3, process, log)
        began = time.monotonic()
        upgraded = subprocess.run(
            [str(Path(sys.executable).with_name("computeport")), "db", "upgrade"],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        ended = time.monotonic()
        during = len(traffic.done)
        wait_until("writes after", lambda: len(traffic.done) >= during + 9, process, log)
        traffic.finish()
        assert upgraded.returncode == 0, upgraded.stderr

        assert current_revision(engine) == head
        assert traffic.failed() == [], f"requests failed during the upgrade: {traffic.failed()}"
        overlapping = [d for d in traffic.done if d[1] >= began and d[0] <= ended]
        assert {m for *_t, m, _s in overlapping} >= {"GET", "POST"}, (
            f"no reads and writes overlapped the migration ({len(overlapping)} requests, "
            f"{ended - began:.1f} s)"
        )
        with engine.connect() as connection:
            names = connection.execute(
                select(func.count()).where(Organisation.name.like("Upgrade Org %"))
            ).scalar_one()
        assert names == len(traffic.created)
        ready = httpx.get(base + "/readyz", timeout=30)
        assert ready.status_code == 200, ready.text
    finally:
        if process is not None:
            stop(process)
        engine.dispose()
        drop_postgres_database(url)
