"""Award shares: moves keep Σ shares + reserve = award, shrink first, and refuse bad input."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from computeport.award.amend import top_up
from computeport.award.places import set_places
from computeport.award.schemas import AmendmentIn
from computeport.award.shares import RESERVE, move_hours, show_shares
from computeport.kit.clock import ManualClock
from computeport.kit.errors import Conflict, DomainError, ValidationFailed
from computeport.models.award import AmendmentKind, Award, AwardAmendment
from computeport.models.award_share import AwardShareMove
from tests.award.share_centre import load_centre
from tests.award.share_centre import move as move_any
from tests.factories import award as fw

HOURS = 100_000
PLACES = (RESERVE, "alpha", "beta", "ridge")


def move(session: Session, award: Award, clock: ManualClock, src: str, dst: str, h: int) -> None:
    move_any(session, award, clock, src, dst, h, "rebalance")


@pytest.fixture
def award(session: Session, clock: ManualClock) -> Award:
    load_centre(session, clock)
    return fw.approved_award(session, clock, fw.scheme(session), gpu_hours=HOURS)


def split(session: Session, award: Award) -> tuple[int, dict[str, int]]:
    (line,) = show_shares(session, award.id).lines
    return line.reserve, line.shares


def test_a_new_award_is_all_in_the_reserve_and_eligible_on_every_h800_cluster(
    session: Session, award: Award
) -> None:
    view = show_shares(session, award.id)
    (line,) = view.lines
    assert (line.accelerator_type, line.gpu_hours, line.reserve, line.shares) == (
        "h800",
        HOURS,
        HOURS,
        {},
    )
    assert line.eligible == ("alpha", "beta", "ridge")  # not domestic: another type
    assert view.places == ()


def test_a_move_shrinks_one_grows_the_other_and_is_an_audited_amendment(
    session: Session, award: Award, clock: ManualClock
) -> None:
    move(session, award, clock, RESERVE, "alpha", 60_000)
    move(session, award, clock, "alpha", "ridge", 20_000)
    assert split(session, award) == (40_000, {"alpha": 40_000, "ridge": 20_000})
    moves = session.scalars(select(AwardShareMove).where(AwardShareMove.award_id == award.id))
    assert [(m.source, m.target, m.gpu_hours) for m in moves] == [
        (RESERVE, "alpha", 60_000),
        ("alpha", "ridge", 20_000),
    ]
    kinds = session.scalars(
        select(AwardAmendment.reason).where(
            AwardAmendment.award_id == award.id, AwardAmendment.kind == AmendmentKind.SHARE_MOVE
        )
    ).all()
    assert kinds[-1] == "20000 h800 GPU-hours alpha → ridge: rebalance"


def test_a_top_up_lands_in_the_reserve(session: Session, award: Award, clock: ManualClock) -> None:
    move(session, award, clock, RESERVE, "beta", HOURS)
    data = AmendmentIn.model_validate(
        {
            "kind": "top_up",
            "reason": "more",
            "lines": [{"accelerator_type": "h800", "gpu_hours": 500}],
        }
    )
    top_up(session, award.id, data, None, clock)
    assert split(session, award) == (500, {"beta": HOURS})


@pytest.mark.parametrize(
    ("src", "dst", "hours", "reason", "field", "error"),
    [
        (RESERVE, "alpha", 0, "r", "hours", ValidationFailed),
        (RESERVE, "alpha", -5, "r", "hours", ValidationFailed),
        (RESERVE, "alpha", 10, "  ", "reason", ValidationFailed),
        (RESERVE, RESERVE, 10, "r", "to", ValidationFailed),
        (RESERVE, "domestic", 10, "r", "to", ValidationFailed),  # another accelerator type
        (RESERVE, "nowhere", 10, "r", "to", ValidationFailed),
        ("beta", "alpha", 10, "r", "from", ValidationFailed),  # no share on beta
        (RESERVE, "alpha", HOURS + 1, "r", "hours", Conflict),  # over-commit
    ],
)
def test_bad_moves_name_the_field_and_change_nothing(
    session: Session,
    award: Award,
    clock: ManualClock,
    src: str,
    dst: str,
    hours: int,
    reason: str,
    field: str,
    error: type[DomainError],
) -> None:
    with pytest.raises(error) as caught:
        move_hours(
            session,
            award.id,
            source=src,
            target=dst,
            hours=hours,
            reason=reason,
            actor_id=None,
            clock=clock,
        )
    assert caught.value.field == field
    assert split(session, award) == (HOURS, {})
    assert session.scalar(select(func.count()).select_from(AwardShareMove)) == 0


def test_an_award_limited_to_a_site_takes_shares_only_there(
    session: Session, award: Award, clock: ManualClock
) -> None:
    set_places(
        session,
        award.id,
        sites=["sandy-ridge"],
        reason="the team is at Sandy Ridge",
        actor_id=None,
        clock=clock,
    )
    view = show_shares(session, award.id)
    assert view.places == ("site:sandy-ridge",)
    assert view.lines[0].eligible == ("ridge",)
    with pytest.raises(ValidationFailed, match="outside the award's places") as caught:
        move(session, award, clock, RESERVE, "alpha", 10)
    assert caught.value.field == "to"
    move(session, award, clock, RESERVE, "ridge", 10)
    # A limit that would strand hours is refused, and the old places stay.
    with pytest.raises(Conflict) as refused:
        set_places(session, award.id, clusters=["alpha"], reason="r", actor_id=None, clock=clock)
    assert refused.value.field == "clusters"
    assert show_shares(session, award.id).places == ("site:sandy-ridge",)
    with pytest.raises(ValidationFailed) as unknown:
        set_places(session, award.id, sites=["mars"], reason="r", actor_id=None, clock=clock)
    assert unknown.value.field == "sites.0"


MOVES = st.lists(
    st.tuples(st.sampled_from(PLACES), st.sampled_from(PLACES), st.integers(-10, HOURS + 10)),
    max_size=12,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(moves=MOVES)
def test_any_sequence_of_moves_keeps_the_sum_and_never_over_commits(
    session: Session, award: Award, clock: ManualClock, moves: list[tuple[str, str, int]]
) -> None:
    """A model of the split follows the same moves; the database must agree with it."""
    with session.begin_nested() as outer:
        model = dict.fromkeys(PLACES, 0)
        model[RESERVE] = HOURS
        for src, dst, hours in moves:
            legal = src != dst and 0 < hours <= model[src] and (src == RESERVE or model[src] > 0)
            try:
                with session.begin_nested():
                    move(session, award, clock, src, dst, hours)
            except DomainError:
                assert not legal, (src, dst, hours, model)
            else:
                assert legal, (src, dst, hours, model)
                model[src] -= hours
                model[dst] += hours
            reserve, shares = split(session, award)
            assert reserve + sum(shares.values()) == HOURS
            assert min([reserve, *shares.values()]) >= 0
            assert reserve == model[RESERVE]
            assert {k: v for k, v in shares.items() if v} == {
                k: v for k, v in model.items() if k != RESERVE and v
            }
        outer.rollback()


OPS = st.lists(
    st.one_of(
        st.tuples(
            st.just("move"), st.sampled_from(PLACES), st.sampled_from(PLACES), st.integers(1, HOURS)
        ),
        st.tuples(st.just("top_up"), st.just(RESERVE), st.just(RESERVE), st.integers(1, 5_000)),
    ),
    max_size=10,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=OPS)
def test_top_ups_between_moves_land_in_the_reserve_and_keep_the_sum(
    session: Session, award: Award, clock: ManualClock, ops: list[tuple[str, str, str, int]]
) -> None:
    with session.begin_nested() as outer:
        total = HOURS
        for op, src, dst, hours in ops:
            before_reserve, before_shares = split(session, award)
            if op == "top_up":
                data = AmendmentIn.model_validate(
                    {
                        "kind": "top_up",
                        "reason": "more",
                        "lines": [{"accelerator_type": "h800", "gpu_hours": hours}],
                    }
                )
                top_up(session, award.id, data, None, clock)
                total += hours
                assert split(session, award) == (before_reserve + hours, before_shares)
            else:
                try:
                    with session.begin_nested():
                        move(session, award, clock, src, dst, hours)
                except DomainError:
                    assert split(session, award) == (before_reserve, before_shares)
            reserve, shares = split(session, award)
            (line,) = show_shares(session, award.id).lines
            assert line.gpu_hours == total == reserve + sum(shares.values())
        outer.rollback()
