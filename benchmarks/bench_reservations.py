"""Reserved-capacity top-ups: what the worker's hourly ingest pays to recompute them.

Every ingest run recomputes the top-up of each charged reservation that ended in the last
month (:func:`computeport.metering.reservations.reservation_records`), reading the award's
usage records that overlap the window.  This measures that call over a usage table of
``--records`` job records (200 award accounts, jobs of 1-8 GPUs up to a day through October
2026, fixed seed) with ``--reservations`` ended reservations, and the common case of none.

    .venv/bin/python benchmarks/bench_reservations.py --records 1000000
    .venv/bin/python benchmarks/bench_reservations.py --records 1000000 \
        --db postgresql+psycopg://postgres@127.0.0.1:5432/bench_resv

Prints wall and CPU seconds (the machine is shared: CPU time excludes the others' share).
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy import insert, text
from sqlalchemy.orm import Session, sessionmaker

from bench_billing import bench_scheme
from computeport.db.base import Base
from computeport.db.engine import make_engine, make_session_factory, unit_of_work
from computeport.db.schema import create_schema
from computeport.kit.clock import ManualClock
from computeport.metering.reservations import reservation_records
from computeport.models.application import Application, ApplicationStatus
from computeport.models.award import Award
from computeport.models.identity import Organisation, OrganisationCategory
from computeport.models.metering import UsageRecord
from computeport.models.reservation import AwardReservation

START = datetime(2026, 10, 1, tzinfo=UTC)
NOW = datetime(2026, 11, 1, tzinfo=UTC)
AWARDS = 200
CHUNK = 50_000


def _setup(factory: sessionmaker[Session], reservations: int) -> list[str]:
    clock = ManualClock(START)
    accounts = [f"aw{i:03d}" for i in range(AWARDS)]
    with unit_of_work(factory) as s:
        sch = bench_scheme(clock)
        org = Organisation(
            name="Org",
            category=OrganisationCategory.ENTERPRISE,
            slurm_account="org_bench",
            created_at=clock.now(),
        )
        s.add_all([sch, org])
        s.flush()
        for i, account in enumerate(accounts):
            app = Application(
                reference=f"B-{i:04d}", scheme_id=sch.id, organisation_id=org.id,
                status=ApplicationStatus.APPROVED, title="t", sector="general",
                accelerator_type="h800", gpus=8, gpu_hours=10_000, duration_months=12,
                created_at=clock.now(),
            )  # fmt: skip
            s.add(app)
            s.flush()
            award = Award(
                reference=f"B-{i:04d}-A", application_id=app.id, scheme_id=sch.id,
                organisation_id=org.id, starts_at=datetime(2026, 1, 1, tzinfo=UTC),
                ends_at=datetime(2027, 1, 1, tzinfo=UTC), subsidy_rate=Decimal("0.7"),
                cap_minor=10**12, committed_minor=10**12, slurm_account=account,
                charge_reservations=True, created_at=clock.now(),
            )  # fmt: skip
            s.add(award)
            s.flush()
            if i < reservations:
                day = START + timedelta(days=i % 28)
                s.add(
                    AwardReservation(
                        award_id=award.id,
                        name=f"r{i:03d}",
                        cluster="aisc",
                        partition="gpu",
                        accelerator_type="h800",
                        nodes=2,
                        gpus=16,
                        starts_at=day,
                        ends_at=day + timedelta(days=1),
                        booked_ends_at=day + timedelta(days=1),
                        created_at=clock.now(),
                    )
                )
    return accounts


def _fill(factory: sessionmaker[Session], accounts: list[str], records: int) -> None:
    rng = random.Random(2026)
    span = 31 * 86_400
    rows: list[dict[str, object]] = []
    with unit_of_work(factory) as s:
        for n in range(records):
            gpus = rng.choice((1, 2, 4, 8))
            seconds = rng.randint(60, 86_400)
            end = START + timedelta(seconds=rng.randint(seconds, span))
            start = end - timedelta(seconds=seconds)
            rows.append(
                {
                    "cluster": "aisc", "job_id": str(n), "submit_time": start, "digest": "d",
                    "account": accounts[n % len(accounts)], "user_name": "u",
                    "partition": "gpu", "qos": "normal", "accelerator_type": "h800",
                    "gpus": gpus, "start_time": start, "end_time": end, "state": "COMPLETED",
                    "chargeable": True, "exit_code": 0, "gpu_seconds": gpus * seconds,
                    "ingested_at": NOW,
                }
            )  # fmt: skip
            if len(rows) >= CHUNK:
                s.execute(insert(UsageRecord), rows)
                rows = []
        if rows:
            s.execute(insert(UsageRecord), rows)


def _time(factory: sessionmaker[Session], repeat: int) -> tuple[float, float, int]:
    best_wall = best_cpu = float("inf")
    count = 0
    for _ in range(repeat):
        with factory() as s:
            w0, c0 = time.perf_counter(), time.process_time()
            count = len(reservation_records(s, "aisc", NOW))
            best_wall = min(best_wall, time.perf_counter() - w0)
            best_cpu = min(best_cpu, time.process_time() - c0)
    return best_wall, best_cpu, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--reservations", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--db", default="sqlite", help="sqlite, or a PostgreSQL URL")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'resv.sqlite3'}" if args.db == "sqlite" else args.db
        engine = make_engine(url)
        if engine.dialect.name == "postgresql":
            Base.metadata.drop_all(engine)
        create_schema(engine)
        factory = make_session_factory(engine)
        accounts = _setup(factory, args.reservations)
        t0 = time.perf_counter()
        _fill(factory, accounts, args.records)
        filled = time.perf_counter() - t0
        if engine.dialect.name == "postgresql":
            with engine.begin() as c:
                c.execute(text("ANALYZE"))
        table = Table(
            title=f"reservation_records over {args.records:,} usage records ({url.split(':')[0]})"
        )
        for col in ("case", "reservations", "top-ups", "wall s (best)", "CPU s (best)"):
            table.add_column(col, justify="right")
        wall, cpu, count = _time(factory, args.repeat)
        table.add_row("charged reservations ended", str(args.reservations), str(count),
                      f"{wall:.3f}", f"{cpu:.3f}")  # fmt: skip
        with unit_of_work(factory) as s:
            s.execute(text("UPDATE award SET charge_reservations = false"))
        wall, cpu, count = _time(factory, args.repeat)
        table.add_row("none charged", "0", str(count), f"{wall:.3f}", f"{cpu:.3f}")
        Console().print(table)
        print(f"(filling the table took {filled:.1f} s; load average {os.getloadavg()})")
        if engine.dialect.name == "postgresql":
            Base.metadata.drop_all(engine)
        engine.dispose()


if __name__ == "__main__":
    main()
