"""The scheme page: the envelope, the applications funnel, awards by category and sector,
subsidy per month, the average subsidy rate and a forecast of when the envelope runs out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from computeport.envelope.service import EnvelopeFigures, envelope_figures, get_scheme
from computeport.kit.errors import NotFound
from computeport.models.application import Application, ApplicationStatus
from computeport.models.award import Award
from computeport.models.identity import Organisation
from computeport.models.scheme import Scheme
from computeport.web.formatting import HONG_KONG
from computeport.web.views.forecast import exhaustion_date
from computeport.web.views.usage import MonthMoney, money_by_month

FUNNEL = (
    ("Submitted", None),
    ("Under review", ApplicationStatus.UNDER_REVIEW),
    ("Recommended", ApplicationStatus.RECOMMENDED),
    ("Approved", ApplicationStatus.APPROVED),
)
"""Each stage counts the applications that reached it (or went further)."""

_REACHED: dict[ApplicationStatus, int] = {
    ApplicationStatus.DRAFT: 0,
    ApplicationStatus.WITHDRAWN: 1,
    ApplicationStatus.SUBMITTED: 1,
    ApplicationStatus.REVISION_REQUESTED: 2,
    ApplicationStatus.UNDER_REVIEW: 2,
    ApplicationStatus.NOT_RECOMMENDED: 2,
    ApplicationStatus.RECOMMENDED: 3,
    ApplicationStatus.REJECTED: 3,
    ApplicationStatus.APPROVED: 4,
}
"""How far along the funnel each status got (1 = submitted … 4 = approved)."""


@dataclass(frozen=True)
class GroupFigures:
    """Awards of one category or sector."""

    name: str
    awards: int
    committed_minor: int


@dataclass(frozen=True)
class SchemeDashboard:
    scheme: Scheme
    figures: EnvelopeFigures
    funnel: list[tuple[str, int]]
    by_status: dict[str, int]
    by_category: list[GroupFigures]
    by_sector: list[GroupFigures]
    months: list[MonthMoney]
    average_rate: Decimal | None
    average_rate_source: str
    forecast: date | None
    active_awards: int

    @property
    def consumed_share(self) -> Decimal:
        return _share(self.figures.consumed_minor, self.figures.total_minor)

    @property
    def committed_share(self) -> Decimal:
        return _share(self.figures.committed_minor, self.figures.total_minor)


def _share(part: int, whole: int) -> Decimal:
    if whole <= 0:
        return Decimal(0)
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def funnel_counts(by_status: dict[str, int]) -> list[tuple[str, int]]:
    """Applications that reached each funnel stage (drafts are not counted)."""
    reached = [0] * (len(FUNNEL) + 1)
    for status, count in by_status.items():
        reached[_REACHED[ApplicationStatus(status)]] += count
    stages: list[tuple[str, int]] = []
    for index, (label, _status) in enumerate(FUNNEL, start=1):
        stages.append((label, sum(reached[index:])))
    return stages


def applications_funnel(
    session: Session,
    scheme: Scheme,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[tuple[str, int]]:
    """The funnel of the applications *submitted* in [since, until) (unbounded: all of them).

    One cohort for every stage, so a page's "received" and "approved" figures, taken from the
    same funnel, cannot contradict each other (an application decided this year but submitted
    last year belongs to last year's funnel, wherever it is shown).
    """
    query = (
        select(Application.status, func.count(Application.id))
        .where(Application.scheme_id == scheme.id)
        .group_by(Application.status)
    )
    if since is not None:
        query = query.where(Application.submitted_at >= since)
    if until is not None:
        query = query.where(Application.submitted_at < until)
    by_status = {str(r[0]): int(r[1]) for r in session.execute(query).all()}
    return funnel_counts(by_status)


def _groups(session: Session, scheme: Scheme, column: object) -> list[GroupFigures]:
    rows = session.execute(
        select(column, func.count(Award.id), func.coalesce(func.sum(Award.committed_minor), 0))  # type: ignore[call-overload]
        .join(Organisation, Organisation.id == Award.organisation_id)
        .where(Award.scheme_id == scheme.id)
        .group_by(column)
        .order_by(func.sum(Award.committed_minor).desc())
    ).all()
    return [GroupFigures(str(r[0]), int(r[1]), int(r[2])) for r in rows]


def scheme_dashboard(session: Session, now: datetime) -> SchemeDashboard:
    """Everything the scheme page shows, for the deployment's (only) scheme."""
    try:
        scheme = get_scheme(session)
    except NotFound:
        raise NotFound("no scheme has been set up yet") from None
    figures = envelope_figures(session, scheme)
    by_status = {
        str(r[0]): int(r[1])
        for r in session.execute(
            select(Application.status, func.count(Application.id))
            .where(Application.scheme_id == scheme.id)
            .group_by(Application.status)
        ).all()
    }
    months = money_by_month(session, scheme_id=scheme.id)
    consumed_by_months = sum(m.subsidy_minor for m in months)
    consumed = max(figures.consumed_minor, consumed_by_months)
    list_total = sum(m.list_minor for m in months)
    if list_total > 0:
        average_rate: Decimal | None = _share(consumed_by_months, list_total)
        source = "charges"
    else:
        caps = session.execute(
            select(Award.subsidy_rate, Award.cap_minor).where(Award.scheme_id == scheme.id)
        ).all()
        weight = sum(int(c[1]) for c in caps)
        average_rate = (
            (sum((Decimal(c[0]) * int(c[1]) for c in caps), Decimal(0)) / weight).quantize(
                Decimal("0.0001")
            )
            if weight
            else None
        )
        source = "awards"
    active = session.scalar(
        select(func.count(Award.id)).where(Award.scheme_id == scheme.id, Award.status == "active")
    )
    today = now.astimezone(HONG_KONG).date()
    return SchemeDashboard(
        scheme=scheme,
        figures=figures,
        funnel=funnel_counts(by_status),
        by_status=by_status,
        by_category=_groups(session, scheme, Organisation.category),
        by_sector=_groups(session, scheme, Organisation.sector),
        months=months,
        average_rate=average_rate,
        average_rate_source=source,
        forecast=exhaustion_date(
            figures.total_minor, consumed, [m.subsidy_minor for m in months], today
        ),
        active_awards=int(active or 0),
    )
