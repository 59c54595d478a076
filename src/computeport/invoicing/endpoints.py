"""REST endpoints of invoicing (thin: services decide; organisations see only their own rows).

- ``GET /api/v1/invoices``, ``GET /api/v1/invoices/{number}`` and its ``.csv``/``.html``/
  ``.pdf`` renderings; subsidy statements are for staff (the funder) only;
- ``POST /api/v1/invoices/{number}/payments``: an operator records a payment.

Another organisation's document is a 404, never a 403: its existence is not shown.  The
router keeps the ``billing`` tag it had when billing served these routes, so the published
OpenAPI document did not change when they moved here.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from computeport.billing.payments import paid_minor, record_payment
from computeport.http.deps import ClockDep, SessionDep
from computeport.identity.auth import CurrentSubject
from computeport.invoicing.render import document_csv, document_html, document_pdf
from computeport.invoicing.repository import documents_readable_by, readable_document
from computeport.invoicing.schemas import DocumentLineRead, DocumentRead, PaymentIn, PaymentRead
from computeport.kit.units import gpu_hours
from computeport.models.identity import Role
from computeport.models.invoicing import BillingDocument, DocumentKind

router = APIRouter(prefix="/api/v1", tags=["billing"])

PAYMENT_RECORDERS = (Role.OPERATOR,)


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
    stmt = documents_readable_by(subject).order_by(BillingDocument.number)
    if period is not None:
        stmt = stmt.where(BillingDocument.period == period)
    docs = list(session.scalars(stmt))
    paid = paid_minor(session, [d.id for d in docs])
    return [_read(d, paid.get(d.id, 0)) for d in docs]


@router.get("/invoices/{number}", response_model=DocumentRead, responses={404: {}})
def get_document(number: str, subject: CurrentSubject, session: SessionDep) -> DocumentRead:
    doc = readable_document(session, subject, number)
    return _read(doc, paid_minor(session, [doc.id]).get(doc.id, 0))


@router.get("/invoices/{number}/csv", response_class=Response, responses={404: {}})
def get_document_csv(number: str, subject: CurrentSubject, session: SessionDep) -> Response:
    doc = readable_document(session, subject, number)
    return Response(
        document_csv(doc),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{number}.csv"'},
    )


@router.get("/invoices/{number}/html", response_class=Response, responses={404: {}})
def get_document_html(number: str, subject: CurrentSubject, session: SessionDep) -> Response:
    doc = readable_document(session, subject, number)
    return Response(document_html(doc), media_type="text/html")


@router.get("/invoices/{number}/pdf", response_class=Response, responses={404: {}})
def get_document_pdf(number: str, subject: CurrentSubject, session: SessionDep) -> Response:
    doc = readable_document(session, subject, number)
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


__all__ = ["router"]
