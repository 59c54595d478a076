"""Reading billing documents: the one home of invoicing's organisation filters.

``documents_readable_by(subject)`` is what the API lists; an organisation's own pages read
:func:`organisation_documents` and :func:`organisation_document` after the page has checked
membership.  Another organisation's document is "not found", never "forbidden".
"""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.orm import Session, selectinload

from computeport.billing.errors import DocumentNotFound
from computeport.identity.subject import Subject
from computeport.kit.errors import NotFound
from computeport.models.invoicing import BillingDocument, DocumentKind

APPLICANT_KINDS = (DocumentKind.INVOICE, DocumentKind.CREDIT_NOTE)


def documents_readable_by(subject: Subject) -> Select[BillingDocument]:
    """Documents the subject may read: all for overseers, else their organisations' invoices
    and credit notes (subsidy statements are the funder's, not the organisation's)."""
    stmt = select(BillingDocument)
    if not subject.sees_all_organisations:
        stmt = stmt.where(
            BillingDocument.organisation_id.in_(list(subject.organisation_ids)),
            BillingDocument.kind != DocumentKind.SUBSIDY_STATEMENT,
        )
    return stmt


def readable_document(session: Session, subject: Subject, number: str) -> BillingDocument:
    """The document numbered ``number`` if the subject may read it; "not found" otherwise
    (another organisation's document, or a subsidy statement to a non-overseer: no existence
    leak)."""
    doc = session.scalars(
        documents_readable_by(subject).where(BillingDocument.number == number)
    ).first()
    if doc is None:
        raise DocumentNotFound(f"no document {number!r}", field="number")
    return doc


def of_organisation(organisation_id: uuid.UUID) -> ColumnElement[bool]:
    """The condition "issued to this organisation" (a staff page's filter)."""
    return BillingDocument.organisation_id == organisation_id


def organisation_documents(session: Session, organisation_id: uuid.UUID) -> list[BillingDocument]:
    """The organisation's invoices and credit notes, newest first."""
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
