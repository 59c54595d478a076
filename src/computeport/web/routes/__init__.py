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
    inference,
    jobs,
    lab,
    ops,
    prices,
    reports,
    review,
    scheme,
    sites,
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
    sites.router,
    prices.router,
    lab.router,
    inference.router,
    sso.router,
]
