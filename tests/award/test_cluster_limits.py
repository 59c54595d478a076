"""Reconcile per cluster: each cluster gets the awards its places allow, at their share there,
and a move reaches its new cluster only after the old one confirmed the shrink (both engines)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from computeport.award.cluster_limits import (
    confirm_limits,
    desired_for_cluster,
    hold_raises,
)
from computeport.award.desired import desired_state_from_awards
from computeport.award.places import set_places
from computeport.award.shares import RESERVE
from computeport.backends import DesiredState
from computeport.kit.clock import ManualClock
from computeport.models.award import Award
from tests.award.share_centre import load_centre
from tests.award.share_centre import move as move_any
from tests.factories import award as fw

HOURS = 1_000


def move(session: Session, award: Award, clock: ManualClock, src: str, dst: str, h: int) -> None:
    move_any(session, award, clock, src, dst, h, "placing")


@pytest.fixture
def award(session: Session, clock: ManualClock) -> Award:
    return fw.approved_award(session, clock, fw.scheme(session), gpu_hours=HOURS)


def minutes(state: DesiredState, award: Award) -> int | None:
    found = [a.gpu_minutes for a in state.allocations if a.account_name == award.slurm_account]
    return found[0] if found else None


def reconciled(session: Session, clock: ManualClock, cluster: str) -> DesiredState:
    """One reconcile of ``cluster`` that the cluster confirmed."""
    state = desired_for_cluster(session, clock.now(), cluster)
    hold_raises(session, cluster, state, clock.now())
    confirm_limits(session, cluster, state, clock.now())
    return state


def test_without_an_inventory_every_cluster_gets_todays_desired_state(
    session: Session, clock: ManualClock, award: Award
) -> None:
    now = clock.now() + timedelta(days=1)
    assert desired_for_cluster(session, now, "aisc") == desired_state_from_awards(session, now)
    assert minutes(desired_for_cluster(session, now, "aisc"), award) == HOURS * 60


def test_an_award_limited_to_one_cluster_gets_nothing_on_another(
    session: Session, clock: ManualClock, award: Award
) -> None:
    load_centre(session, clock)
    set_places(session, award.id, clusters=["alpha"], reason="r", actor_id=None, clock=clock)
    move(session, award, clock, RESERVE, "alpha", HOURS)
    now = clock.now()
    assert minutes(desired_for_cluster(session, now, "alpha"), award) == HOURS * 60
    for other in ("beta", "ridge", "domestic"):
        assert minutes(desired_for_cluster(session, now, other), award) is None


def test_an_open_award_gets_its_share_on_each_cluster_and_nothing_from_the_reserve(
    session: Session, clock: ManualClock, award: Award
) -> None:
    load_centre(session, clock)
    move(session, award, clock, RESERVE, "alpha", 600)
    move(session, award, clock, RESERVE, "ridge", 300)
    now = clock.now()
    got = {c: minutes(desired_for_cluster(session, now, c), award) for c in ("alpha", "beta")}
    assert got == {"alpha": 600 * 60, "beta": 0}  # open: an account on beta, but no budget
    assert minutes(desired_for_cluster(session, now, "ridge"), award) == 300 * 60
    assert minutes(desired_for_cluster(session, now, "domestic"), award) is None  # no h800


def test_a_move_is_shrink_first(session: Session, clock: ManualClock, award: Award) -> None:
    load_centre(session, clock)
    move(session, award, clock, RESERVE, "alpha", HOURS)
    assert minutes(reconciled(session, clock, "alpha"), award) == HOURS * 60
    move(session, award, clock, "alpha", "ridge", 400)
    # ridge first: alpha has not confirmed giving the hours up, so ridge gets none yet.
    assert minutes(reconciled(session, clock, "ridge"), award) == 0
    # alpha cannot be reached: its raise-free plan is held back, nothing confirmed.
    state = desired_for_cluster(session, clock.now(), "alpha")
    hold_raises(session, "alpha", state, clock.now())
    assert minutes(reconciled(session, clock, "ridge"), award) == 0
    # alpha answers and shrinks; now ridge gets its 400 hours.
    assert minutes(reconciled(session, clock, "alpha"), award) == 600 * 60
    assert minutes(reconciled(session, clock, "ridge"), award) == 400 * 60


def test_a_raise_in_flight_counts_at_its_new_value(
    session: Session, clock: ManualClock, award: Award
) -> None:
    load_centre(session, clock)
    move(session, award, clock, RESERVE, "alpha", 500)
    move(session, award, clock, RESERVE, "beta", 500)
    # alpha's raise is recorded, then alpha falls over mid-apply (may hold 500 already).
    state = desired_for_cluster(session, clock.now(), "alpha")
    hold_raises(session, "alpha", state, clock.now())
    move(session, award, clock, "alpha", "beta", 500)  # the operator moves it all to beta
    # beta may not take alpha's 500 while alpha may still act on them.
    assert minutes(reconciled(session, clock, "beta"), award) == 500 * 60
    assert minutes(reconciled(session, clock, "alpha"), award) == 0
    assert minutes(reconciled(session, clock, "beta"), award) == HOURS * 60
