"""What the centre's billing desk reads: every document with its payment status, receivable
ageing with totals, the usage quarantine, and ledger balances by kind.

Read-only queries over the billing services' tables; the only write on the desk (an
adjustment) goes through :mod:`computeport.billing.adjustments`.  Staff see every
organisation here; organisations keep their own invoice pages (read through
:mod:`computeport.invoicing.repository`).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, Subquery, case, func, select
from sqlalchemy.orm import Session

from computeport.billing.payments import BUCKETS, AgeingRow, ageing
from computeport.invoicing.repository import of_organisation
from computeport.kit.clock import Clock
from computeport.ledger.queries import AccountBalance, balances, unbalanced_journals
from computeport.models.award import Award
from computeport.models.identity import Organisation
from computeport.models.invoicing import BillingDocument, DocumentKind, Payment
from computeport.models.metering import UsageQuarantine
from computeport.models.scheme import Scheme

STATUSES = ("open", "overdue", "paid", "credit", "statement")
"""A document's payment status as the desk filters it (see :func:`status_column`)."""
PAGE = 200
"""Documents per page of the desk's list."""


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


def _paid_by_document() -> Subquery:
    return (
        select(Payment.document_id, func.sum(Payment.amount_minor).label("paid"))
        .group_by(Payment.document_id)
        .subquery("paid")
    )


def status_column(paid: ColumnElement[int], now: datetime) -> ColumnElement[str]:
    """The status in SQL, so that the filter, the count and the totals see every document:
    ``paid`` once settled; ``credit`` for a credit (negative) document; ``overdue`` past its
    due date; else ``open``.  A subsidy statement is ``statement`` until the funder pays it."""
    doc = BillingDocument
    return case(
        (
            doc.kind == DocumentKind.SUBSIDY_STATEMENT,
            case((paid >= doc.subsidy_minor, "paid"), else_="statement"),
        ),
        (doc.due_minor < 0, "credit"),
        (paid >= doc.due_minor, "paid"),
        (doc.due_at <= now, "overdue"),
        else_="open",
    )


@dataclass(frozen=True)
class DocumentFilters:
    period: str | None = None
    organisation_id: uuid.UUID | None = None
    status: str | None = None
    kind: DocumentKind | None = None


@dataclass(frozen=True)
class DocumentPage:
    """One page of the filtered documents, with the count and totals of all that match."""

    rows: list[DocumentRow]
    page: int
    pages: int
    matching: int
    subsidy_minor: int
    due_minor: int
    paid_minor: int

    @property
    def first(self) -> int:
        """1-based position of the first row shown (0 when none)."""
        return (self.page - 1) * PAGE + 1 if self.rows else 0

    @property
    def last(self) -> int:
        return (self.page - 1) * PAGE + len(self.rows)


def documents(
    session: Session,
    clock: Clock,
    filters: DocumentFilters,
    *,
    page: int = 1,
    statements: bool = True,
) -> DocumentPage:
    """Documents newest first, filtered and paged in the database; ``statements=False`` hides
    subsidy statements.  A page past the end shows the last page."""
    paid_query = _paid_by_document()
    paid = func.coalesce(paid_query.c.paid, 0)
    status = status_column(paid, clock.now())
    conditions: list[ColumnElement[bool]] = []
    if filters.period:
        conditions.append(BillingDocument.period == filters.period)
    if filters.organisation_id is not None:
        conditions.append(of_organisation(filters.organisation_id))
    if filters.kind is not None:
        conditions.append(BillingDocument.kind == filters.kind)
    if not statements:
        conditions.append(BillingDocument.kind != DocumentKind.SUBSIDY_STATEMENT)
    if filters.status:
        conditions.append(status == filters.status)

    def matching(*columns: Any) -> Select[Any]:
        return (
            select(*columns)
            .select_from(BillingDocument)
            .outerjoin(paid_query, paid_query.c.document_id == BillingDocument.id)
            .where(*conditions)
        )

    count, subsidy, due, paid_total = session.execute(
        matching(
            func.count(),
            func.coalesce(func.sum(BillingDocument.subsidy_minor), 0),
            func.coalesce(func.sum(BillingDocument.due_minor), 0),
            func.coalesce(func.sum(paid), 0),
        )
    ).one()
    pages = max(1, -(-int(count) // PAGE))
    page = min(max(page, 1), pages)
    found = session.execute(
        matching(BillingDocument, paid, status)
        .order_by(BillingDocument.period.desc(), BillingDocument.number)
        .limit(PAGE)
        .offset((page - 1) * PAGE)
    ).all()
    return DocumentPage(
        rows=[DocumentRow(doc, int(paid_minor), str(state)) for doc, paid_minor, state in found],
        page=page,
        pages=pages,
        matching=int(count),
        subsidy_minor=int(subsidy),
        due_minor=int(due),
        paid_minor=int(paid_total),
    )


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
    "DocumentPage",
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
    "status_column",
]
