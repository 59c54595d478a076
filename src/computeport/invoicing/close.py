"""Closing a month: one document per organisation (and per award for the funder), numbered.

What a close does, in one transaction under the billing lock (so no rating interleaves):

- it takes a snapshot ``S`` = the highest ``usage_charge.id`` now;
- the charges of the period not covered by an earlier close of the same period (ids in
  ``(S_prev, S]``) are summed per organisation → award → accelerator type;
- the first close of a period issues an INVOICE per organisation with usage (lines: GPU-hours,
  list amount, subsidy, amount due, credited) and a SUBSIDY_STATEMENT per award;
- a later close of the same period (usage or corrections that arrived after it) issues
  adjustment documents with the next sequence: a CREDIT_NOTE where the organisation owes
  less, a supplementary INVOICE where it owes more.  Issued documents are never changed;
- operators' manual adjustments billed in the period (:mod:`computeport.billing.adjustments`
  decides which period bills one) become an "Adjustments" line: on the organisation's invoice
  for a receivable adjustment, on the award's statement for a subsidy one; each is linked to
  the document that billed it, so it is billed once.

Re-running a close with nothing new issues nothing, and rendering a document twice gives the
same bytes: documents are rendered only from their stored rows, and the only date in them is
the issue date (from the clock, or given).
"""

from __future__ import annotations

import hashlib
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from computeport.billing import adjustments
from computeport.billing.notices import notify_invoices_issued
from computeport.invoicing.token_lines import TokenWindow, token_lines, token_window
from computeport.kit.clock import Clock, ensure_aware
from computeport.kit.errors import Conflict
from computeport.kit.ids import uuid7
from computeport.kit.periods import parse_period
from computeport.metering.cursor import lock_billing
from computeport.metering.reservations import RESERVATION_JOB_PREFIX
from computeport.models.adjustment import Adjustment, AdjustmentTarget
from computeport.models.award import Award
from computeport.models.identity import Organisation
from computeport.models.invoicing import BillingDocument, DocumentKind, DocumentLine
from computeport.models.metering import UsageCharge, UsageRecord
from computeport.models.pricing import PriceVersion
from computeport.pricing.book import cluster_sites

PAYMENT_TERMS_DAYS = 30
PAYG_LABEL = "pay-as-you-go"
RESERVED = case((UsageCharge.job_id.like(RESERVATION_JOB_PREFIX + "%"), 1), else_=0)
"""Reserved capacity's top-up charges get their own line beside the award's jobs."""
PREFIX = {
    DocumentKind.INVOICE: "INV",
    DocumentKind.CREDIT_NOTE: "CN",
    DocumentKind.SUBSIDY_STATEMENT: "SUB",
}


class PeriodNotOver(Conflict):
    """A month can be closed only once it has ended."""


@dataclass
class CloseReport:
    """What a close issued."""

    period: str
    snapshot: int
    documents: list[str] = field(default_factory=list)
    unposted_records: int = 0
    """Records ingested but not yet rated: close after ``billing post`` to include them."""


@dataclass
class _Line:
    award_id: uuid.UUID | None
    accelerator_type: str
    jobs: int = 0
    gpu_seconds: int = 0
    list_minor: int = 0
    subsidy_minor: int = 0
    due_minor: int = 0
    credited_minor: int = 0
    label: str | None = None
    """Set on an adjustments line (its text instead of the award's reference)."""
    reserved: bool = False
    """Reserved capacity an award paid for beyond its jobs (usage records ``resv:…``)."""
    adjustment_ids: list[uuid.UUID] = field(default_factory=list)
    price_version_id: uuid.UUID | None = None
    """The rate card's version that rated these charges (one line per version)."""
    unit_price: Decimal | None = None
    price_from: datetime | None = None
    site: str | None = None
    """The inventory's site of the line's clusters (a line per site and type), or None."""

    def add(self, other: _Line) -> None:
        """Fold ``other``'s sums in (the same party, type, version and site from two clusters)."""
        self.jobs += other.jobs
        self.gpu_seconds += other.gpu_seconds
        self.list_minor += other.list_minor
        self.subsidy_minor += other.subsidy_minor
        self.due_minor += other.due_minor
        self.credited_minor += other.credited_minor

    def empty(self) -> bool:
        return not (
            self.gpu_seconds
            or self.list_minor
            or self.subsidy_minor
            or self.due_minor
            or self.credited_minor
            or self.jobs
        )


@dataclass(frozen=True, slots=True)
class _Window:
    """The charges a close covers: ids in ``(previous, snapshot]`` of the period."""

    previous: int
    """``charges_through`` of the period's latest close (0: never closed)."""
    snapshot: int
    """The highest ``usage_charge.id`` when this close took the lock."""
    tokens: TokenWindow = field(default_factory=lambda: TokenWindow(0, 0))
    """The same over ``token_charge`` (the inference gateway's ratings)."""


@dataclass(slots=True)
class _Lines:
    """The lines of each document to issue: per organisation, and per award for the funder."""

    by_org: dict[uuid.UUID, list[_Line]] = field(default_factory=lambda: defaultdict(list))
    by_award: dict[uuid.UUID, list[_Line]] = field(default_factory=lambda: defaultdict(list))


@dataclass(slots=True)
class _Close:
    """What every document of one close shares."""

    session: Session
    clock: Clock
    period: str
    window: _Window
    issued_at: datetime
    render_hash: bool
    awards: dict[uuid.UUID, Award]
    orgs: dict[uuid.UUID, Organisation]

    def label(self, line: _Line) -> str:
        """The line's first column: its award's reference, pay-as-you-go, or its own text."""
        if line.label is not None:
            return line.label
        award = self.awards.get(line.award_id) if line.award_id else None
        ref = award.reference if award is not None else PAYG_LABEL
        return f"{ref} (reserved)"[:40] if line.reserved else ref

    def ordered(self, lines: list[_Line]) -> list[_Line]:
        """Lines in print order: usage by label and type, then the adjustments."""
        return sorted(
            lines,
            key=lambda ln: (
                ln.label is not None,
                self.label(ln),
                ln.site or "",
                ln.accelerator_type,
                ln.price_from.timestamp() if ln.price_from is not None else 0.0,
            ),
        )


def _number(session: Session, kind: DocumentKind, period: str) -> str:
    prefix = f"{PREFIX[kind]}-{period}-"
    count = session.scalar(
        select(func.count())
        .select_from(BillingDocument)
        .where(BillingDocument.number.like(f"{prefix}%"))
    )
    return f"{prefix}{int(count or 0) + 1:04d}"


def close_period(
    session: Session,
    clock: Clock,
    period: str,
    *,
    issue_date: datetime | None = None,
    render_hash: bool = True,
) -> CloseReport:
    """Close ``period`` (``YYYY-MM``): issue what the charges since its last close require."""
    # 1. The month must be over; the billing lock keeps ratings from interleaving.
    start, end = parse_period(period)
    now = clock.now()
    if now < end:
        raise PeriodNotOver(
            f"period {period} ends {end.isoformat()}; it cannot be closed before then",
            field="period",
        )
    issued_at = ensure_aware(issue_date) if issue_date is not None else now
    position = lock_billing(session)
    session.flush()
    # 2. Snapshot the charges this close covers; count the records still unrated.
    window = _window(session, period)
    report = CloseReport(period=period, snapshot=window.snapshot)
    report.unposted_records = _unposted_records(session, position, start, end)
    # 3. Nothing new since the last close (no charges, no unbilled adjustment): issue nothing.
    pending = adjustments.unbilled(session, period)
    if window.snapshot <= window.previous and not window.tokens.has_new and not pending:
        return report
    # 4. Sum the window's charges per party and type, then add the adjustment lines.
    lines = _sum_charges(session, period, window)
    _token_lines(session, period, window, lines)
    _adjustment_lines(pending, period, lines.by_org, lines.by_award)
    # 5. Load the parties the documents name.
    close = _open_close(session, clock, period, window, issued_at, render_hash, lines)
    # 6. An invoice (or credit note) per organisation; the invoices' notices.
    _issue_organisation_documents(close, lines.by_org, report)
    # 7. A subsidy statement per award, for the funder.
    _issue_award_statements(close, lines.by_award, report)
    return report


def _window(session: Session, period: str) -> _Window:
    """The period's charges not covered by its earlier closes."""
    previous = session.scalar(
        select(func.coalesce(func.max(BillingDocument.charges_through), 0)).where(
            BillingDocument.period == period
        )
    )
    snapshot = session.scalar(select(func.coalesce(func.max(UsageCharge.id), 0)))
    return _Window(
        previous=int(previous or 0),
        snapshot=int(snapshot or 0),
        tokens=token_window(session, period),
    )


def _token_lines(session: Session, period: str, window: _Window, lines: _Lines) -> None:
    """The gateway's token charges: lines of their own (type ``tokens:<model>``, count =
    requests), per award and price version, beside the GPU lines."""
    for t in token_lines(session, period, window.tokens):
        line = _Line(
            t.award_id, t.line_type, t.requests, 0, t.list_minor, t.subsidy_minor, t.copay_minor, 0
        )
        line.price_version_id = t.price_version_id
        if line.empty():
            continue
        lines.by_org[t.organisation_id].append(line)
        if t.award_id is not None:
            lines.by_award[t.award_id].append(line)


def _unposted_records(session: Session, position: int, start: datetime, end: datetime) -> int:
    """Records of the period above the billing cursor: ingested, not yet rated."""
    count = session.scalar(
        select(func.count())
        .select_from(UsageRecord)
        .where(UsageRecord.id > position, UsageRecord.end_time < end, UsageRecord.end_time >= start)
    )
    return int(count or 0)


def _sum_charges(session: Session, period: str, window: _Window) -> _Lines:
    """The window's charges summed per organisation → award → site → type → price version
    (reserved apart): a price change within the month gives a line per version, and usage at
    two sites a line per site even when one price (the centre's) rated both.  Clusters the
    inventory does not place have no site: their lines merge as before sites existed."""
    sites = cluster_sites(session)
    rows = session.execute(
        select(
            UsageCharge.organisation_id,
            UsageCharge.award_id,
            UsageCharge.accelerator_type,
            RESERVED,
            UsageCharge.price_version_id,
            UsageCharge.cluster,
            func.sum(UsageCharge.sign),
            func.sum(UsageCharge.gpu_seconds),
            func.sum(UsageCharge.list_minor),
            func.sum(UsageCharge.subsidy_minor),
            func.sum(UsageCharge.copay_minor),
            func.sum(UsageCharge.credited_minor),
        )
        .where(
            UsageCharge.period == period,
            UsageCharge.id > window.previous,
            UsageCharge.id <= window.snapshot,
        )
        .group_by(
            UsageCharge.organisation_id,
            UsageCharge.award_id,
            UsageCharge.accelerator_type,
            RESERVED,
            UsageCharge.price_version_id,
            UsageCharge.cluster,
        )
        .order_by(UsageCharge.cluster)
    ).all()
    versions = _versions(session, {r[4] for r in rows if r[4] is not None})
    merged: dict[tuple[object, ...], tuple[uuid.UUID, _Line]] = {}
    for org_id, award_id, accel, resv, version_id, cluster, jobs, gs, lst, sub, cop, cred in rows:
        line = _Line(award_id, accel, int(jobs), int(gs), int(lst), int(sub), int(cop), int(cred))
        line.reserved = bool(resv)
        line.site = sites.get(cluster) if cluster is not None else None
        if version_id is not None:
            line.price_version_id = version_id
            line.unit_price, line.price_from = versions.get(version_id, (None, None))
        key = (org_id, award_id, accel, bool(resv), version_id, line.site)
        if key in merged:
            merged[key][1].add(line)
        else:
            merged[key] = (org_id, line)
    out = _Lines()
    for org_id, line in merged.values():
        if line.empty():
            continue
        out.by_org[org_id].append(line)
        if line.award_id is not None:
            out.by_award[line.award_id].append(line)
    return out


def _versions(session: Session, ids: set[uuid.UUID]) -> dict[uuid.UUID, tuple[Decimal, datetime]]:
    """Price and start of each rate-card version the charges name."""
    if not ids:
        return {}
    rows = session.execute(
        select(PriceVersion.id, PriceVersion.unit_price, PriceVersion.valid_from).where(
            PriceVersion.id.in_(ids)
        )
    )
    return {r[0]: (r[1], r[2]) for r in rows}


def _open_close(
    session: Session,
    clock: Clock,
    period: str,
    window: _Window,
    issued_at: datetime,
    render_hash: bool,
    lines: _Lines,
) -> _Close:
    """Load the awards and organisations the close's documents name."""
    awards = {
        a.id: a for a in session.scalars(select(Award).where(Award.id.in_(list(lines.by_award))))
    }
    party_ids = set(lines.by_org) | {a.organisation_id for a in awards.values()}
    orgs = {
        o.id: o
        for o in session.scalars(select(Organisation).where(Organisation.id.in_(list(party_ids))))
    }
    return _Close(session, clock, period, window, issued_at, render_hash, awards, orgs)


def _issue_organisation_documents(
    close: _Close, by_org: dict[uuid.UUID, list[_Line]], report: CloseReport
) -> None:
    """The first close of a period issues invoices; a later one a credit note where the
    organisation owes less, a supplementary invoice where it owes more."""
    session = close.session
    first = close.window.previous == 0 or not session.scalar(
        select(func.count())
        .select_from(BillingDocument)
        .where(BillingDocument.period == close.period)
    )
    issued: list[BillingDocument] = []
    for org_id in sorted(by_org, key=lambda o: (close.orgs[o].name, str(o))):
        lines = close.ordered(by_org[org_id])
        due = sum(ln.due_minor for ln in lines)
        kind = DocumentKind.CREDIT_NOTE if (not first and due < 0) else DocumentKind.INVOICE
        doc = _issue(close, kind, str(org_id), org_id, None, close.orgs[org_id].name, lines)
        report.documents.append(doc.number)
        adjustments.mark_billed(session, [i for ln in lines for i in ln.adjustment_ids], doc.id)
        issued.append(doc)
    notify_invoices_issued(
        session, close.clock, [d for d in issued if d.kind is DocumentKind.INVOICE]
    )


def _issue_award_statements(
    close: _Close, by_award: dict[uuid.UUID, list[_Line]], report: CloseReport
) -> None:
    """The funder's statements: each award's subsidy, in order of reference."""
    for award_id in sorted(by_award, key=lambda a: close.awards[a].reference):
        award = close.awards[award_id]
        org = close.orgs[award.organisation_id]
        lines = close.ordered(by_award[award_id])
        doc = _issue(
            close,
            DocumentKind.SUBSIDY_STATEMENT,
            str(award_id),
            award.organisation_id,
            award_id,
            f"{award.reference} — {org.name}",
            lines,
        )
        report.documents.append(doc.number)
        adjustments.mark_billed(
            close.session, [i for ln in lines for i in ln.adjustment_ids], doc.id
        )


def _adjustment_lines(
    pending: list[Adjustment],
    period: str,
    by_org: dict[uuid.UUID, list[_Line]],
    by_award: dict[uuid.UUID, list[_Line]],
) -> None:
    """One "Adjustments" line per party and corrected month: receivable adjustments on the
    organisation's invoice (list = due = the amount), subsidy ones on the award's statement
    (list = subsidy = the amount) — the same split the ledger journals made."""
    grouped: dict[tuple[uuid.UUID, bool, str], _Line] = {}
    for adj in pending:
        subsidy = adj.target is AdjustmentTarget.SUBSIDY
        party = adj.award_id if subsidy else adj.organisation_id
        assert party is not None
        line = grouped.get((party, subsidy, adj.period))
        if line is None:
            line = _Line(
                adj.award_id if subsidy else None,
                "",
                label=adjustments.line_label(adj.period, period),
            )
            grouped[(party, subsidy, adj.period)] = line
            (by_award if subsidy else by_org)[party].append(line)
        line.list_minor += adj.amount_minor
        if subsidy:
            line.subsidy_minor += adj.amount_minor
        else:
            line.due_minor += adj.amount_minor
        line.adjustment_ids.append(adj.id)


def _issue(
    close: _Close,
    kind: DocumentKind,
    party_key: str,
    organisation_id: uuid.UUID,
    award_id: uuid.UUID | None,
    party_name: str,
    lines: list[_Line],
) -> BillingDocument:
    """Number, store and (optionally) hash one document of ``lines``."""
    from computeport.invoicing.render import document_csv

    session, period, issued_at = close.session, close.period, close.issued_at
    sequence = int(
        session.scalar(
            select(func.count())
            .select_from(BillingDocument)
            .where(BillingDocument.party_key == party_key, BillingDocument.period == period)
        )
        or 0
    )
    doc = BillingDocument(
        id=uuid7(),
        number=_number(session, kind, period),
        kind=kind,
        period=period,
        sequence=sequence,
        party_key=party_key,
        organisation_id=organisation_id,
        award_id=award_id,
        party_name=party_name,
        issued_at=issued_at,
        due_at=issued_at + timedelta(days=PAYMENT_TERMS_DAYS),
        currency="HKD",
        gpu_seconds=sum(ln.gpu_seconds for ln in lines),
        list_minor=sum(ln.list_minor for ln in lines),
        subsidy_minor=sum(ln.subsidy_minor for ln in lines),
        due_minor=sum(ln.due_minor for ln in lines),
        charges_through=close.window.snapshot,
        token_charges_through=close.window.tokens.snapshot,
        sha256="",
        created_at=close.clock.now(),
    )
    doc.lines = [
        DocumentLine(
            id=uuid7(),
            position=i,
            award_id=ln.award_id,
            award_reference=close.label(ln),
            accelerator_type=ln.accelerator_type,
            site=ln.site,
            jobs=ln.jobs,
            gpu_seconds=ln.gpu_seconds,
            list_minor=ln.list_minor,
            subsidy_minor=ln.subsidy_minor,
            due_minor=ln.due_minor,
            credited_minor=ln.credited_minor,
            price_version_id=ln.price_version_id,
            unit_price=ln.unit_price,
            price_from=ln.price_from,
            # Set here (the document is hashed before it is stored, and rows are append-only):
            # the render reads where the version applies.
            price_version=(
                session.get(PriceVersion, ln.price_version_id) if ln.price_version_id else None
            ),
        )
        for i, ln in enumerate(lines, start=1)
    ]
    if close.render_hash:
        doc.sha256 = hashlib.sha256(document_csv(doc).encode()).hexdigest()
    session.add(doc)
    session.flush()
    return doc


__all__ = ["PAYG_LABEL", "PAYMENT_TERMS_DAYS", "CloseReport", "PeriodNotOver", "close_period"]
