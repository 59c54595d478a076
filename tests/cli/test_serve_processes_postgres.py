"""``computeport serve --workers 2`` for real on PostgreSQL: two processes answer, and a
rolling restart (SIGHUP, what ``systemctl reload computeport-api`` sends) replaces both while a
client keeps reading and writing, without a failed request.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from computeport.db.engine import make_engine, make_session_factory, unit_of_work
from computeport.db.schema import create_schema
from computeport.models.identity import Role
from tests.factories import identity as identity_factory
from tests.support.databases import drop_postgres_database, fresh_postgres_database, worker_suffix
from tests.support.processes import Request, Traffic, answers, free_port, stop, wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def children(pid: int) -> set[int]:
    """uvicorn's worker processes: the supervisor's children that serve (``spawn_main``)."""
    try:
        kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return set()
    serving = set()
    for kid in kids:
        try:
            cmdline = Path(f"/proc/{kid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"spawn_main" in cmdline and b"resource_tracker" not in cmdline:
            serving.add(int(kid))
    return serving


def requests(n: int) -> list[Request]:
    return [
        ("GET", "/api/v1/me", None),
        ("POST", "/api/v1/organisations", {"name": f"Rolling Org {n}", "category": "enterprise"}),
    ]


def test_two_processes_serve_and_restart_one_by_one_under_traffic(tmp_path: Path) -> None:
    url = fresh_postgres_database(f"cp_serve_{worker_suffix()}")
    engine = make_engine(url)
    process: subprocess.Popen[bytes] | None = None
    try:
        create_schema(engine)
        with unit_of_work(make_session_factory(engine)) as session:
            token = identity_factory.token(
                session, identity_factory.user(session, roles=(Role.OPERATOR,))
            )
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "COMPUTEPORT_DATABASE_URL": url,
            "COMPUTEPORT_SECRET_KEY": "serve-test-secret-key-not-the-published-default-0123",
            # a cluster that is never called: the test is about the API processes
            "COMPUTEPORT_BACKEND": "slurm",
            "COMPUTEPORT_ATTACHMENTS_DIR": str(tmp_path / "files"),
            "NO_COLOR": "1",
        }
        log = tmp_path / "serve.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [
                    str(Path(sys.executable).with_name("computeport")),
                    "serve",
                    "--port",
                    str(port),
                    "--workers",
                    "2",
                    "--log-level",
                    "info",
                ],
                stdout=out,
                stderr=out,
                env=env,
            )
        server = process
        wait_until("two processes", lambda: len(children(server.pid)) == 2, server, log)
        wait_until("liveness", lambda: answers(base + "/healthz"), server, log)
        first = children(server.pid)

        traffic = Traffic(base, token, requests).start()
        wait_until("first writes", lambda: len(traffic.created) >= 3, server, log)
        server.send_signal(signal.SIGHUP)  # uvicorn: replace each process, new before old

        def replaced() -> bool:
            now = children(server.pid)
            return len(now) == 2 and not (now & first)

        wait_until("both processes replaced", replaced, server, log, timeout_s=180)
        after = len(traffic.done)
        wait_until("traffic after", lambda: len(traffic.done) >= after + 6, server, log)
        traffic.finish()
        assert traffic.failed() == [], f"requests failed in the rolling restart: {traffic.failed()}"
        assert "Received SIGHUP, restarting processes" in log.read_text()
    finally:
        if process is not None:
            stop(process)
        engine.dispose()
        drop_postgres_database(url)
