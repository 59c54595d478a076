"""Awards in the database → the desired cluster state (runs on SQLite and PostgreSQL)."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import timedelta

from sqlalchemy.orm import Session

from computeport.award.desired import desired_state_from_awards, organisation_account
from computeport.backends import AwardState
from computeport.kit.clock import ManualClock
from computeport.models.award import AwardStatus, OverCapPolicy
from computeport.models.identity import Role
from tests.award import builders
from tests.factories import identity


def test_an_active_award_becomes_an_allocation(session: Session, clock: ManualClock) -> None:
    org = identity.organisation(session)
    alice = identity.user(session, roles=(Role.MEMBER,), organisation=org)
    boss = identity.user(session, roles=(Role.ORG_ADMIN,), organisation=org)
    identity.user(session, roles=(Role.MEMBER,), organisation=identity.organisation(session))
    award = builders.approved_award(
        session, clock, builders.scheme(session), organisation=org, gpu_hours=1000, gpu_cap=16
    )
    now = award.starts_at + timedelta(days=1)

    (alloc,) = [
        a for a in desired_state_from_awards(session, now).allocations
        if a.account_name == award.slurm_account
    ]  # fmt: skip
    assert alloc.org_account == organisation_account(org)
    assert alloc.members == {alice.posix_username, boss.posix_username}
    assert alloc.gpu_minutes == 1000 * 60
    assert alloc.gpu_cap == 16
    assert alloc.state is AwardState.ACTIVE


def test_awards_outside_their_dates_or_not_active_are_paused(
    session: Session, clock: ManualClock
) -> None:
    org = identity.organisation(session)
    award = builders.approved_award(session, clock, builders.scheme(session), organisation=org)

    def state(now_offset: timedelta, exhausted_award_ids: Collection[uuid.UUID] = ()) -> AwardState:
        desired = desired_state_from_awards(
            session, award.starts_at + now_offset, exhausted_award_ids=exhausted_award_ids
        )
        return next(a.state for a in desired.allocations if a.account_name == award.slurm_account)

    assert state(timedelta(days=-1)) is AwardState.PAUSED  # not started
    assert state(award.ends_at - award.starts_at) is AwardState.PAUSED  # half-open end
    assert state(timedelta(days=1)) is AwardState.ACTIVE
    award.over_cap_policy = OverCapPolicy.REFUSE
    assert state(timedelta(days=1), exhausted_award_ids={award.id}) is AwardState.PAUSED
    award.over_cap_policy = OverCapPolicy.PAY_AS_YOU_GO
    assert state(timedelta(days=1), exhausted_award_ids={award.id}) is AwardState.ACTIVE
    award.status = AwardStatus.SUSPENDED
    assert state(timedelta(days=1)) is AwardState.PAUSED


def test_a_stored_organisation_account_wins(session: Session, clock: ManualClock) -> None:
    org = identity.organisation(session)
    org.slurm_account = "acme"
    builders.approved_award(session, clock, builders.scheme(session), organisation=org)
    desired = desired_state_from_awards(session, clock.now())
    assert "acme" in desired.org_accounts
