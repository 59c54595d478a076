"""Usage reports over 10,000,000 job records in ≤ 1 s; the operations page's 90-day query.

Fills ``usage_record`` and ``usage_charge`` set-based (one ``INSERT … SELECT`` each, rows
computed in SQL from ``generate_series`` on PostgreSQL or a recursive CTE on SQLite; not
through the poster, whose cost is ``bench_billing.py``'s), rebuilds the rollups, then times
every report dimension, the money-by-month and subsidy-by-award readers, the funder report's
first-use lookup and the operations page's 90-day queries (GPUs in use, daily wait
percentiles), median of 5, wall and CPU.  The
same figures straight from the raw rows (the readers before the rollups) are timed once for
comparison, and so is the incremental refresh after a 50,000-record batch, in the batch's
transaction (what the poster now adds to every batch; median of 3).

    .venv/bin/python benchmarks/bench_reports.py --records 10000000 --db sqlite
    .venv/bin/python benchmarks/bench_reports.py --records 10000000 \
        --db postgresql+psycopg://postgres@127.0.0.1:5432/bench_reports

Synthetic year (2026, fixed arithmetic "randomness" from the row number): 400 owners (300
organisations, 320 awards, a fifth of the owners pay as they go), 1-8 GPU jobs of 1 min to 2 h
on three partitions and two accelerator types, waits up to an hour, 1 % never started, and
2 % of the records reversed and re-rated (a −1 and a +1 row) as late records cause.

CPU time is this process's (the client's): for SQLite that is all the work; for PostgreSQL the
server's share is not in it, so read wall time there.  On a shared machine note ``uptime``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import Column, Engine, MetaData, Uuid, func, select, text
from sqlalchemy import Integer as SqlInteger
from sqlalchemy import Table as SqlTable
from sqlalchemy.orm import Session

from computeport.db.engine import make_engine, make_session_factory, unit_of_work
from computeport.db.schema import create_schema
from computeport.metering.rollups import rebuild_usage_rollups, refresh_usage_rollups
from computeport.models.application import Application, ApplicationStatus
from computeport.models.award import Award
from computeport.models.identity import Organisation, OrganisationCategory
from computeport.models.metering import UsageCharge, UsageRecord
from computeport.models.scheme import Scheme
from computeport.web.routes.ops import bucket_for
from computeport.web.views.funder import first_start
from computeport.web.views.ops import finished_use, series_of, window_start, window_waits
from computeport.web.views.reports import DIMENSIONS, usage_report
from computeport.web.views.usage import money_by_month, subsidy_by_award

YEAR_START = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp())
YEAR_SECONDS = 365 * 86400
OWNERS = 400
ORGANISATIONS = 300
NOW = datetime(2027, 1, 1, tzinfo=UTC)
CATEGORIES = list(OrganisationCategory)
SECTORS = ("finance", "health", "logistics", "media", "government", "general")

console = Console(width=120)


@dataclass(frozen=True)
class Timing:
    wall_s: float
    cpu_s: float


def timed(fn: Callable[[], Any], repeat: int) -> tuple[Timing, Any]:
    walls: list[float] = []
    cpus: list[float] = []
    result: Any = None
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        result = fn()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return Timing(statistics.median(walls), statistics.median(cpus)), result


# -- setup -----------------------------------------------------------------------------------


owner_table = SqlTable(
    "bench_owner",
    MetaData(),
    Column("k", SqlInteger, primary_key=True),
    Column("organisation_id", Uuid, nullable=False),
    Column("award_id", Uuid, nullable=True),
)
"""Owner k of record g is k = g % OWNERS: its organisation and award (None: pay-as-you-go)."""


def seed_owners(engine: Engine) -> uuid.UUID:
    """The scheme, organisations, awards and the owner map; returns the scheme's id."""
    created = datetime(2025, 12, 1, tzinfo=UTC)
    owner_table.drop(engine, checkfirst=True)
    owner_table.create(engine)
    with unit_of_work(make_session_factory(engine)) as s:
        scheme = Scheme(
            code="AISS",
            name="AISS",
            envelope_minor=300_000_000_000,
            period_start=datetime(2024, 10, 1, tzinfo=UTC),
            period_end=datetime(2027, 10, 1, tzinfo=UTC),
            default_rate=Decimal("0.7"),
            max_rate=Decimal("0.9"),
            eligible_categories=[c.value for c in CATEGORIES],
            created_at=created,
        )
        s.add(scheme)
        orgs = [
            Organisation(
                name=f"Organisation {i:03d}",
                category=CATEGORIES[i % len(CATEGORIES)],
                sector=SECTORS[i % len(SECTORS)],
                slurm_account=f"org{i:03d}",
                created_at=created,
            )
            for i in range(ORGANISATIONS)
        ]
        s.add_all(orgs)
        s.flush()
        rows: list[dict[str, Any]] = []
        for k in range(OWNERS):
            org = orgs[k % ORGANISATIONS]
            award_id = None
            if k % 5:
                app = Application(
                    reference=f"AISS-2026-{k:04d}",
                    scheme_id=scheme.id,
                    organisation_id=org.id,
                    status=ApplicationStatus.APPROVED,
                    title="bench",
                    sector=org.sector,
                    accelerator_type="h800",
                    gpus=8,
                    gpu_hours=100_000,
                    duration_months=12,
                    created_at=created,
                )
                s.add(app)
                s.flush()
                award = Award(
                    reference=f"AISS-2026-{k:04d}-A",
                    application_id=app.id,
                    scheme_id=scheme.id,
                    organisation_id=org.id,
                    starts_at=datetime(2026, 1, 1, tzinfo=UTC),
                    ends_at=datetime(2027, 1, 1, tzinfo=UTC),
                    subsidy_rate=Decimal("0.7"),
                    cap_minor=10**12,
                    committed_minor=10**12,
                    slurm_account=f"aiss{k:04d}",
                    created_at=created,
                )
                s.add(award)
                s.flush()
                award_id = award.id
            rows.append({"k": k, "organisation_id": org.id, "award_id": award_id})
        s.execute(owner_table.insert(), rows)
        return scheme.id


def _sql(dialect: str, n: int, first: int = 1) -> tuple[str, str]:
    """The two INSERT … SELECTs (records, then their +1 ratings) for rows first … first+n−1."""
    pg = dialect == "postgresql"
    if pg:
        rows = f"generate_series(CAST({first} AS BIGINT), {first + n - 1}) AS q(g)"
        head = ""

        def ts(epoch: str) -> str:
            return f"to_timestamp({epoch})"

        def month(epoch: str) -> str:
            return f"to_char(to_timestamp({epoch}) AT TIME ZONE 'UTC', 'YYYY-MM')"
    else:
        head = (
            f"WITH RECURSIVE q(g) AS (SELECT {first} UNION ALL SELECT g + 1 FROM q "
            f"WHERE g < {first + n - 1}) "
        )
        rows = "q"

        def ts(epoch: str) -> str:
            return f"strftime('%Y-%m-%d %H:%M:%S', {epoch}, 'unixepoch') || '.000000'"

        def month(epoch: str) -> str:
            return f"strftime('%Y-%m', {epoch}, 'unixepoch')"

    h = "((g * 2654435761) % 4294967296)"
    end = f"({YEAR_START} + (g * {YEAR_SECONDS}) / {n + first - 1})"
    dur = f"(60 + {h} % 7140)"
    wait = f"(({h} / 7) % 3600)"
    gpus = f"(CASE {h} % 4 WHEN 0 THEN 1 WHEN 1 THEN 2 WHEN 2 THEN 4 ELSE 8 END)"
    started = f"({h} % 100 <> 0)"
    record = (
        f"{head}INSERT INTO usage_record (id, cluster, job_id, submit_time, digest, account, "
        "user_name, partition, qos, accelerator_type, gpus, start_time, end_time, state, "
        "chargeable, exit_code, gpu_seconds, ingested_at) "
        f"SELECT g, 'aisc', CAST(g AS VARCHAR(20)), {ts(f'{end} - {dur} - {wait}')}, 'd', "
        f"'acct' || CAST(g % {OWNERS} AS VARCHAR(8)), 'u', "
        f"CASE {h} % 3 WHEN 0 THEN 'gpu' WHEN 1 THEN 'large' ELSE 'debug' END, "
        f"CASE ({h} / 3) % 3 WHEN 0 THEN 'subsidised' WHEN 1 THEN 'normal' ELSE 'scavenger' END, "
        f"CASE ({h} / 11) % 4 WHEN 0 THEN 'h20' ELSE 'h800' END, {gpus}, "
        f"CASE WHEN {started} THEN {ts(f'{end} - {dur}')} END, {ts(end)}, 'COMPLETED', "
        f"{'true' if pg else '1'}, 0, CASE WHEN {started} THEN {gpus} * {dur} ELSE 0 END, "
        f"{ts(end)} FROM {rows}"
    )
    list_minor = "(r.gpu_seconds * 2800 / 3600)"
    subsidy = f"(CASE WHEN o.award_id IS NULL THEN 0 ELSE {list_minor} * 7 / 10 END)"
    epoch_end = (
        "CAST(EXTRACT(EPOCH FROM r.end_time) AS BIGINT)"
        if pg
        else "CAST(strftime('%s', r.end_time) AS INTEGER)"
    )
    charge = (
        "INSERT INTO usage_charge (id, record_id, sign, kind, award_id, organisation_id, "
        "accelerator_type, cluster, job_id, submit_time, end_time, period, gpu_seconds, "
        "list_minor, subsidy_minor, copay_minor, credited_minor, rated_at) "
        "SELECT r.id, r.id, 1, CASE WHEN o.award_id IS NULL THEN 'payg' ELSE 'subsidised' END, "
        "o.award_id, o.organisation_id, r.accelerator_type, r.cluster, r.job_id, "
        f"r.submit_time, r.end_time, {month(epoch_end)}, r.gpu_seconds, {list_minor}, "
        f"{subsidy}, {list_minor} - {subsidy}, 0, r.end_time "
        f"FROM usage_record r JOIN bench_owner o ON o.k = r.id % {OWNERS} "
        f"WHERE r.id >= {first} AND r.id <= {first + n - 1}"
    )
    return record, charge


def _rerate_sql(first_charge: int, last_record: int) -> str:
    """A reversal and a re-rating (−1, +1 rows, ids above the records') for 2 % of records."""
    columns = (
        "kind, award_id, organisation_id, accelerator_type, cluster, job_id, submit_time, "
        "end_time, period"
    )
    amounts = "gpu_seconds, list_minor, subsidy_minor, copay_minor, credited_minor"
    parts = []
    for offset, sign in ((0, -1), (1, 1)):
        parts.append(
            f"INSERT INTO usage_charge (id, record_id, sign, {columns}, {amounts}, rated_at) "
            f"SELECT {first_charge} + 2 * (record_id / 50) + {offset}, record_id, {sign}, "
            f"{columns}, {', '.join(f'{sign} * {a}' for a in amounts.split(', '))}, rated_at "
            f"FROM usage_charge WHERE record_id % 50 = 0 AND sign = 1 AND id <= {last_record}"
        )
    return ";".join(parts)


def fill(engine: Engine, n: int) -> None:
    dialect = engine.dialect.name
    record_sql, charge_sql = _sql(dialect, n)
    with engine.begin() as c:
        for label, sql in (("usage_record", record_sql), ("usage_charge", charge_sql)):
            t = time.perf_counter()
            c.execute(text(sql))
            console.print(f"  filled {label}: {time.perf_counter() - t:,.1f} s")
        t = time.perf_counter()
        for part in _rerate_sql(n + 1, n).split(";"):
            c.execute(text(part))
        console.print(f"  reversal/re-rating pairs: {time.perf_counter() - t:,.1f} s")
    if dialect == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(text("VACUUM ANALYZE usage_record, usage_charge"))


# -- the raw queries (the readers before the rollups), for comparison --------------------------


def raw_report(session: Session) -> int:
    """By organisation straight from the rating rows joined to their records (the old reader)."""
    dialect = session.get_bind().dialect.name
    wait = (
        (func.julianday(UsageRecord.start_time) - func.julianday(UsageRecord.submit_time)) * 86400
        if dialect == "sqlite"
        else func.extract("epoch", UsageRecord.start_time - UsageRecord.submit_time)
    )
    rows = session.execute(
        select(
            Organisation.name,
            func.sum(UsageCharge.sign),
            func.sum(UsageCharge.gpu_seconds),
            func.sum(UsageCharge.list_minor),
            func.sum(wait * UsageCharge.sign),
        )
        .join(UsageRecord, UsageRecord.id == UsageCharge.record_id)
        .join(Organisation, Organisation.id == UsageCharge.organisation_id)
        .group_by(Organisation.name)
    ).all()
    return len(rows)


def raw_money(session: Session) -> int:
    rows = session.execute(
        select(UsageCharge.period, func.sum(UsageCharge.subsidy_minor)).group_by(UsageCharge.period)
    ).all()
    return len(rows)


# -- main ------------------------------------------------------------------------------------


def run(url: str, n: int, repeat: int, raw: bool) -> Table:
    engine = make_engine(url)
    dialect = engine.dialect.name
    console.print(f"[bold]{dialect}[/]: schema, owners, {n:,} records …")
    create_schema(engine)
    scheme_id = seed_owners(engine)
    t = time.perf_counter()
    fill(engine, n)
    console.print(f"  fill total {time.perf_counter() - t:,.1f} s")
    factory = make_session_factory(engine)
    table = Table(title=f"Reports over {n:,} records ({dialect})")
    for column in ("query", "rows out", "wall ms (median)", "CPU ms (median)", "runs"):
        table.add_column(column, justify="left" if column == "query" else "right")

    def row(label: str, timing: Timing, out: Any, runs: int) -> None:
        count = len(out) if hasattr(out, "__len__") else out
        table.add_row(
            label,
            str(count),
            f"{timing.wall_s * 1000:,.0f}",
            f"{timing.cpu_s * 1000:,.0f}",
            str(runs),
        )

    with unit_of_work(factory) as s:
        w, c = time.perf_counter(), time.process_time()
        report = rebuild_usage_rollups(s)
        rebuild = Timing(time.perf_counter() - w, time.process_time() - c)
    row("rebuild the three rollups (rating rows folded in)", rebuild, report.through, 1)
    if dialect == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c2:
            c2.execute(text("ANALYZE usage_rollup, utilisation_rollup"))
    with factory() as s:
        sizes = (
            s.scalar(text("SELECT COUNT(*) FROM usage_rollup")),
            s.scalar(text("SELECT COUNT(*) FROM utilisation_rollup")),
        )
        console.print(f"  rollup rows: usage {sizes[0]:,}, utilisation {sizes[1]:,}")
        for by in DIMENSIONS:
            timing, out = timed(partial(usage_report, s, by), repeat)
            row(f"usage report by {by}", timing, out, repeat)
        timing, out = timed(
            lambda: usage_report(s, "organisation", since="2026-04", until="2026-06"), repeat
        )
        row("usage report by organisation, 2026-04…06", timing, out, repeat)
        timing, out = timed(lambda: money_by_month(s, scheme_id=scheme_id), repeat)
        row("money by month (scheme)", timing, out, repeat)
        awards = list(s.scalars(select(Award.id)))
        timing, out = timed(lambda: subsidy_by_award(s, awards), repeat)
        row(f"subsidy by award ({len(awards)} awards)", timing, out, repeat)
        year = datetime(2026, 1, 1, tzinfo=UTC)
        timing, out = timed(lambda: first_start(s, year, NOW), repeat)
        row("funder report: first use in the year", timing, 1 if out else 0, repeat)
        now = datetime(2026, 12, 31, 12, tzinfo=UTC)
        step = bucket_for(90)
        since = window_start(now, 90, step)

        def ops_use() -> int:
            use = finished_use(s, since, now, step)
            return len(series_of(use.labels, use.by_partition, step).x)

        timing, out = timed(ops_use, repeat)
        row("/ops 90 days: GPUs in use (rollup)", timing, out, repeat)
        timing, out = timed(lambda: window_waits(s, now - timedelta(days=90), now).x, repeat)
        row("/ops 90 days: wait percentiles (rollup)", timing, out, repeat)
        if raw:
            timing, out = timed(lambda: raw_report(s), 1)
            row("before: report by organisation from raw rows", timing, out, 1)
            timing, out = timed(lambda: raw_money(s), 1)
            row("before: money by month from raw rows", timing, out, 1)
    # Poster-sized batches landing: 50,000 more records and their ratings, then the refresh,
    # in one transaction (as post_usage does); the refresh alone is timed, median of 3.
    batch = 50_000
    refreshes: list[Timing] = []
    for i in range(3):
        record_sql, charge_sql = _sql(dialect, batch, first=n + 2 * (n // 50) + 10 + i * batch)
        with unit_of_work(factory) as s:
            s.execute(text(record_sql))
            s.execute(
                text(charge_sql.replace("SELECT r.id, r.id,", "SELECT r.id + 1000000000, r.id,"))
            )
            w, c = time.perf_counter(), time.process_time()
            refresh_usage_rollups(s)
            refreshes.append(Timing(time.perf_counter() - w, time.process_time() - c))
    refresh = Timing(
        statistics.median(t.wall_s for t in refreshes),
        statistics.median(t.cpu_s for t in refreshes),
    )
    row("refresh after a 50,000-record batch (in its transaction)", refresh, batch, 3)
    engine.dispose()
    return table


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--db", default="sqlite", help="sqlite, or a PostgreSQL URL (recreated)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-raw", action="store_true", help="skip the raw-rows comparison")
    args = parser.parse_args()
    scratch = tempfile.TemporaryDirectory(prefix="bench_reports_")
    if args.db == "sqlite":
        url = f"sqlite:///{Path(scratch.name) / 'bench_reports.sqlite3'}"
    else:
        url = args.db
        _recreate_postgres(url)
    console.print(f"load average at start: {_load()}")
    try:
        table = run(url, args.records, args.repeat, not args.no_raw)
    finally:
        scratch.cleanup()  # a 10M-record SQLite file is ~5 GB
    console.print(table)
    console.print(f"load average at end: {_load()}")
    return 0


def _load() -> str:
    path = Path("/proc/loadavg")
    return path.read_text().strip() if path.exists() else "n/a"


def _recreate_postgres(url: str) -> None:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    admin = make_engine(
        parsed.set(database="postgres").render_as_string(hide_password=False),
        isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}"'))
        c.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()


if __name__ == "__main__":
    sys.exit(main())
