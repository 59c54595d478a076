"""What the centre's billing desk reads: every document with its payment status, receivable
ageing with totals, the usage quarantine, and ledger balances by kind.

Read-only queries over the billing services' tables; the only write on the desk (an
adjustment) goes through :mod:`computeport.billing.adjustments`.  Staff see every
organisation here; organisations keep their own invoice pages (``views.invoices``).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from computeport.billing.payments import BUCKETS, AgeingRow, ageing, paid_minor
from computeport.kit.clock import Clock
from computeport.ledger.queries import AccountBalance, balances, unbalanced_journals
from computeport.models.award import Award
from computeport.models.identity import Organisation
from computeport.models.invoicing import BillingDocument, DocumentKind
from computeport.models.metering import UsageQuarantine
from computeport.models.scheme import Scheme

STATUSES = ("open", "overdue", "paid", "credit", "statement")
"""A document's payment status as the desk filters it (see :func:`status_of`)."""
PAGE = 500


@dataclass(frozen=True)
class DocumentRow:
    document: BillingDocument
    paid_minor: int
    status: str

    @property
    def outstanding_minor(self) -> int:
        if self.document.kind is DocumentKind.SUBSIDY_STATEMENT:
            return self.document.subsidy_minor - self.paid_minor
        return self.document.due_minor - self.paid_minor


def status_of(doc: BillingDocument, paid: int, clock: Clock) -> str:
    """``paid`` once settled; ``credit`` for a credit (negative) document; ``overdue`` past its
    due date; else ``open``.  A subsidy statement is ``statement`` until the funder pays it."""
    if doc.kind is DocumentKind.SUBSIDY_STATEMENT:
        return "paid" if paid >= doc.subsidy_minor else "statement"
    if doc.due_minor < 0:
        return "credit"
    if paid >= doc.due_minor:
        return "paid"
    return "overdue" if clock.now() >= doc.due_at else "open"


@dataclass(frozen=True)
class DocumentFilters:
    period: str | None = None
    organisation_id: uuid.UUID | None = None
    status: str | None = None
    kind: DocumentKind | None = None


def documents(
    session: Session, clock: Clock, filters: DocumentFilters, *, statements: bool = True
) -> list[DocumentRow]:
    """Documents newest first, filtered; ``statements=False`` hides subsidy statements."""
    stmt = select(BillingDocument).order_by(BillingDocument.period.desc(), BillingDocument.number)
    if filters.period:
        stmt = stmt.where(BillingDocument.period == filters.period)
    if filters.organisation_id is not None:
        stmt = stmt.where(BillingDocument.organisation_id == filters.organisation_id)
    if filters.kind is not None:
        stmt = stmt.where(BillingDocument.kind == filters.kind)
    if not statements:
        stmt = stmt.where(BillingDocument.kind != DocumentKind.SUBSIDY_STATEMENT)
    docs = list(session.scalars(stmt))
    paid = paid_minor(session, [d.id for d in docs])
    rows = [DocumentRow(d, paid.get(d.id, 0), status_of(d, paid.get(d.id, 0), clock)) for d in docs]
    if filters.status:
        rows = [r for r in rows if r.status == filters.status]
    return rows[:PAGE]


def periods(session: Session) -> list[str]:
    """Months with documents, newest first (the period filter's options)."""
    return list(
        session.scalars(
            select(BillingDocument.period).distinct().order_by(BillingDocument.period.desc())
        )
    )


def organisations(session: Session) -> list[tuple[uuid.UUID, str]]:
    return [
        (o.id, o.name) for o in session.scalars(select(Organisation).order_by(Organisation.name))
    ]


def awards(session: Session) -> list[tuple[uuid.UUID, str, str]]:
    """``(id, reference, organisation name)`` of every award (the adjustment form's choices)."""
    rows = session.execute(
        select(Award.id, Award.reference, Organisation.name)
        .join(Organisation, Organisation.id == Award.organisation_id)
        .order_by(Award.reference)
    ).all()
    return [(r[0], r[1], r[2]) for r in rows]


@dataclass
class AgeingReport:
    rows: list[AgeingRow]
    totals: dict[str, int] = field(default_factory=dict)
    credits_minor: int = 0
    total_minor: int = 0


def ageing_report(session: Session, clock: Clock) -> AgeingReport:
    """Receivable ageing per organisation (current, 1-30, 31-60, 61-90, 90+) with totals."""
    rows = ageing(session, clock)
    totals = {b: sum(r.buckets[b] for r in rows) for b in BUCKETS}
    credits = sum(r.credits_minor for r in rows)
    return AgeingReport(rows, totals, credits, sum(totals.values()) + credits)


@dataclass(frozen=True)
class QuarantineGroup:
    reason: str
    count: int


def quarantine(
    session: Session, limit: int = PAGE
) -> tuple[list[QuarantineGroup], list[UsageQuarantine]]:
    """Held-back records: counts per reason, and the latest ``limit`` rows."""
    groups = [
        QuarantineGroup(str(reason), int(count))
        for reason, count in session.execute(
            select(UsageQuarantine.reason, func.count())
            .group_by(UsageQuarantine.reason)
            .order_by(UsageQuarantine.reason)
        ).all()
    ]
    rows = list(
        session.scalars(select(UsageQuarantine).order_by(UsageQuarantine.id.desc()).limit(limit))
    )
    return groups, rows


@dataclass(frozen=True)
class LedgerSummary:
    by_kind: dict[str, list[AccountBalance]]
    totals: dict[str, int]
    unbalanced: int
    """Journals that break the invariant (0 on a sound ledger)."""

    @property
    def grand_total(self) -> int:
        """Sum of every balance: 0 when every journal balances."""
        return sum(self.totals.values())


def owner_names(session: Session) -> dict[str, str]:
    """Account owner id (as in an account code) → organisation, award reference or scheme."""
    names = {str(o): n for o, n in organisations(session)}
    names.update({str(a): ref for a, ref, _org in awards(session)})
    names.update({str(i): name for i, name in session.execute(select(Scheme.id, Scheme.name))})
    return names


def owner_of(code: str, names: dict[str, str]) -> str:
    """``receivable:<org id>`` → the organisation's name; centre accounts → ``""``."""
    _, _, owner = code.partition(":")
    return names.get(owner, "")


def ledger_summary(session: Session) -> LedgerSummary:
    grouped: dict[str, list[AccountBalance]] = defaultdict(list)
    for b in balances(session):
        grouped[b.kind.value].append(b)
    totals = {kind: sum(b.balance_minor for b in rows) for kind, rows in grouped.items()}
    return LedgerSummary(dict(grouped), totals, len(unbalanced_journals(session)))


__all__ = [
    "STATUSES",
    "AgeingReport",
    "DocumentFilters",
    "DocumentRow",
    "LedgerSummary",
    "ageing_report",
    "awards",
    "documents",
    "ledger_summary",
    "organisations",
    "owner_names",
    "owner_of",
    "periods",
    "quarantine",
    "status_of",
]
