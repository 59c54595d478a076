"""The applicant's pages under ``/orgs/{organisation_id}``, one module per area: applications
(create, edit, submit, answer a revision request, withdraw), awards with burn-down, jobs and
invoices.

Only members of the organisation open these pages; anyone else gets 404, as from the API.
"""

from __future__ import annotations

from fastapi import APIRouter

from computeport.web.routes.applicant import applications, awards, invoices, jobs

router = APIRouter(include_in_schema=False)
router.include_router(applications.router)
router.include_router(awards.router)
router.include_router(jobs.router)
router.include_router(invoices.router)

__all__ = ["router"]
