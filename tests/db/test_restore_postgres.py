"""Backups restore: ``pg_dump`` → drop → create → ``pg_restore`` gives back the same centre.

The database holds a posted ledger and a closed month (invoices and subsidy statements with
their lines), built by the services themselves.  After the round trip every table holds the
same rows, the ledger the same balances (and no unbalanced journal), the documents the same
lines and rendering, and the append-only triggers guard the restored ledger as before.  This
is the restore that docs/deploy.md tells an operator to rehearse.

Locally a missing ``pg_dump`` skips; in CI it fails (``tests.support.databases.require``).
"""

from __future__ import annotations

import glob
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from tests.factories.billing import World
from tests.support.databases import (
    drop_postgres_database,
    fresh_postgres_database,
    require,
    worker_suffix,
)

from computeport.billing.posting import post_all
from computeport.db.base import Base
from computeport.db.engine import make_engine, make_session_factory, unit_of_work
from computeport.db.schema import create_schema
from computeport.invoicing.close import close_period
from computeport.invoicing.render import document_csv, document_html
from computeport.kit.clock import ManualClock
from computeport.ledger.queries import balance_map, unbalanced_journals
from computeport.metering.ingest import ingest_usage
from computeport.models.invoicing import BillingDocument
from computeport.models.ledger import Posting

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def pg_tool(name: str) -> str | None:
    """``name`` from PATH, else the newest of Debian's /usr/lib/postgresql/<major>/bin."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(
        glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    return candidates[-1] if candidates else None


def libpq_url(url: str) -> str:
    """The SQLAlchemy URL as libpq reads it (``postgresql://``, no driver suffix)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def build_centre(engine: Engine) -> list[str]:
    """A closed October: usage ingested, rated, posted, the month closed (committed)."""
    clock = ManualClock(datetime(2026, 10, 1, tzinfo=UTC))
    with unit_of_work(make_session_factory(engine)) as session:
        world = World(session, clock)
        clock.set(datetime(2026, 11, 2, tzinfo=UTC))
        ingest_usage(session, clock, world.october())
        post_all(session, clock)
        issued = datetime(2026, 11, 1, tzinfo=UTC)
        report = close_period(session, clock, "2026-10", issue_date=issued)
    assert len(report.documents) >= 2
    return list(report.documents)


def snapshot(engine: Engine, numbers: list[str]) -> dict[str, Any]:
    """Everything the restore must give back, as plain values."""
    tables: dict[str, list[tuple[str, ...]]] = {}
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            rows = connection.execute(select(table)).all()
            tables[table.name] = sorted(tuple(repr(v) for v in row) for row in rows)
        triggers = sorted(
            connection.execute(
                text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
            ).scalars()
        )
    with Session(engine) as session:
        documents = {}
        for number in numbers:
            doc = session.scalars(
                select(BillingDocument).where(BillingDocument.number == number)
            ).one()
            documents[number] = (
                [(ln.award_reference, ln.gpu_seconds, ln.list_minor, ln.subsidy_minor,
                  ln.due_minor, ln.credited_minor) for ln in doc.lines],
                document_csv(doc),
                document_html(doc),
            )  # fmt: skip
        ledger = balance_map(session)
        unbalanced = unbalanced_journals(session)
    return {
        "tables": tables,
        "triggers": triggers,
        "documents": documents,
        "balances": ledger,
        "unbalanced": unbalanced,
    }


def run(argv: list[str]) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, f"{argv[0]} failed ({done.returncode}): {done.stderr}"


def test_dump_drop_restore_gives_back_the_ledger_and_the_invoices(tmp_path: Path) -> None:
    pg_dump, pg_restore = pg_tool("pg_dump"), pg_tool("pg_restore")
    require(pg_dump is not None and pg_restore is not None, "pg_dump and pg_restore")
    assert pg_dump is not None
    assert pg_restore is not None
    name = f"cp_restore_{worker_suffix()}"
    url = fresh_postgres_database(name)
    try:
        engine = make_engine(url)
        create_schema(engine)
        numbers = build_centre(engine)
        before = snapshot(engine, numbers)
        engine.dispose()
        assert any(before["balances"].values())
        assert before["unbalanced"] == []
        assert len(before["tables"]["billing_document"]) == len(numbers)
        assert before["tables"]["document_line"]

        dump = tmp_path / "computeport.dump"
        run([pg_dump, "--format=custom", "--no-owner", f"--file={dump}", libpq_url(url)])
        drop_postgres_database(url)
        assert fresh_postgres_database(name) == url  # an empty database of the same name
        run([pg_restore, "--no-owner", "--exit-on-error", f"--dbname={libpq_url(url)}", str(dump)])

        engine = make_engine(url)
        after = snapshot(engine, numbers)
        assert after["tables"].keys() == before["tables"].keys()
        for table, rows in before["tables"].items():
            assert after["tables"][table] == rows, f"table {table} differs after the restore"
        assert after == before
        # the restored ledger is still append-only: its triggers came back and still fire
        with engine.connect() as connection:
            connection.execute(select(Posting.id).limit(1)).scalar_one()
            with pytest.raises(DBAPIError, match="append-only"):
                connection.execute(text("UPDATE posting SET amount_minor = amount_minor + 1"))
            connection.rollback()
        engine.dispose()
    finally:
        drop_postgres_database(url)
