"""The applicant's invoices: money by month, the documents, each as PDF or CSV."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import Response

from computeport.invoicing.render import document_csv, document_pdf
from computeport.invoicing.repository import organisation_document, organisation_documents
from computeport.kit.errors import NotFound
from computeport.web.deps import CurrentViewer, PageSession
from computeport.web.routes.applicant.pages import (
    PREFIX,
    organisation_page,
    render_page,
    require_member,
)
from computeport.web.views.usage import money_by_month

router = APIRouter(prefix=PREFIX, include_in_schema=False)


@router.get("/invoices")
def invoice_list(
    request: Request, organisation_id: uuid.UUID, viewer: CurrentViewer, session: PageSession
) -> Response:
    page = organisation_page(session, viewer, organisation_id)
    page["months"] = money_by_month(session, organisation_id=organisation_id)
    page["documents"] = organisation_documents(session, organisation_id)
    return render_page(request, "applicant/invoices.html", page, viewer)


@router.get("/invoices/{document_id}.{fmt}")
def invoice_file(
    organisation_id: uuid.UUID,
    document_id: uuid.UUID,
    fmt: str,
    viewer: CurrentViewer,
    session: PageSession,
) -> Response:
    """An invoice as PDF (rendered by the invoicing service) or CSV."""
    require_member(viewer, organisation_id)
    doc = organisation_document(session, organisation_id, document_id)
    if fmt == "pdf":
        return Response(
            document_pdf(doc),
            media_type="application/pdf",
            headers={"content-disposition": f'inline; filename="{doc.number}.pdf"'},
        )
    if fmt == "csv":
        return Response(
            document_csv(doc),
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": f'attachment; filename="{doc.number}.csv"'},
        )
    raise NotFound(f"no format {fmt}")
