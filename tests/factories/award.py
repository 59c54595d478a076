"""Awards, two ways.

* :func:`award` inserts an approved application and its award as rows, with a Slurm account and
  a cap: billing, metering and worker tests get an award in one line without a committee.
* :func:`approved_award` (with :func:`scheme`, :func:`application` and :func:`approval`) goes
  through the committee's decision (``award.decide``), as the award-side tests need.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TypedDict, Unpack

from sqlalchemy.orm import Session

from computeport.kit.clock import Clock, ManualClock
from computeport.models.application import Application, ApplicationStatus
from computeport.models.award import Award, OverCapPolicy
from computeport.models.identity import Organisation, OrganisationCategory, Role, User
from computeport.models.scheme import Scheme
from tests.factories import identity as identity_factory
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


# -- through the committee's decision --------------------------------------------------------------

T0 = datetime(2026, 1, 1, tzinfo=UTC)
START = datetime(2026, 11, 1, tzinfo=UTC)


def scheme(
    session: Session,
    *,
    envelope_minor: int = 3_000_000_000_00,
    default_rate: str = "0.7",
    max_rate: str = "0.9",
) -> Scheme:
    row = Scheme(
        code=unique("S")[:16],
        name="Test scheme",
        envelope_minor=envelope_minor,
        currency="HKD",
        period_start=datetime(2024, 10, 1, tzinfo=UTC),
        period_end=datetime(2027, 10, 1, tzinfo=UTC),
        default_rate=Decimal(default_rate),
        max_rate=Decimal(max_rate),
        eligible_categories=[c.value for c in OrganisationCategory],
        created_at=T0,
    )
    session.add(row)
    session.flush()
    return row


def application(
    session: Session,
    the_scheme: Scheme,
    organisation: Organisation | None = None,
    *,
    status: ApplicationStatus = ApplicationStatus.RECOMMENDED,
    created_by: User | None = None,
) -> Application:
    org = organisation or identity_factory.organisation(session)
    n = unique("")
    row = Application(
        reference=f"{the_scheme.code}-2026-{int(n):04d}",
        scheme_id=the_scheme.id,
        organisation_id=org.id,
        created_by_id=created_by.id if created_by else None,
        status=status,
        title=f"Project {n}",
        abstract="Training a model.",
        sector="ai",
        accelerator_type="h800",
        gpus=64,
        gpu_hours=100_000,
        duration_months=12,
        created_at=T0,
    )
    session.add(row)
    session.flush()
    return row


class DecisionExtras(TypedDict, total=False):
    """``DecisionIn`` fields a test may set on top of an approval, as raw request input.

    The model validates them as it validates a request body, so a test may pass what the API
    would refuse (``subsidy_rate`` as a float, say) to see the refusal.
    """

    reason: str
    subsidy_rate: Decimal | str | float
    rate_reason: str
    terms: str
    over_cap_policy: str
    charge_reservations: bool
    gpu_cap: int
    tranche_shares_bp: list[int]
    report_every_months: int | None


class ApprovalTerms(DecisionExtras, total=False):
    """Everything :func:`approval` takes by keyword: its own shorthands and the extras."""

    gpu_hours: int
    starts_at: datetime
    months: int


def approval(
    cap_minor: int = 10_000_000_00,
    *,
    gpu_hours: int = 100_000,
    starts_at: datetime = START,
    months: int = 12,
    **extra: Unpack[DecisionExtras],
) -> dict[str, object]:
    """Keyword arguments of an approving ``DecisionIn``."""
    body: dict[str, object] = {
        "outcome": "approve",
        "reason": "meets the criteria",
        "lines": [{"accelerator_type": "h800", "gpu_hours": gpu_hours}],
        "starts_at": starts_at,
        "ends_at": starts_at + timedelta(days=30 * months),
        "cap_minor": cap_minor,
    }
    body.update(extra)
    return body


def approved_award(
    session: Session,
    clock: Clock,
    the_scheme: Scheme,
    cap_minor: int = 10_000_000_00,
    organisation: Organisation | None = None,
    **terms: Unpack[ApprovalTerms],
) -> Award:
    from computeport.award.decide import decide
    from computeport.award.schemas import DecisionIn

    app = application(session, the_scheme, organisation)
    award = decide(
        session, app.id, DecisionIn.model_validate(approval(cap_minor, **terms)), None, clock
    )
    assert award is not None
    return award


def org_admin(session: Session, organisation: Organisation) -> User:
    return identity_factory.user(session, roles=(Role.ORG_ADMIN,), organisation=organisation)
