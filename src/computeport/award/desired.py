"""Awards in the database → the :class:`DesiredState` a back end reconciles to.

The award domain's adapter from its rows to the back ends' plain dataclasses: a back end never
reads tables, so the edges (CLI, worker, API) hand :func:`desired_state` to
:func:`computeport.backends.factory.open_backend` as a ``desired(now)`` callable.  Per award:

* account: ``Award.slurm_account`` (generated once at decision, stored; its QOS has the same
  name); its parent is the organisation's ``slurm_account``, generated once at registration and
  stored (:mod:`computeport.kit.slurm_names`), so every organisation has a parent of its own;
* members: the POSIX usernames of the active users holding an applicant role (member or
  administrator) in the award's organisation;
* budget: the GPU-hours released so far (all accelerator types; Slurm's ``gres/gpu`` budget is
  untyped) × 60 GPU-minutes; optional concurrent cap ``Award.gpu_cap``;
* state: active only while the award is ACTIVE, inside [starts_at, ends_at) and not exhausted
  under a refuse-over-cap policy; otherwise paused (expired, terminated, suspended, exhausted),
  so history and accounts stay while no new work starts.

Reservations: every booking (``award_reservation``) that is not void (cancelled before its
start) and has not ended by ``now`` becomes a :class:`ReservedCapacity` named ``cp_<name>`` for
its award's account; ended ones drop out (Slurm removes them at their end by itself).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from computeport.backends import (
    RESERVATION_PREFIX,
    AwardAllocation,
    AwardState,
    DesiredState,
    ReservedCapacity,
)
from computeport.models.award import Award, AwardStatus, OverCapPolicy
from computeport.models.identity import (
    ORGANISATION_ROLES,
    Membership,
    Organisation,
    User,
)
from computeport.models.reservation import AwardReservation
from computeport.progress.tranches import released_gpu_hours

__all__ = [
    "award_state",
    "desired_state",
    "desired_state_from_awards",
    "desired_state_reader",
    "organisation_account",
]


def organisation_account(org: Organisation) -> str:
    """The organisation's parent account: the stored name, never derived (not from its id)."""
    return org.slurm_account


def _members(session: Session, organisation_id: uuid.UUID) -> frozenset[str]:
    rows = session.scalars(
        select(User.posix_username)
        .join(Membership, Membership.user_id == User.id)
        .where(
            Membership.organisation_id == organisation_id,
            Membership.role.in_(list(ORGANISATION_ROLES)),
            User.is_active.is_(True),
        )
    )
    return frozenset(rows)


def award_state(award: Award, now: datetime, *, exhausted: bool = False) -> AwardState:
    if award.status is not AwardStatus.ACTIVE:
        return AwardState.PAUSED
    if not (award.starts_at <= now < award.ends_at):
        return AwardState.PAUSED
    if exhausted and award.over_cap_policy is OverCapPolicy.REFUSE:
        return AwardState.PAUSED
    return AwardState.ACTIVE


def desired_state_from_awards(
    session: Session,
    now: datetime,
    *,
    exhausted_award_ids: Collection[uuid.UUID] = (),
) -> DesiredState:
    """Every award as the cluster should see it at ``now`` (billing names the exhausted ones)."""
    exhausted = set(exhausted_award_ids)
    allocations = []
    members_by_org: dict[uuid.UUID, frozenset[str]] = {}
    for award in session.scalars(select(Award).order_by(Award.slurm_account)):
        org = session.get(Organisation, award.organisation_id)
        assert org is not None  # a foreign key
        if org.id not in members_by_org:
            members_by_org[org.id] = _members(session, org.id)
        hours = sum(released_gpu_hours(session, award).values())
        allocations.append(
            AwardAllocation(
                account_name=award.slurm_account,
                org_account=organisation_account(org),
                members=members_by_org[org.id],
                gpu_minutes=hours * 60,
                gpu_cap=award.gpu_cap,
                state=award_state(award, now, exhausted=award.id in exhausted),
            )
        )
    return DesiredState(tuple(allocations), _reservations(session, now))


def _reservations(session: Session, now: datetime) -> tuple[ReservedCapacity, ...]:
    rows = session.execute(
        select(AwardReservation, Award.slurm_account)
        .join(Award, Award.id == AwardReservation.award_id)
        .where(AwardReservation.ends_at > now)
        .order_by(AwardReservation.name)
    )
    return tuple(
        ReservedCapacity(
            name=RESERVATION_PREFIX + row.name,
            account=account,
            partition=row.partition,
            node_count=row.nodes,
            start=row.starts_at,
            end=row.ends_at,
            gpus=row.gpus,
        )
        for row, account in rows
        if row.cancelled_at is None or row.cancelled_at > row.starts_at
    )


def desired_state(session: Session, now: datetime) -> DesiredState:
    """Every award as the cluster should see it at ``now`` (both back ends reconcile to it)."""
    return desired_state_from_awards(session, now)


def desired_state_reader(sessions: sessionmaker[Session]) -> Callable[[datetime], DesiredState]:
    """``desired(now)`` over a session factory: what the edges hand to ``open_backend``.

    Each call reads in its own short session, so the virtual cluster can ask at any time (it
    provisions a new cluster's awards when it first opens).
    """

    def desired(now: datetime) -> DesiredState:
        with sessions() as session:
            return desired_state(session, now)

    return desired
