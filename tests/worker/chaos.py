"""What the chaos test and the hand-over benchmark share: a seeded database, worker processes.

The centre: three organisations on one scheme, two awards (one ending mid-way, so expiry has
work) and pay-as-you-go, with usage in the three months before this one (the months the
worker's month-end close looks at).  ``usage_batches`` is the cluster's output in the order
ingest sees it: seeded random, with late records for months already closed.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from computeport.backends import AccountingRecord
from computeport.db.engine import unit_of_work
from computeport.invoicing.auto_close import periods_due
from computeport.kit.clock import ManualClock
from computeport.metering.cursor import RATING_CURSOR
from computeport.metering.ingest import ingest_usage
from computeport.models.invoicing import BillingDocument
from computeport.models.ledger import Posting
from computeport.models.metering import BillingCursor, UsageCharge, UsageRecord
from tests.factories import award as fw
from tests.factories import identity as fi
from tests.factories import metering as fm
from tests.factories import pricing as fp
from tests.factories import scheme as fs

COMPUTEPORT = Path(sys.executable).parent / "computeport"


def month_start(when: datetime, back: int = 0) -> datetime:
    index = when.year * 12 + when.month - 1 - back
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


def seed_centre(sessions: sessionmaker[Session], now: datetime) -> None:
    """Scheme, organisations, awards and prices, dated before the three months of usage."""
    first = month_start(now, 3)
    clock = ManualClock(first - timedelta(days=30))
    with unit_of_work(sessions) as session:
        sch = fs.scheme_row(session, clock)
        sch.period_start = first - timedelta(days=365)
        sch.period_end = now + timedelta(days=365)
        beta = fi.organisation_row(session, clock, "Beta University", "beta")
        gamma = fi.organisation_row(session, clock, "Gamma Robotics", "gamma")
        fi.organisation_row(session, clock, "Alpha Labs", "alpha")
        fw.award(
            session, clock, sch, beta, "aiss-b", rate="0.9", cap_minor=10**12,
            starts=first, ends=now + timedelta(days=200), reference="CHAOS-B",
        )  # fmt: skip
        fw.award(
            session, clock, sch, gamma, "aiss-g", rate="0.7", cap_minor=10**12,
            starts=first, ends=month_start(now, 2) + timedelta(days=14), reference="CHAOS-G",
        )  # fmt: skip
        fp.prices(session, clock)


def usage_batches(
    now: datetime, batches: int, size: int, seed: int = 11
) -> list[list[AccountingRecord]]:
    """``batches`` × ``size`` finished jobs, ending in the three months before ``now``."""
    rng = random.Random(seed)
    first, last = month_start(now, 3), month_start(now)
    span = int((last - first).total_seconds()) - 7200
    gamma_end = month_start(now, 2) + timedelta(days=14)
    out: list[list[AccountingRecord]] = []
    job = 0
    for _ in range(batches):
        batch: list[AccountingRecord] = []
        for _ in range(size):
            job += 1
            account = rng.choice(["aiss-b", "aiss-b", "aiss-g", "alpha"])
            end = first + timedelta(seconds=3600 + rng.randrange(span))
            if account == "aiss-g":
                end = min(end, gamma_end - timedelta(hours=1))
            gpus, seconds = rng.choice([1, 2, 4, 8]), rng.randrange(300, 3600)
            batch.append(
                fm.record(job, account, end=end, gpus=gpus, seconds=seconds, cluster="chaos")
            )
        out.append(batch)
    return out


def ingest(sessions: sessionmaker[Session], batch: list[AccountingRecord]) -> None:
    """What the cluster's ingest does with a batch (metering's own code, committed)."""
    with unit_of_work(sessions) as session:
        ingest_usage(session, ManualClock(datetime.now(UTC)), batch)


def settled(sessions: sessionmaker[Session], now: datetime) -> bool:
    """Every record rated and every month with charges closed through its last charge."""
    with sessions() as session:
        top = session.scalar(select(func.max(UsageRecord.id))) or 0
        position = session.scalar(
            select(BillingCursor.position).where(BillingCursor.name == RATING_CURSOR)
        )
        if int(position or 0) < int(top):
            return False
        return periods_due(session, now, timedelta(0)) == []


def invoice_totals(sessions: sessionmaker[Session]) -> dict[tuple[str, str, str], tuple[int, ...]]:
    """Per (party, period, kind): GPU-seconds, list, subsidy, due — summed over documents."""
    with sessions() as session:
        rows = session.execute(
            select(
                BillingDocument.party_name,
                BillingDocument.period,
                BillingDocument.kind,
                func.sum(BillingDocument.gpu_seconds),
                func.sum(BillingDocument.list_minor),
                func.sum(BillingDocument.subsidy_minor),
                func.sum(BillingDocument.due_minor),
            ).group_by(BillingDocument.party_name, BillingDocument.period, BillingDocument.kind)
        ).all()
    return {(r[0], r[1], str(r[2])): tuple(int(v) for v in r[3:]) for r in rows}


def ratings_not_once(sessions: sessionmaker[Session]) -> list[tuple[int, int]]:
    """Usage records whose signed ratings do not sum to exactly one (should be none)."""
    with sessions() as session:
        net = dict(
            session.execute(
                select(UsageCharge.record_id, func.sum(UsageCharge.sign)).group_by(
                    UsageCharge.record_id
                )
            ).all()
        )
        ids = session.scalars(select(UsageRecord.id)).all()
    return [(i, int(net.get(i, 0))) for i in ids if int(net.get(i, 0)) != 1]


def unbalanced_journals(sessions: sessionmaker[Session]) -> list[object]:
    with sessions() as session:
        return list(
            session.execute(
                select(Posting.journal_id)
                .group_by(Posting.journal_id)
                .having((func.sum(Posting.amount_minor) != 0) | (func.count() < 2))
            ).scalars()
        )


@dataclass
class Fleet:
    """Worker processes on one database; each kill is recorded (pid and wall time)."""

    database_url: str
    lease_seconds: float
    log_dir: Path
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    killed: dict[int, datetime] = field(default_factory=dict)
    started: int = 0

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            COMPUTEPORT_DATABASE_URL=self.database_url,
            COMPUTEPORT_SECRET_KEY="chaos-test-secret-key-not-the-published-default-0123",
            COMPUTEPORT_WORKER_LEASE_SECONDS=str(self.lease_seconds),
            COMPUTEPORT_AUTO_CLOSE_GRACE_DAYS="0",
        )
        return env

    def start(self) -> subprocess.Popen[bytes]:
        self.started += 1
        log = (self.log_dir / f"worker-{self.started}.log").open("wb")
        process = subprocess.Popen(
            [str(COMPUTEPORT), "worker", "run", "--no-cluster", "--pace", "1", "--interval", "0.2"],
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        self.processes.append(process)
        return process

    def alive(self) -> list[subprocess.Popen[bytes]]:
        return [p for p in self.processes if p.poll() is None]

    def kill(self, process: subprocess.Popen[bytes]) -> None:
        process.send_signal(signal.SIGKILL)
        self.killed[process.pid] = datetime.now(UTC)
        process.wait(timeout=30)

    def terminate_all(self, timeout: float = 60) -> list[int]:
        """SIGTERM every live worker; their exit codes (0: stopped gracefully)."""
        live = self.alive()
        for process in live:
            process.send_signal(signal.SIGTERM)
        return [process.wait(timeout=timeout) for process in live]

    def kill_all(self) -> None:
        for process in self.alive():
            process.kill()
            process.wait(timeout=30)


def wait_until(condition: Callable[[], bool], timeout: float, every: float = 0.05) -> bool:
    """Poll ``condition`` (real state: the database, processes) until true or ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(every)  # polling a real external system with a deadline, not synchronising
