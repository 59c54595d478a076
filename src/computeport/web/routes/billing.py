"""The centre's billing desk: documents, receivable ageing, the quarantine, ledger balances and
manual adjustments.

Operators (centre operations, finance included) use all of it and post adjustments; scheme
officers and the funder read it (the quarantine is operations' work queue: operators and
scheme officers only).  Organisations never reach these pages: they keep their own invoices
under ``/orgs/<id>/invoices``.  The adjustment form goes through the same service as the API
and the CLI (:mod:`computeport.billing.adjustments`).
"""

from __future__ import annotations

import functools
import uuid
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from computeport.billing import adjustments
from computeport.billing.payments import BUCKETS
from computeport.kit.clock import Clock
from computeport.models.adjustment import AdjustmentTarget
from computeport.models.identity import Role
from computeport.models.invoicing import DocumentKind
from computeport.web.deps import CurrentViewer, PageClock, PageSession
from computeport.web.forms import WHOLE_NUMBER, Form, amount_minor
from computeport.web.i18n import translator
from computeport.web.security import checked_form
from computeport.web.templating import render
from computeport.web.viewer import Viewer
from computeport.web.views import billing

router = APIRouter(prefix="/billing", include_in_schema=False)

READERS = (Role.OPERATOR, Role.SCHEME_OFFICER, Role.FUNDER)
QUARANTINE_READERS = (Role.OPERATOR, Role.SCHEME_OFFICER)
ADJUSTMENT_FIELDS = (
    "target",
    "organisation_id",
    "award_id",
    "amount_minor",
    "period",
    "reason",
    "idempotency_key",
)
STATUS_LABELS = {
    "open": "Open",
    "overdue": "Overdue",
    "paid": "Paid",
    "credit": "Credit",
    "statement": "Awaiting the funder",
}
TARGET_LABELS = {
    AdjustmentTarget.RECEIVABLE.value: "An organisation's receivable",
    AdjustmentTarget.SUBSIDY.value: "An award's subsidy",
}
BUCKET_LABELS = {
    "current": "Current",
    "1-30": "1–30 days",
    "31-60": "31–60 days",
    "61-90": "61–90 days",
    "90+": "Over 90 days",
}


def _page(
    request: Request,
    viewer: Viewer,
    template: str,
    context: dict[str, Any],
    tab: str,
    status_code: int = 200,
) -> Response:
    context.update(
        tab=tab,
        show_quarantine=viewer.has(*QUARANTINE_READERS),
        can_adjust=viewer.has(*adjustments.ADJUSTERS),
    )
    return render(
        request, template, context, viewer=viewer, active="billing", status_code=status_code
    )


def _uuid(text: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(text) if text else None
    except ValueError:
        return None


@router.get("")
def documents_page(
    request: Request,
    viewer: CurrentViewer,
    session: PageSession,
    clock: PageClock,
    period: str = "",
    organisation: str = "",
    status: str = "",
    kind: str = "",
    page: str = "1",
) -> Response:
    """Every invoice, credit note and statement with its status, a page at a time; filters
    (and the page number) ignore bad values."""
    viewer.require(*READERS)
    filters = billing.DocumentFilters(
        period=period or None,
        organisation_id=_uuid(organisation),
        status=status if status in billing.STATUSES else None,
        kind=DocumentKind(kind) if kind in set(DocumentKind) else None,
    )
    listing = billing.documents(
        session, clock, filters, page=int(page) if WHOLE_NUMBER.fullmatch(page) else 1
    )

    def page_url(number: int) -> str:
        return "/billing?" + urlencode({**request.query_params, "page": str(number)})

    return _page(
        request,
        viewer,
        "billing/documents.html",
        {
            "listing": listing,
            "rows": listing.rows,
            "page_url": page_url,
            "filters": filters,
            "periods": billing.periods(session),
            "organisations": billing.organisations(session),
            "statuses": STATUS_LABELS,
            "kinds": [k.value for k in DocumentKind],
        },
        "documents",
    )


@router.get("/ageing")
def ageing_page(
    request: Request, viewer: CurrentViewer, session: PageSession, clock: PageClock
) -> Response:
    viewer.require(*READERS)
    return _page(
        request,
        viewer,
        "billing/ageing.html",
        {
            "report": billing.ageing_report(session, clock),
            "buckets": [(b, BUCKET_LABELS[b]) for b in BUCKETS],
        },
        "ageing",
    )


@router.get("/quarantine")
def quarantine_page(request: Request, viewer: CurrentViewer, session: PageSession) -> Response:
    viewer.require(*QUARANTINE_READERS)
    groups, rows = billing.quarantine(session)
    return _page(
        request,
        viewer,
        "billing/quarantine.html",
        {"groups": groups, "rows": rows},
        "quarantine",
    )


@router.get("/ledger")
def ledger_page(request: Request, viewer: CurrentViewer, session: PageSession) -> Response:
    viewer.require(*READERS)
    return _page(
        request,
        viewer,
        "billing/ledger.html",
        {
            "ledger": billing.ledger_summary(session),
            "owner_of": functools.partial(billing.owner_of, names=billing.owner_names(session)),
        },
        "ledger",
    )


def _adjustments_context(
    session: Session, clock: Clock, form_values: dict[str, str] | None = None
) -> dict[str, Any]:
    now = clock.now()
    values = form_values or {
        "target": AdjustmentTarget.RECEIVABLE.value,
        "organisation_id": "",
        "award_id": "",
        "amount_minor": "",
        "period": f"{now.year:04d}-{now.month:02d}",
        "reason": "",
        # A fresh key per form: submitting the same form twice posts one adjustment.
        "idempotency_key": f"ADJ-{uuid.uuid4().hex[:12].upper()}",
    }
    return {
        "adjustments": adjustments.list_adjustments(session, limit=200),
        "organisations": billing.organisations(session),
        "awards": billing.awards(session),
        "targets": TARGET_LABELS,
        "values": values,
        "errors": {},
        "form_error": None,
    }


@router.get("/adjustments")
def adjustments_page(
    request: Request,
    viewer: CurrentViewer,
    session: PageSession,
    clock: PageClock,
    posted: str = "",
) -> Response:
    viewer.require(*READERS)
    page = _adjustments_context(session, clock)
    page["posted"] = posted
    return _page(request, viewer, "billing/adjustments.html", page, "adjustments")


def _signed_minor(form: Form, name: str) -> int | None:
    """Signed HK$ as a person types it (``-1,250.50``) → cents, never via float."""
    value = form.raw(name)
    if not value:
        form.errors[name] = form._("This field is required.")
        return None
    cents = amount_minor(value)
    if not cents:
        form.errors[name] = form._("Enter a non-zero amount with at most two decimals.")
        return None
    return cents


@router.post("/adjustments")
async def post_adjustment(
    request: Request, viewer: CurrentViewer, session: PageSession, clock: PageClock
) -> Response:
    viewer.require(*adjustments.ADJUSTERS)
    form = Form(await checked_form(request), translator(viewer.locale))
    target = form.choice("target", [t.value for t in AdjustmentTarget])
    organisation_id = form.raw("organisation_id")
    award_id = form.raw("award_id")
    amount = _signed_minor(form, "amount_minor")
    period = form.text("period", required=True, max_length=7)
    reason = form.text("reason", required=True, max_length=adjustments.MAX_REASON)
    key = form.text("idempotency_key", required=True, max_length=adjustments.MAX_KEY)
    for name, raw in (("organisation_id", organisation_id), ("award_id", award_id)):
        if raw and _uuid(raw) is None:
            form.errors[name] = form._("Choose one of the options.")
    if (
        target is not None
        and amount is not None
        and form.attempt(
            session,
            ADJUSTMENT_FIELDS,
            lambda: adjustments.post_adjustment(
                session,
                clock,
                viewer.subject,
                adjustments.AdjustmentRequest(
                    target=AdjustmentTarget(target),
                    amount_minor=amount,
                    period=period,
                    reason=reason,
                    idempotency_key=key,
                    organisation_id=_uuid(organisation_id),
                    award_id=_uuid(award_id),
                ),
            ),
        )
    ):
        return RedirectResponse(f"/billing/adjustments?posted={key}", status_code=303)
    page = _adjustments_context(
        session, clock, {name: form.raw(name) for name in ADJUSTMENT_FIELDS}
    )
    page.update(errors=form.errors, form_error=form.form_error, posted="")
    return _page(request, viewer, "billing/adjustments.html", page, "adjustments", 400)
