"""An organisation's billing documents (invoices and credit notes), newest first."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from computeport.kit.errors import NotFound
from computeport.models.invoicing import BillingDocument, DocumentKind

APPLICANT_KINDS = (DocumentKind.INVOICE, DocumentKind.CREDIT_NOTE)


def organisation_documents(session: Session, organisation_id: uuid.UUID) -> list[BillingDocument]:
    stmt = (
        select(BillingDocument)
        .where(BillingDocument.organisation_id == organisation_id)
        .where(BillingDocument.kind.in_(APPLICANT_KINDS))
        .order_by(BillingDocument.issued_at.desc(), BillingDocument.number.desc())
    )
    return list(session.scalars(stmt))


def organisation_document(
    session: Session, organisation_id: uuid.UUID, document_id: uuid.UUID
) -> BillingDocument:
    """One of the organisation's documents (with its lines), or 404."""
    doc = session.scalar(
        select(BillingDocument)
        .options(selectinload(BillingDocument.lines))
        .where(BillingDocument.id == document_id)
    )
    if doc is None or doc.organisation_id != organisation_id or doc.kind not in APPLICANT_KINDS:
        raise NotFound(f"no document {document_id}")
    return doc
