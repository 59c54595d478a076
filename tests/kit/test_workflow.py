"""The generic transition table: legal moves pass, illegal ones name both states."""

from __future__ import annotations

import enum

import pytest
from hypothesis import given
from hypothesis import strategies as st

from computeport.kit.errors import IllegalTransition
from computeport.kit.workflow import TransitionTable


class Light(enum.StrEnum):
    RED = "red"
    GREEN = "green"
    AMBER = "amber"
    OFF = "off"


TABLE = TransitionTable.of(
    "light",
    {
        Light.RED: [Light.GREEN, Light.OFF],
        Light.GREEN: [Light.AMBER, Light.OFF],
        Light.AMBER: [Light.RED, Light.OFF],
    },
    reason_required=[(Light.GREEN, Light.OFF)],
)


class TestTransitionTable:
    def test_legal_move_passes(self) -> None:
        TABLE.check(Light.RED, Light.GREEN)

    def test_illegal_move_names_both_states_and_the_allowed_ones(self) -> None:
        with pytest.raises(IllegalTransition) as info:
            TABLE.check(Light.RED, Light.AMBER)
        assert "red" in info.value.message
        assert "amber" in info.value.message
        assert "green, off" in info.value.message
        assert info.value.extra == {"from_state": "red", "to_state": "amber"}
        assert info.value.status_code == 409

    def test_terminal_state_says_so(self) -> None:
        assert TABLE.is_terminal(Light.OFF)
        with pytest.raises(IllegalTransition, match="final state"):
            TABLE.check(Light.OFF, Light.RED)

    def test_reason_required(self) -> None:
        with pytest.raises(IllegalTransition, match="needs a reason"):
            TABLE.check(Light.GREEN, Light.OFF, reason="  ")
        TABLE.check(Light.GREEN, Light.OFF, reason="maintenance")

    def test_guard_blocks_with_its_reason(self) -> None:
        guarded = TABLE.guard(
            Light.RED, Light.GREEN, lambda ctx: None if ctx == "clear" else "crossing busy"
        )
        guarded.check(Light.RED, Light.GREEN, context="clear")
        with pytest.raises(IllegalTransition, match="crossing busy"):
            guarded.check(Light.RED, Light.GREEN, context="busy")
        # The original table is unchanged (tables are values).
        TABLE.check(Light.RED, Light.GREEN, context="busy")

    def test_guarding_a_missing_move_is_a_programming_error(self) -> None:
        with pytest.raises(ValueError, match="no move"):
            TABLE.guard(Light.OFF, Light.RED, lambda _ctx: None)

    def test_reason_on_missing_move_is_a_programming_error(self) -> None:
        with pytest.raises(ValueError, match="do not exist"):
            TransitionTable.of(
                "x", {Light.RED: [Light.GREEN]}, reason_required=[(Light.OFF, Light.RED)]
            )

    def test_states_and_targets(self) -> None:
        assert TABLE.states() == set(Light)
        assert TABLE.targets(Light.GREEN) == [Light.AMBER, Light.OFF]

    @given(st.sampled_from(Light), st.sampled_from(Light))
    def test_check_agrees_with_allowed(self, source: Light, target: Light) -> None:
        if TABLE.allowed(source, target):
            TABLE.check(source, target, reason="because")
        else:
            with pytest.raises(IllegalTransition):
                TABLE.check(source, target, reason="because")
