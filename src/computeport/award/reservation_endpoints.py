"""REST endpoints for an award's reserved capacity (thin: :mod:`computeport.award.reservations`).

Operators book and unreserve; whoever may read the award (staff, the award's organisation) may
list its bookings.  Booking needs the cluster's inventory (capacity checks), so a deployment
without a cluster back end answers 503 there.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from computeport.api.deps import ClockDep, SessionDep, app_state
from computeport.api.state import AppState
from computeport.award.reservations import (
    Capacity,
    ReservationIn,
    ReservationRead,
    book_reservation,
    cancel_reservation,
    list_reservations,
    reservation_read,
)
from computeport.backends import NoCluster
from computeport.identity.auth import CurrentSubject
from computeport.models.identity import Role

router = APIRouter(prefix="/api/v1", tags=["reservations"])

BOOKERS = (Role.OPERATOR,)
"""The centre's operators book and release reserved capacity."""


def capacity(state: Annotated[AppState, Depends(app_state)]) -> Capacity:
    if state.backend is None:
        raise NoCluster("this deployment has no cluster back end to reserve capacity on")
    return Capacity.from_backend(state.backend)


@router.post(
    "/awards/{award_id}/reservations",
    response_model=ReservationRead,
    status_code=201,
    responses={404: {}, 409: {}, 422: {}, 503: {}},
)
def post_reservation(
    award_id: uuid.UUID,
    body: ReservationIn,
    subject: CurrentSubject,
    session: SessionDep,
    clock: ClockDep,
    state: Annotated[AppState, Depends(app_state)],
) -> ReservationRead:
    """Book whole nodes of a partition for the award over ``[starts_at, ends_at)``."""
    subject.require(*BOOKERS)
    row = book_reservation(session, award_id, body, subject.user_id, clock, capacity(state))
    return reservation_read(row, clock.now())


@router.get(
    "/awards/{award_id}/reservations", response_model=list[ReservationRead], responses={404: {}}
)
def get_reservations(
    award_id: uuid.UUID, subject: CurrentSubject, session: SessionDep, clock: ClockDep
) -> list[ReservationRead]:
    now = clock.now()
    return [reservation_read(r, now) for r in list_reservations(session, subject, award_id)]


@router.delete(
    "/awards/{award_id}/reservations/{reservation_id}",
    response_model=ReservationRead,
    responses={404: {}, 409: {}},
)
def delete_reservation(
    award_id: uuid.UUID,
    reservation_id: uuid.UUID,
    subject: CurrentSubject,
    session: SessionDep,
    clock: ClockDep,
    reason: Annotated[str, Query(max_length=2000)] = "",
) -> ReservationRead:
    """Unreserve: cancelled before its start, cut short inside its window."""
    subject.require(*BOOKERS)
    row = cancel_reservation(session, award_id, reservation_id, subject.user_id, clock, reason)
    return reservation_read(row, clock.now())


__all__ = ["router"]
