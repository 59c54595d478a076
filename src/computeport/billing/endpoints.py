"""REST endpoints of billing (thin: services decide; organisations see only their own rows).

- ``GET /api/v1/usage``: rating rows (charges and reversals) of the caller's organisations;
- ``GET /api/v1/invoices``, ``GET /api/v1/invoices/{number}`` and its ``.csv``/``.html``/
  ``.pdf`` renderings; subsidy statements are for staff (the funder) only;
- ``POST /api/v1/invoices/{number}/payments``: an operator records a payment;
- ``GET /api/v1/ledger/balances``: staff only;
- ``GET /api/v1/awards/{award_id}/burndown``: the award's organisation or staff;
- ``POST /api/v1/adjustments``: an operator's manual adjustment (201; the same idempotency key
  again is 200 with the adjustment already made, other content under that key 409);
  ``GET /api/v1/adjustments``: staff who read the ledger.

Another organisation's document or award is a 404, never a 403: its existence is not shown.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlalchemy import select

from computeport.api.deps import ClockDep, SessionDep
from computeport.api.paging import AfterId, Limit
from computeport.award.errors import AwardNotFound
from computeport.billing import adjustments
from computeport.billing.burndown import award_burn_down
from computeport.billing.errors import DocumentNotFound
from computeport.billing.payments import paid_minor, record_payment
from computeport.billing.schemas import (
    AcceleratorBurnRead,
    AdjustmentIn,
    AdjustmentRead,
    BalanceRead,
    BurnDownRead,
    DocumentLineRead,
    DocumentRead,
    PaymentIn,
    PaymentRead,
    UsageRead,
)
from computeport.identity.auth import CurrentSubject
from computeport.identity.subject import Subject
from computeport.invoicing.render import document_csv, document_html, document_pdf
from computeport.kit.units import gpu_hours
from computeport.ledger.queries import balances
from computeport.models.adjustment import AdjustmentTarget
from computeport.models.award import Award
from computeport.models.identity import Role
from computeport.models.invoicing import BillingDocument, DocumentKind
from computeport.models.metering import UsageCharge

router = APIRouter(prefix="/api/v1", tags=["billing"])

LEDGER_READERS = (Role.OPERATOR, Role.SCHEME_OFFICER, Role.FUNDER)
PAYMENT_RECORDERS = (Role.OPERATOR,)


def _visible(session: SessionDep, subject: Subject, number: str) -> BillingDocument:
    doc = session.scalars(select(BillingDocument).where(BillingDocument.number == number)).first()
    if doc is None:
        raise DocumentNotFound(f"no document {number!r}", field="number")
    if doc.kind is DocumentKind.SUBSIDY_STATEMENT:
        if not subject.sees_all_organisations:
            raise DocumentNotFound(f"no document {number!r}", field="number")
    elif not subject.can_see_organisation(doc.organisation_id):
        raise DocumentNotFound(f"no document {number!r}", field="number")
    return doc


def _read(doc: BillingDocument, paid: int) -> DocumentRead:
    return DocumentRead(
        number=doc.number,
        kind=str(doc.kind),
        period=doc.period,
        sequence=doc.sequence,
        organisation_id=doc.organisation_id,
        award_id=doc.award_id,
        party_name=doc.party_name,
        issued_at=doc.issued_at,
        due_at=doc.due_at,
        currency=doc.currency,
        gpu_seconds=doc.gpu_seconds,
        list_minor=doc.list_minor,
        subsidy_minor=doc.subsidy_minor,
        due_minor=doc.due_minor,
        paid_minor=paid,
        outstanding_minor=doc.due_minor - paid
        if doc.kind is not DocumentKind.SUBSIDY_STATEMENT
        else 0,
        lines=[
            DocumentLineRead(
                award_reference=ln.award_reference,
                accelerator_type=ln.accelerator_type,
                jobs=ln.jobs,
                gpu_seconds=ln.gpu_seconds,
                gpu_hours=str(gpu_hours(ln.gpu_seconds)),
                list_minor=ln.list_minor,
                subsidy_minor=ln.subsidy_minor,
                due_minor=ln.due_minor,
                credited_minor=ln.credited_minor,
            )
            for ln in doc.lines
        ],
    )


@router.get("/invoices", response_model=list[DocumentRead])
def list_documents(
    subject: CurrentSubject,
    session: SessionDep,
    period: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$")] = None,
) -> list[DocumentRead]:
    """Invoices and credit notes of the caller's organisations (staff: all, and statements)."""
    stmt = select(BillingDocument).order_by(BillingDocument.number)
    if period is not None:
        stmt = stmt.where(BillingDocument.period == period)
    if not subject.sees_all_organisations:
        stmt = stmt.where(
            BillingDocument.organisation_id.in_(list(subject.organisation_ids)),
            BillingDocument.kind != DocumentKind.SUBSIDY_STATEMENT,
        )
    docs = list(session.scalars(stmt))
    paid = paid_minor(session, [d.id for d in docs])
    return [_read(d, paid.get(d.id, 0)) for d in docs]


@router.get("/invoices/{number}", response_model=DocumentRead, responses={404: {}})
def get_document(number: str, subject: CurrentSubject, session: SessionDep) -> DocumentRead:
    doc = _visible(session, subject, number)
    return _read(doc, paid_minor(session, [doc.id]).get(doc.id, 0))


@router.get("/invoices/{number}/csv", response_class=Response, responses={404: {}})
def get_document_csv(number: str, subject: CurrentSubject, session: SessionDep) -> Response:
    doc = _visible(session, subject, number)
    return Response(
        document_csv(doc),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{number}.csv"'},
    )


@router.get("/invoices/{number}/html", response_class=Response, responses={404: {}})
def get_document_html(number: str, subject: CurrentSubject, session: SessionDep) -> Response:
    return Response(document_html(_visible(session, subject, number)), media_type="text/html")


@router.get("/invoices/{number}/pdf", response_class=Response, responses={404: {}})
def get_document_pdf(number: str, subject: CurrentSubject, session: SessionDep) -> Response:
    doc = _visible(session, subject, number)
    return Response(
        document_pdf(doc),
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{number}.pdf"'},
    )


@router.post(
    "/invoices/{number}/payments",
    response_model=PaymentRead,
    status_code=201,
    responses={404: {}, 409: {}, 422: {}},
)
def post_payment(
    number: str, body: PaymentIn, subject: CurrentSubject, session: SessionDep, clock: ClockDep
) -> PaymentRead:
    """Record money received (idempotent on the bank reference); operators only."""
    subject.require(*PAYMENT_RECORDERS)
    payment = record_payment(
        session,
        clock,
        number=number,
        amount_minor=body.amount_minor,
        reference=body.reference,
        received_at=body.received_at,
    )
    return PaymentRead(
        reference=payment.reference,
        number=number,
        amount_minor=payment.amount_minor,
        received_at=payment.received_at,
    )


@router.get("/usage", response_model=list[UsageRead])
def list_usage(
    subject: CurrentSubject,
    session: SessionDep,
    period: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$")] = None,
    award_id: uuid.UUID | None = None,
    after_id: AfterId = 0,
    limit: Limit = 100,
) -> list[UsageRead]:
    """Rating rows of the caller's organisations, oldest first (keyset-paginated by id)."""
    stmt = select(UsageCharge).where(UsageCharge.id > after_id).order_by(UsageCharge.id)
    if period is not None:
        stmt = stmt.where(UsageCharge.period == period)
    if award_id is not None:
        stmt = stmt.where(UsageCharge.award_id == award_id)
    if not subject.sees_all_organisations:
        stmt = stmt.where(UsageCharge.organisation_id.in_(list(subject.organisation_ids)))
    return [UsageRead.model_validate(c) for c in session.scalars(stmt.limit(limit))]


@router.get("/ledger/balances", response_model=list[BalanceRead])
def ledger_balances(subject: CurrentSubject, session: SessionDep) -> list[BalanceRead]:
    """Every account's balance (sum of its postings); staff only."""
    subject.require(*LEDGER_READERS)
    return [
        BalanceRead(code=b.code, kind=str(b.kind), name=b.name, balance_minor=b.balance_minor)
        for b in balances(session)
    ]


@router.get("/awards/{award_id}/burndown", response_model=BurnDownRead, responses={404: {}})
def burndown(
    award_id: uuid.UUID, subject: CurrentSubject, session: SessionDep, clock: ClockDep
) -> BurnDownRead:
    """HK$ and GPU-hours used against the award, and the forecast run-out dates."""
    org_id = session.scalar(select(Award.organisation_id).where(Award.id == award_id))
    if org_id is None or not subject.can_see_organisation(org_id):
        raise AwardNotFound(f"award {award_id} not found", field="award_id")
    b = award_burn_down(session, clock, award_id)
    return BurnDownRead(
        award_id=b.award_id,
        reference=b.reference,
        cap_minor=b.cap_minor,
        consumed_minor=b.consumed_minor,
        percent_used=str(b.percent_used),
        list_minor=b.list_minor,
        copay_minor=b.copay_minor,
        subsidy_per_day_minor=b.subsidy_per_day_minor,
        runs_out_at=b.runs_out_at,
        by_accelerator=[
            AcceleratorBurnRead(
                accelerator_type=a.accelerator_type,
                awarded_gpu_hours=a.awarded_gpu_hours,
                used_gpu_hours=str(a.used_gpu_hours),
                runs_out_at=a.runs_out_at,
            )
            for a in b.by_accelerator
        ],
    )


def _adjustment(view: adjustments.AdjustmentView) -> AdjustmentRead:
    a = view.adjustment
    return AdjustmentRead(
        id=a.id,
        idempotency_key=a.idempotency_key,
        target=str(a.target),
        organisation_id=a.organisation_id,
        organisation_name=view.organisation_name,
        award_id=a.award_id,
        award_reference=view.award_reference,
        period=a.period,
        billing_period=a.billing_period,
        amount_minor=a.amount_minor,
        currency=a.currency,
        reason=a.reason,
        actor_id=a.actor_id,
        created_at=a.created_at,
        journal_id=a.journal_id,
        document_number=view.document_number,
    )


@router.post(
    "/adjustments",
    response_model=AdjustmentRead,
    status_code=201,
    responses={200: {"description": "The key was used before: the same adjustment"}, 409: {}},
)
def post_adjustment(
    body: AdjustmentIn,
    response: Response,
    subject: CurrentSubject,
    session: SessionDep,
    clock: ClockDep,
) -> AdjustmentRead:
    """Post a signed adjustment to a receivable or an award's subsidy (operators only)."""
    posted = adjustments.post_adjustment(
        session,
        clock,
        subject,
        adjustments.AdjustmentRequest(
            target=body.target,
            amount_minor=body.amount_minor,
            period=body.period,
            reason=body.reason,
            idempotency_key=body.idempotency_key,
            organisation_id=body.organisation_id,
            award_id=body.award_id,
        ),
    )
    if not posted.created:
        response.status_code = 200
    return _adjustment(adjustments.view_of(session, posted.adjustment))


@router.get("/adjustments", response_model=list[AdjustmentRead])
def list_adjustments(
    subject: CurrentSubject,
    session: SessionDep,
    period: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$")] = None,
    organisation_id: uuid.UUID | None = None,
    target: AdjustmentTarget | None = None,
    limit: Limit = 100,
) -> list[AdjustmentRead]:
    """Adjustments, newest first, with the document that billed each; ledger readers only."""
    subject.require(*adjustments.READERS)
    return [
        _adjustment(v)
        for v in adjustments.list_adjustments(
            session, period=period, organisation_id=organisation_id, target=target, limit=limit
        )
    ]


__all__ = ["router"]
