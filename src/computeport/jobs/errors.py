"""Typed errors of the jobs API."""

from __future__ import annotations

from computeport.kit.errors import Conflict, DomainError

__all__ = ["AwardNotActive", "NoCluster"]


class AwardNotActive(Conflict):
    """Jobs run only on an active award inside its dates."""

    title = "Award not active"


class NoCluster(DomainError):
    """This deployment runs without a cluster back end."""

    status_code = 503
    title = "No cluster"
