"""Typed errors of the jobs API."""

from __future__ import annotations

from computeport.kit.errors import Conflict

__all__ = ["AwardNotActive"]


class AwardNotActive(Conflict):
    """Jobs run only on an active award inside its dates."""

    title = "Award not active"
