"""Schemes with the AISS rubric, and calls."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from computeport.kit.clock import ManualClock
from computeport.models.scheme import Call, Scheme
from computeport.scheme import service
from computeport.scheme.rubric import CriterionSpec
from tests.factories.sequence import unique

T0 = datetime(2024, 10, 1, tzinfo=UTC)

AISS_RUBRIC = (
    CriterionSpec("alignment", "Alignment with I&T and AI development needs", Decimal("0.25")),
    CriterionSpec(
        "reasonableness", "Reasonableness of the computing power requirement", Decimal("0.20")
    ),
    CriterionSpec(
        "capability", "Technical and financial capability", Decimal("0.20"), is_assumption=True
    ),
    CriterionSpec("team", "Team", Decimal("0.15"), is_assumption=True),
    CriterionSpec("impact", "Impact", Decimal("0.20"), is_assumption=True),
)


def scheme(
    session: Session,
    *,
    code: str | None = None,
    envelope_minor: int = 300_000_000_000,
    eligible_categories: tuple[str, ...] = ("university", "rd_centre", "enterprise", "government"),
    period_start: datetime = T0,
    period_end: datetime = T0 + timedelta(days=3 * 365),
    criteria: tuple[CriterionSpec, ...] = AISS_RUBRIC,
) -> Scheme:
    return service.create_scheme(
        session,
        code=code or unique("S").upper().replace(" ", ""),
        name="AI Subsidy Scheme",
        envelope_minor=envelope_minor,
        period_start=period_start,
        period_end=period_end,
        criteria=criteria,
        eligible_categories=eligible_categories,
        at=T0,
    )


def call(
    session: Session,
    of: Scheme,
    *,
    opens_at: datetime = T0,
    closes_at: datetime | None = None,
    name: str | None = None,
) -> Call:
    """A call; rolling (never closing) by default."""
    return service.create_call(
        session, of.id, name=name or unique("Round "), opens_at=opens_at, closes_at=closes_at, at=T0
    )


def scheme_row(session: Session, clock: ManualClock) -> Scheme:
    """A scheme inserted as a row, without rubric or calls: enough to hang awards and charges on."""
    s = Scheme(
        code=unique("T"),
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
