"""The applicant's pages under ``/orgs/{organisation_id}``, one module per area: applications
(create, edit, submit, answer a revision request, withdraw), awards with burn-down, jobs,
invoices and inference (gateway keys, token usage).

Only members of the organisation open these pages; anyone else gets 404, as from the API.
"""

from __future__ import annotations

from fastapi import APIRouter

from computeport.web.routes.applicant import applications, awards, inference, invoices, jobs

router = APIRouter(include_in_schema=False)
router.include_router(applications.router)
router.include_router(awards.router)
router.include_router(jobs.router)
router.include_router(invoices.router)
router.include_router(inference.router)

__all__ = ["router"]
