"""Typed errors of the award domain."""

from __future__ import annotations

from computeport.kit.errors import NotFound


class AwardNotFound(NotFound):
    """No award with that id (or not visible to the caller)."""


class ReservationNotFound(NotFound):
    title = "Reservation not found"


__all__ = ["AwardNotFound", "ReservationNotFound"]
