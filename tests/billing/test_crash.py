"""kill -9 in the middle of ingest, posting and period close, then a rerun: the books and the
documents equal those of an uninterrupted run (SQLite file and PostgreSQL).

The CLI runs in a subprocess; ``COMPUTEPORT_BILLING_CRASH_AFTER=N`` makes it ``os._exit(137)``
inside batch N+1 after its writes and before its commit — what a kill -9 leaves behind.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from computeport.backends import AccountingRecord
from computeport.cli.billing import CRASH_ENV, app
from computeport.db.engine import make_engine, make_session_factory, unit_of_work
from computeport.db.schema import create_schema
from computeport.invoicing.render import document_csv
from computeport.kit.clock import ManualClock
from computeport.ledger.queries import balances, unbalanced_journals
from computeport.metering.jsonl import write_jsonl
from computeport.models.award import Award
from computeport.models.identity import Organisation
from computeport.models.invoicing import BillingDocument
from computeport.models.ledger import LedgerAccount
from computeport.models.metering import UsageCharge
from tests.billing import support as s
from tests.support.databases import drop_postgres_database, fresh_postgres_database, worker_suffix

pytestmark = pytest.mark.slow

NOW = "2026-11-02T00:00:00Z"


def _records() -> list[AccountingRecord]:
    world_jobs: list[AccountingRecord] = []
    start = datetime(2026, 10, 1, tzinfo=UTC)
    for i in range(400):
        account = ("aiss-a", "aiss-b", "alpha", "beta")[i % 4]
        world_jobs.append(
            s.job(
                1000 + i,
                account,
                end=start + timedelta(minutes=97 * i),
                gpus=1 + i % 8,
                seconds=300 + 37 * i,
            )
        )
    # 20 late arrivals (end early in the month, sent last) and a correction.
    late = [world_jobs.pop(5 * k) for k in range(20)]
    import dataclasses

    fix = dataclasses.replace(world_jobs[10], gpu_seconds=world_jobs[10].gpu_seconds // 3)
    return world_jobs + late + [fix]


def _prepare(url: str) -> None:
    engine = make_engine(url)
    create_schema(engine)
    with unit_of_work(make_session_factory(engine)) as session:
        s.World(session, ManualClock(datetime(2026, 9, 1, tzinfo=UTC)), "CRASH-1", "CRASH-2")
    engine.dispose()


def _cli(url: str, *args: str, crash_after: int) -> int:
    """``computeport billing ARGS`` in a subprocess that dies in batch ``crash_after + 1``."""
    env = {**os.environ, "COMPUTEPORT_DATABASE_URL": url, CRASH_ENV: str(crash_after)}
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from computeport.cli.billing import app; app()",
            *args,
            "--now",
            NOW,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode not in (0, 137):
        raise AssertionError(done.stdout + done.stderr)
    return done.returncode


def _in_process(url: str, *args: str) -> None:
    """The same command without a crash, in this process (no interpreter start-up)."""
    old = os.environ.get("COMPUTEPORT_DATABASE_URL")
    os.environ["COMPUTEPORT_DATABASE_URL"] = url
    try:
        result = CliRunner().invoke(app, [*args, "--now", NOW])
    finally:
        if old is None:
            del os.environ["COMPUTEPORT_DATABASE_URL"]
        else:
            os.environ["COMPUTEPORT_DATABASE_URL"] = old
    assert result.exit_code == 0, result.output


def _books(url: str) -> tuple[list[tuple[str, str, int]], list[str], int]:
    engine = make_engine(url)
    with Session(engine) as session:
        names = {a.id: a.reference for a in session.scalars(select(Award))}
        names |= {o.id: o.name for o in session.scalars(select(Organisation))}
        owners = {
            a.code: names.get(owner, "centre")
            if (owner := a.award_id or a.organisation_id or a.scheme_id)
            else "centre"
            for a in session.scalars(select(LedgerAccount))
        }
        books = sorted((str(b.kind), owners[b.code], b.balance_minor) for b in balances(session))
        docs = [
            document_csv(d)
            for d in session.scalars(select(BillingDocument).order_by(BillingDocument.number))
        ]
        ratings = sorted(
            (c.cluster, c.job_id, c.sign, c.list_minor, c.subsidy_minor)
            for c in session.scalars(select(UsageCharge))
        )
        assert unbalanced_journals(session) == []
    engine.dispose()
    return books, docs, len(ratings)


CLOSE = ("close", "--period", "2026-10", "--issue-date", "2026-11-01")


def _uninterrupted(url: str, data: Path) -> None:
    _in_process(url, "ingest", str(data), "--batch", "100")
    _in_process(url, "post", "--batch", "70")
    _in_process(url, *CLOSE)


def _interrupted(url: str, data: Path) -> None:
    # Killed in the 3rd ingest batch; the rerun ingests everything (the first two are known).
    assert _cli(url, "ingest", str(data), "--batch", "100", crash_after=2) == 137
    _in_process(url, "ingest", str(data), "--batch", "100")
    # Killed in the 4th posting batch; the rerun posts the rest.
    assert _cli(url, "post", "--batch", "70", crash_after=3) == 137
    _in_process(url, "post", "--batch", "70")
    # Killed inside the close's transaction, after its documents were written.
    assert _cli(url, *CLOSE, crash_after=0) == 137
    _in_process(url, *CLOSE)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def two_databases(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'a.sqlite3'}", f"sqlite:///{tmp_path / 'b.sqlite3'}"
        return
    urls = [fresh_postgres_database(f"cp_crash_{n}_{worker_suffix()}") for n in "ab"]
    try:
        yield urls[0], urls[1]
    finally:
        for url in urls:
            drop_postgres_database(url)


def test_a_crash_and_a_rerun_give_the_uninterrupted_books(
    two_databases: tuple[str, str], tmp_path: Path
) -> None:
    data = tmp_path / "usage.jsonl"
    write_jsonl(data, _records())
    clean, crashed = two_databases
    _prepare(clean)
    _prepare(crashed)
    _uninterrupted(clean, data)
    _interrupted(crashed, data)
    expected, got = _books(clean), _books(crashed)
    assert got == expected
    books, docs, _ = got
    assert len(docs) == 4  # two invoices, two subsidy statements
    assert any(kind == "revenue" and balance < 0 for kind, _, balance in books)
