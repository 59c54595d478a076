"""The shrink floor: a cluster's share never falls below what the award used there plus what
its running and queued jobs there have reserved; such a move is a Conflict naming ``hours``
and changes nothing (no share, no move row, no amendment)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from computeport.award.shares import RESERVE, move_hours, share_floor, show_shares
from computeport.kit.clock import ManualClock
from computeport.kit.errors import Conflict
from computeport.models.award import Award, AwardAmendment
from computeport.models.award_share import AwardShareMove
from computeport.models.metering import UsageRecord
from tests.award.share_centre import load_centre
from tests.factories import award as fw

HOURS = 10_000


@pytest.fixture
def award(session: Session, clock: ManualClock) -> Award:
    load_centre(session, clock)
    made = fw.approved_award(session, clock, fw.scheme(session), gpu_hours=HOURS)
    move_hours(
        session, made.id, source=RESERVE, target="alpha", hours=1_000, reason="place",
        actor_id=None, clock=clock,
    )  # fmt: skip
    return made


def _use(session: Session, award: Award, clock: ManualClock, job: str, gpu_seconds: int) -> None:
    """One usage record of the award on alpha (a later one for ``job`` is a correction)."""
    end = clock.now()
    session.add(
        UsageRecord(
            cluster="alpha", job_id=job, submit_time=end - timedelta(hours=2),
            digest=f"d{gpu_seconds}", account=award.slurm_account, user_name="alice",
            partition="gpu", qos="normal", accelerator_type="h800", gpus=8,
            start_time=end - timedelta(hours=1), end_time=end, state="COMPLETED",
            gpu_seconds=gpu_seconds, ingested_at=end,
        )
    )  # fmt: skip
    session.flush()


def _counts(session: Session) -> tuple[int, int]:
    moves = session.scalar(select(func.count()).select_from(AwardShareMove)) or 0
    amendments = session.scalar(select(func.count()).select_from(AwardAmendment)) or 0
    return moves, amendments


def test_the_floor_is_used_hours_rounded_up_plus_committed_the_latest_version_counting(
    session: Session, award: Award, clock: ManualClock
) -> None:
    _use(session, award, clock, "1", 100 * 3600)
    _use(session, award, clock, "1", 200 * 3600 + 1)  # a correction supersedes the first
    _use(session, award, clock, "2", 50 * 3600)
    (line,) = award.lines
    assert share_floor(session, award, line, "alpha") == 251
    assert share_floor(session, award, line, "alpha", {"alpha": 40, "beta": 9}) == 291
    assert share_floor(session, award, line, "beta", {"alpha": 40}) == 0


def test_a_shrink_below_the_floor_is_a_conflict_on_hours_and_changes_nothing(
    session: Session, award: Award, clock: ManualClock
) -> None:
    _use(session, award, clock, "1", 600 * 3600)
    before = _counts(session)
    with pytest.raises(Conflict) as caught:
        move_hours(
            session, award.id, source="alpha", target="beta", hours=301, reason="too much",
            actor_id=None, clock=clock, committed={"alpha": 100},
        )  # fmt: skip
    assert caught.value.field == "hours"
    assert "at most 300" in str(caught.value)
    (line,) = show_shares(session, award.id).lines
    assert (line.reserve, line.shares) == (HOURS - 1_000, {"alpha": 1_000})
    assert _counts(session) == before
    # Down to the floor exactly is allowed.
    move_hours(
        session, award.id, source="alpha", target="beta", hours=300, reason="the rest",
        actor_id=None, clock=clock, committed={"alpha": 100},
    )  # fmt: skip
    (line,) = show_shares(session, award.id).lines
    assert line.shares == {"alpha": 700, "beta": 300}


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    used=st.integers(min_value=0, max_value=1_200 * 3600),
    committed=st.integers(min_value=0, max_value=1_200),
    hours=st.integers(min_value=1, max_value=1_000),
)
def test_any_move_out_leaves_at_least_the_floor_or_changes_nothing(
    session: Session, award: Award, clock: ManualClock, used: int, committed: int, hours: int
) -> None:
    nested = session.begin_nested()
    try:
        _use(session, award, clock, "p", used)
        floor = -(-used // 3600) + committed

        def attempt() -> None:
            move_hours(
                session, award.id, source="alpha", target=RESERVE, hours=hours, reason="p",
                actor_id=None, clock=clock, committed={"alpha": committed},
            )  # fmt: skip

        if 1_000 - hours < floor:
            with pytest.raises(Conflict) as caught:
                attempt()
            assert caught.value.field == "hours"
            assert show_shares(session, award.id).lines[0].shares == {"alpha": 1_000}
        else:
            attempt()
            assert show_shares(session, award.id).lines[0].shares["alpha"] == 1_000 - hours
    finally:
        nested.rollback()
