"""Builders for billing tests: a scheme, organisations, awards, prices and job records."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from computeport.backends.protocol import AccountingRecord, JobState
from computeport.kit.clock import ManualClock
from computeport.models.application import Application, ApplicationStatus
from computeport.models.award import Award, OverCapPolicy
from computeport.models.identity import Organisation, OrganisationCategory
from computeport.models.scheme import Scheme
from computeport.pricing.service import seed_assumed_prices, set_price

T0 = datetime(2026, 10, 1, tzinfo=UTC)
_seq = itertools.count(1)


def scheme(session: Session, clock: ManualClock) -> Scheme:
    s = Scheme(
        code=f"T{next(_seq)}",
        name="Test scheme",
        envelope_minor=300_000_000_000,
        period_start=datetime(2024, 10, 1, tzinfo=UTC),
        period_end=datetime(2027, 10, 1, tzinfo=UTC),
        default_rate=Decimal("0.7"),
        max_rate=Decimal("0.9"),
        eligible_categories=["university", "enterprise"],
        created_at=clock.now(),
    )
    session.add(s)
    session.flush()
    return s


def organisation(session: Session, clock: ManualClock, name: str, account: str | None = None) -> Organisation:
    o = Organisation(
        name=name,
        category=OrganisationCategory.ENTERPRISE,
        slurm_account=account,
        created_at=clock.now(),
    )
    session.add(o)
    session.flush()
    return o


def award(
    session: Session,
    clock: ManualClock,
    sch: Scheme,
    org: Organisation,
    account: str,
    *,
    rate: str = "0.7",
    cap_minor: int = 100_000_000,
    starts: datetime = datetime(2026, 1, 1, tzinfo=UTC),
    ends: datetime = datetime(2027, 1, 1, tzinfo=UTC),
    policy: OverCapPolicy = OverCapPolicy.PAY_AS_YOU_GO,
    reference: str | None = None,
) -> Award:
    n = next(_seq)
    ref = reference or f"AISS-2026-{n:04d}"
    app = Application(
        reference=ref,
        scheme_id=sch.id,
        organisation_id=org.id,
        status=ApplicationStatus.APPROVED,
        title="t",
        sector="general",
        accelerator_type="h800",
        gpus=8,
        gpu_hours=10_000,
        duration_months=12,
        created_at=clock.now(),
    )
    session.add(app)
    session.flush()
    a = Award(
        reference=f"{ref}-A",
        application_id=app.id,
        scheme_id=sch.id,
        organisation_id=org.id,
        starts_at=starts,
        ends_at=ends,
        subsidy_rate=Decimal(rate),
        cap_minor=cap_minor,
        committed_minor=cap_minor,
        over_cap_policy=policy,
        slurm_account=account,
        created_at=clock.now(),
    )
    session.add(a)
    session.flush()
    return a


def prices(session: Session, clock: ManualClock) -> None:
    seed_assumed_prices(session, clock)


def job(
    job_id: int | str,
    account: str,
    *,
    end: datetime,
    gpus: int = 8,
    seconds: int = 3600,
    cluster: str = "aisc",
    state: JobState = JobState.COMPLETED,
    chargeable: bool = True,
    gpu_type: str | None = "h800",
    qos: str = "subsidised",
    submit: datetime | None = None,
) -> AccountingRecord:
    start = end - timedelta(seconds=seconds)
    return AccountingRecord(
        cluster=cluster,
        job_id=str(job_id),
        submit_time=submit or start - timedelta(minutes=5),
        account=account,
        user="alice",
        partition="gpu",
        gpus=gpus,
        gpu_type=gpu_type,
        start_time=start,
        end_time=end,
        state=state,
        exit_code=0,
        elapsed_seconds=seconds,
        gpu_seconds=gpus * seconds,
        chargeable=chargeable,
        qos=qos,
    )


__all__ = ["T0", "award", "job", "organisation", "prices", "scheme", "set_price"]
