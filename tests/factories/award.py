"""Awards as rows: an approved application and its award, with a Slurm account and a cap.

Built directly (not through ``award.decide``) so billing, metering and worker tests get an award
in one line without a committee; ``tests/award`` goes through the use cases instead.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from computeport.kit.clock import ManualClock
from computeport.models.application import Application, ApplicationStatus
from computeport.models.award import Award, OverCapPolicy
from computeport.models.identity import Organisation
from computeport.models.scheme import Scheme
from tests.factories.sequence import unique


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
    """An award of ``sch`` to ``org`` on Slurm ``account`` (its application approved)."""
    ref = reference or f"AISS-2026-{unique(''):0>4}"
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
