"""Manual adjustments: an operator's signed correction of a receivable or of an award's subsidy.

One adjustment is, in one transaction under the billing lock: an ``adjustment`` row, one
balanced journal ``adjustment:<key>`` and an audit row.  Postings for a signed amount ``a``
(cents; positive raises the balance, negative credits it)::

    receivable  Dr receivable:<organisation>      a      Cr revenue:gpu                 a
    subsidy     Dr subsidy_receivable:<award>     a      Cr revenue:gpu                 a
                Dr envelope_consumed:<award>      a      Cr envelope_committed:<award>  a

so a receivable adjustment changes what the organisation owes, and a subsidy adjustment
changes what the funder owes *and* the award's consumed subsidy (an outage credited back to
the award returns that much of its cap, just as a reversed usage rating would).

Idempotency: the caller supplies the key.  The same key with the same content returns the
adjustment already written (nothing new is written); the same key with different content is
a :class:`~computeport.kit.errors.Conflict` naming ``idempotency_key``.

The cap rule for subsidy adjustments (never over-commit): an award holds its whole HK$ cap
against the envelope while it is active or suspended, so an adjustment that keeps the award's
consumed subsidy within ``[0, cap]`` cannot over-commit the envelope either; one that would
take it above the cap, or below zero, is refused (``BudgetExceeded``, 409).  An expired or
terminated award has already given back the part of its commitment it had not consumed; a
subsidy adjustment there would either consume envelope nobody holds or leave a commitment
behind, so it is refused (409) — the committee amends the award first.  Rating takes the
same billing lock and reads consumed from the same ledger balance, so the two cannot race past
the cap; a ``billing post`` run that caches each award's consumed amount across its batches
(``posting.RatingState``) drops that cache when a subsidy adjustment has been posted since.

Which invoice shows it: every adjustment has a ``billing_period``.  If the month it corrects
is still open (no document of that month has been issued yet), that is the month itself, and
its close puts an "Adjustments" line on the organisation's invoice (receivable) or the award's
subsidy statement (subsidy).  If that month was already closed when the adjustment was
posted, the adjustment goes on the next month still open — the line reads "Adjustments
YYYY-MM" with the month corrected — because a closed month's documents are immutable and
nobody re-runs the close of an old month just for it.  A month counts as closed once any
document of it exists (a close that issued nothing leaves the month open, harmlessly: its next
close bills the adjustment).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from computeport.audit.service import record_event
from computeport.identity.subject import Subject
from computeport.kit.clock import Clock
from computeport.kit.errors import BudgetExceeded, Conflict, ValidationFailed
from computeport.kit.money import MAX_AMOUNT_MINOR
from computeport.kit.periods import parse_period
from computeport.ledger.accounts import AccountBook
from computeport.ledger.journal import write_journal
from computeport.ledger.queries import consumed_by_award
from computeport.metering.cursor import lock_billing
from computeport.models.adjustment import Adjustment, AdjustmentBilling, AdjustmentTarget
from computeport.models.award import Award, AwardStatus
from computeport.models.identity import Organisation, Role
from computeport.models.invoicing import BillingDocument
from computeport.models.ledger import AccountKind, JournalKind

ADJUSTERS = (Role.OPERATOR,)
"""Centre operations (finance included) post adjustments."""
READERS = (Role.OPERATOR, Role.SCHEME_OFFICER, Role.FUNDER)
"""Staff who read the ledger read its adjustments too."""
LABEL = "Adjustments"
MAX_KEY = 100
MAX_REASON = 2000
_SUBSIDY_STATUSES = (AwardStatus.ACTIVE, AwardStatus.SUSPENDED)


@dataclass(frozen=True)
class AdjustmentRequest:
    """What the caller asks for (already typed; the service checks the rules)."""

    target: AdjustmentTarget
    amount_minor: int
    period: str
    reason: str
    idempotency_key: str
    organisation_id: uuid.UUID | None = None
    award_id: uuid.UUID | None = None


@dataclass(frozen=True)
class PostedAdjustment:
    adjustment: Adjustment
    created: bool
    """False when the key had already been used with the same content (nothing written)."""


@dataclass(frozen=True)
class AdjustmentView:
    """An adjustment with the names a person reads and the document that billed it."""

    adjustment: Adjustment
    organisation_name: str
    award_reference: str | None
    document_number: str | None


def view_of(session: Session, adjustment: Adjustment) -> AdjustmentView:
    """One adjustment with its names and billing document."""
    (found,) = list_adjustments(session, adjustment_id=adjustment.id)
    return found


def next_period(period: str) -> str:
    _, end = parse_period(period)
    return f"{end.year:04d}-{end.month:02d}"


def billing_period_for(session: Session, period: str) -> str:
    """``period`` if still open, else the first later month with no document issued yet."""
    closed = set(
        session.scalars(
            select(BillingDocument.period).where(BillingDocument.period >= period).distinct()
        )
    )
    while period in closed:
        period = next_period(period)
    return period


def _check_text(request: AdjustmentRequest) -> tuple[str, str]:
    key = request.idempotency_key.strip()
    if not key:
        raise ValidationFailed("an adjustment needs an idempotency key", field="idempotency_key")
    if len(key) > MAX_KEY or not key.isprintable():
        raise ValidationFailed(
            f"the idempotency key must be at most {MAX_KEY} printable characters",
            field="idempotency_key",
        )
    reason = request.reason.strip()
    if not reason:
        raise ValidationFailed("an adjustment needs a reason", field="reason")
    if len(reason) > MAX_REASON:
        raise ValidationFailed(f"the reason is longer than {MAX_REASON} characters", field="reason")
    if request.amount_minor == 0:
        raise ValidationFailed("an adjustment of zero changes nothing", field="amount_minor")
    if abs(request.amount_minor) > MAX_AMOUNT_MINOR:
        raise ValidationFailed("the amount is implausibly large", field="amount_minor")
    return key, reason


def _parties(session: Session, request: AdjustmentRequest) -> tuple[uuid.UUID, Award | None]:
    """The organisation and (for subsidy, or when named) the award, checked to match."""
    award: Award | None = None
    if request.award_id is not None:
        award = session.get(Award, request.award_id)
        if award is None:
            raise ValidationFailed(f"no award {request.award_id}", field="award_id")
    elif request.target is AdjustmentTarget.SUBSIDY:
        raise ValidationFailed("a subsidy adjustment names its award", field="award_id")
    org_id = request.organisation_id
    if org_id is None:
        if award is None:
            raise ValidationFailed(
                "a receivable adjustment names its organisation", field="organisation_id"
            )
        org_id = award.organisation_id
    elif session.get(Organisation, org_id) is None:
        raise ValidationFailed(f"no organisation {org_id}", field="organisation_id")
    if award is not None and award.organisation_id != org_id:
        raise ValidationFailed(
            f"award {award.reference} belongs to another organisation", field="award_id"
        )
    return org_id, award


def _same(existing: Adjustment, request: AdjustmentRequest, org_id: uuid.UUID, reason: str) -> bool:
    return (
        existing.target == request.target
        and existing.organisation_id == org_id
        and existing.award_id == request.award_id
        and existing.period == request.period.strip()
        and existing.amount_minor == request.amount_minor
        and existing.reason == reason
    )


def _check_cap(session: Session, award: Award, amount_minor: int) -> None:
    if award.status not in _SUBSIDY_STATUSES:
        raise Conflict(
            f"award {award.reference} is {award.status.value}: its commitment was settled to "
            "what it consumed, so its subsidy cannot be adjusted (amend the award first)",
            field="award_id",
        )
    consumed = consumed_by_award(session, [award.id])[award.id]
    after = consumed + amount_minor
    if after > award.cap_minor:
        raise BudgetExceeded(
            f"award {award.reference} has {award.cap_minor - consumed} cents of its cap left; "
            f"an adjustment of {amount_minor} would exceed it",
            field="amount_minor",
        )
    if after < 0:
        raise BudgetExceeded(
            f"award {award.reference} has consumed {consumed} cents; a credit of "
            f"{-amount_minor} would take it below zero",
            field="amount_minor",
        )


def post_adjustment(
    session: Session,
    clock: Clock,
    subject: Subject,
    request: AdjustmentRequest,
) -> PostedAdjustment:
    """Post one adjustment (row + journal + audit), or return the one its key already made.

    Only an operator may adjust; the subject is the actor in the row and the audit trail.
    Never commits.
    """
    subject.require(*ADJUSTERS)
    actor_id = subject.user_id
    key, reason = _check_text(request)
    start, _ = parse_period(request.period)
    period = request.period.strip()
    now = clock.now()
    if start > now:
        raise ValidationFailed(f"period {period} has not started yet", field="period")
    org_id, award = _parties(session, request)
    lock_billing(session)
    existing = session.scalars(select(Adjustment).where(Adjustment.idempotency_key == key)).first()
    if existing is not None:
        if not _same(existing, request, org_id, reason):
            raise Conflict(
                f"idempotency key {key!r} was already used for a different adjustment",
                field="idempotency_key",
            )
        return PostedAdjustment(existing, created=False)
    book = AccountBook(session, clock)
    amount = request.amount_minor
    revenue = book.id_for(AccountKind.REVENUE)
    if request.target is AdjustmentTarget.SUBSIDY:
        assert award is not None
        _check_cap(session, award, amount)

        def per_award(kind: AccountKind) -> uuid.UUID:
            return book.id_for(kind, award_id=award.id, scheme_id=award.scheme_id)

        lines = [
            (per_award(AccountKind.SUBSIDY_RECEIVABLE), amount),
            (revenue, -amount),
            (per_award(AccountKind.ENVELOPE_CONSUMED), amount),
            (per_award(AccountKind.ENVELOPE_COMMITTED), -amount),
        ]
    else:
        lines = [
            (book.id_for(AccountKind.RECEIVABLE, organisation_id=org_id), amount),
            (revenue, -amount),
        ]
    journal_id = write_journal(
        session,
        clock,
        key=f"adjustment:{key}",
        kind=JournalKind.ADJUSTMENT,
        lines=lines,
        occurred_at=now,
        description=f"Adjustment ({request.target.value}, {period}): {reason}",
    )
    assert journal_id is not None  # amount != 0, so the lines never net to nothing
    adjustment = Adjustment(
        idempotency_key=key,
        target=request.target,
        organisation_id=org_id,
        award_id=award.id if award is not None else None,
        period=period,
        billing_period=billing_period_for(session, period),
        amount_minor=amount,
        currency="HKD",
        reason=reason,
        actor_id=actor_id,
        journal_id=journal_id,
        created_at=now,
    )
    session.add(adjustment)
    session.flush()
    record_event(
        session,
        adjustment,
        "adjustment_posted",
        actor_id,
        f"{request.target.value} {amount:+d} cents for {period}: {reason}",
        now,
    )
    return PostedAdjustment(adjustment, created=True)


def unbilled(session: Session, billing_period: str) -> list[Adjustment]:
    """Adjustments the close of ``billing_period`` must bill (no document has billed them)."""
    billed = select(AdjustmentBilling.adjustment_id)
    return list(
        session.scalars(
            select(Adjustment)
            .where(Adjustment.billing_period == billing_period, Adjustment.id.not_in(billed))
            .order_by(Adjustment.created_at, Adjustment.id)
        )
    )


def mark_billed(
    session: Session, adjustment_ids: Sequence[uuid.UUID], document_id: uuid.UUID
) -> None:
    """Link adjustments to the document that billed them (the close calls this)."""
    if adjustment_ids:
        session.execute(
            insert(AdjustmentBilling),
            [{"adjustment_id": a, "document_id": document_id} for a in adjustment_ids],
        )


def line_label(adjustment_period: str, billing_period: str) -> str:
    """``Adjustments``, or ``Adjustments 2026-10`` when it corrects an earlier, closed month."""
    return LABEL if adjustment_period == billing_period else f"{LABEL} {adjustment_period}"


def list_adjustments(
    session: Session,
    *,
    period: str | None = None,
    organisation_id: uuid.UUID | None = None,
    target: AdjustmentTarget | None = None,
    adjustment_id: uuid.UUID | None = None,
    limit: int = 500,
) -> list[AdjustmentView]:
    """Adjustments, newest first, with names and the billing document (staff reads)."""
    stmt = (
        select(Adjustment, Organisation.name, Award.reference, BillingDocument.number)
        .join(Organisation, Organisation.id == Adjustment.organisation_id)
        .outerjoin(Award, Award.id == Adjustment.award_id)
        .outerjoin(AdjustmentBilling, AdjustmentBilling.adjustment_id == Adjustment.id)
        .outerjoin(BillingDocument, BillingDocument.id == AdjustmentBilling.document_id)
        .order_by(Adjustment.created_at.desc(), Adjustment.id.desc())
        .limit(limit)
    )
    if period is not None:
        stmt = stmt.where(Adjustment.period == period)
    if organisation_id is not None:
        stmt = stmt.where(Adjustment.organisation_id == organisation_id)
    if target is not None:
        stmt = stmt.where(Adjustment.target == target)
    if adjustment_id is not None:
        stmt = stmt.where(Adjustment.id == adjustment_id)
    return [AdjustmentView(a, name, ref, number) for a, name, ref, number in session.execute(stmt)]


__all__ = [
    "ADJUSTERS",
    "LABEL",
    "READERS",
    "AdjustmentRequest",
    "AdjustmentView",
    "PostedAdjustment",
    "billing_period_for",
    "line_label",
    "list_adjustments",
    "mark_billed",
    "next_period",
    "post_adjustment",
    "unbilled",
    "view_of",
]
