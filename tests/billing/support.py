"""Builders for billing tests: a scheme, organisations, awards, prices and job records."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from computeport.backends import AccountingRecord, JobState
from computeport.kit.clock import ManualClock
from computeport.kit.slurm_names import organisation_account_name
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


def organisation(
    session: Session, clock: ManualClock, name: str, account: str | None = None
) -> Organisation:
    o = Organisation(
        name=name,
        category=OrganisationCategory.ENTERPRISE,
        slurm_account=account or organisation_account_name(name),
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


class World:
    """The hand-checked month of the golden tests (numbers worked out in test_golden.py).

    - Alpha Labs: award A (account ``aiss-a``, 70 %, cap HK$500.00, 1–20 Oct 2026, payg
      over the cap) and its own account ``alpha`` (pay-as-you-go);
    - Beta University: award B (account ``aiss-b``, 90 %, cap HK$10,000.00, all of 2026).
    Price: the assumed H800 list price, HK$28.00 per GPU-hour; scavenger QOS at half price.
    """

    def __init__(
        self,
        session: Session,
        clock: ManualClock,
        ref_a: str | None = None,
        ref_b: str | None = None,
    ) -> None:
        self.session = session
        self.clock = clock
        self.scheme = scheme(session, clock)
        self.alpha = organisation(session, clock, "Alpha Labs", "alpha")
        self.beta = organisation(session, clock, "Beta University", "beta")
        self.award_a = award(
            session,
            clock,
            self.scheme,
            self.alpha,
            "aiss-a",
            rate="0.7",
            cap_minor=50_000,
            starts=datetime(2026, 10, 1, tzinfo=UTC),
            ends=datetime(2026, 10, 20, tzinfo=UTC),
            reference=ref_a or f"GOLD-{next(_seq):04d}-1",
        )
        self.award_b = award(
            session,
            clock,
            self.scheme,
            self.beta,
            "aiss-b",
            rate="0.9",
            cap_minor=1_000_000,
            starts=datetime(2026, 1, 1, tzinfo=UTC),
            ends=datetime(2027, 1, 1, tzinfo=UTC),
            reference=ref_b or f"GOLD-{next(_seq):04d}-2",
        )
        prices(session, clock)

    def october(self) -> list[AccountingRecord]:
        def d(day: int, hour: int = 12) -> datetime:
            return datetime(2026, 10, day, hour, tzinfo=UTC)

        return [
            job(1, "aiss-a", end=d(2), gpus=8, seconds=3600),
            job(2, "aiss-a", end=d(3), gpus=4, seconds=9000),
            job(3, "aiss-a", end=d(4), gpus=8, seconds=3600),
            job(4, "aiss-a", end=d(5), gpus=1, seconds=3600),
            job(
                5,
                "aiss-a",
                end=d(6),
                gpus=8,
                seconds=1800,
                state=JobState.NODE_FAIL,
                chargeable=False,
            ),
            job(6, "alpha", end=d(7), gpus=2, seconds=2700),
            job(7, "aiss-b", end=d(8), gpus=1, seconds=6),
            job(8, "aiss-b", end=d(9), gpus=1, seconds=9, qos="scavenger"),
            job(9, "aiss-a", end=d(25), gpus=1, seconds=7200),
            job(10, "aiss-b", end=d(28), gpus=8, seconds=36000),
            job(11, "aiss-b", end=datetime(2026, 11, 1, tzinfo=UTC), gpus=1, seconds=3600),
        ]
