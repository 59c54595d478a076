"""The portal's page routers, one module per area; :data:`ROUTERS` is what the portal mounts."""

from __future__ import annotations

from fastapi import APIRouter

from computeport.web.routes import (
    applicant,
    auth,
    billing,
    capacity,
    committee,
    home,
    jobs,
    ops,
    prices,
    reports,
    review,
    scheme,
    sso,
)

ROUTERS: list[APIRouter] = [
    auth.router,
    home.router,
    ops.router,
    jobs.router,
    scheme.router,
    applicant.router,
    review.router,
    committee.router,
    reports.router,
    billing.router,
    capacity.router,
    prices.router,
    sso.router,
]
