"""Typed errors of the review domain."""

from __future__ import annotations

from computeport.kit.errors import Conflict, NotFound


class AssignmentNotFound(NotFound):
    title = "Review assignment not found"


class ReviewConflict(Conflict):
    title = "Review not possible"
