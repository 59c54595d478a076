"""Slurm reservations: the parser on recorded ``scontrol`` output, the plan, the argv."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from computeport.backends import (
    AwardAllocation,
    BackendOutputInvalid,
    CreateAccount,
    CreateReservation,
    DeleteAccount,
    DeleteReservation,
    DesiredState,
    ReservedCapacity,
    UpdateReservation,
)
from computeport.backends.plan import ActualState, plan_changes
from computeport.backends.slurm.provisioning import actual_state_from, apply_change, change_argv
from computeport.backends.slurm.reservations import parse_reservations
from computeport.backends.slurm.runner import CommandResult, RetryPolicy, SlurmRunner
from computeport.kit.errors import ValidationFailed
from tests.backends.slurm.recorded_data import text

START = datetime(2026, 12, 1, tzinfo=UTC)
END = datetime(2026, 12, 3, tzinfo=UTC)


def _resv(**changes: Any) -> ReservedCapacity:
    """The test reservation with ``changes`` (any value: some tests pass bad ones)."""
    base = ReservedCapacity("cp_train-run", "resvtest", "gpu", 2, START, END, gpus=16)
    return replace(base, **changes)


def _desired(*resv: ReservedCapacity) -> DesiredState:
    return DesiredState(
        (AwardAllocation("resvtest", "org_a", frozenset({"alice"}), 600),), tuple(resv)
    )


def _actual(reservations: str) -> ActualState:
    return actual_state_from(
        text("sacctmgr-show-account.txt"),
        text("sacctmgr-show-assoc.txt"),
        text("sacctmgr-show-qos.txt"),
        text("sacctmgr-show-user.txt"),
        reservations,
    )


def test_parser_reads_computeports_reservations_and_skips_the_operators() -> None:
    parsed = parse_reservations(text("scontrol-show-reservation.txt"))
    assert list(parsed) == ["cp_train-run"]  # "maint" (an operator's) is not ours
    got = parsed["cp_train-run"]
    assert got.same_as(_resv())
    assert (got.account, got.partition, got.node_count) == ("resvtest", "gpu", 2)
    assert got.start == START
    assert got.end == END
    assert parse_reservations(text("scontrol-show-reservation-none.txt")) == {}
    [active] = parse_reservations(text("scontrol-show-reservation-active.txt")).values()
    assert (active.name, active.account, active.node_count) == ("cp_probe", "probea", 4)


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ("ReservationName=cp_x StartTime=2026-12-01T00:00:00 EndTime=soon NodeCnt=1 "
         "PartitionName=gpu Accounts=a", "EndTime"),
        ("ReservationName=cp_x StartTime=2026-12-01T00:00:00 EndTime=2026-12-02T00:00:00 "
         "NodeCnt=n/a PartitionName=gpu Accounts=a", "NodeCnt"),
        ("StartTime=2026-12-01T00:00:00", "ReservationName"),
    ],
)  # fmt: skip
def test_unreadable_output_names_the_field(line: str, field: str) -> None:
    with pytest.raises(BackendOutputInvalid) as exc:
        parse_reservations(line)
    assert exc.value.field == field


def test_plan_creates_then_is_a_no_op_against_what_slurm_shows() -> None:
    empty = _actual("No reservations in the system\n")
    plan = plan_changes(_desired(_resv()), empty)
    assert [c for c in plan.changes if isinstance(c, CreateReservation)] == [
        CreateReservation(_resv())
    ]
    # the account comes before the reservation that names it
    kinds = [type(c) for c in plan.changes]
    assert kinds.index(CreateAccount) < kinds.index(CreateReservation)

    shown = _actual(text("scontrol-show-reservation.txt"))
    plan = plan_changes(_desired(_resv()), shown)
    assert not [c for c in plan.changes if "Reservation" in type(c).__name__]


def test_changed_window_is_an_update_and_a_dropped_one_a_delete_of_ours_only() -> None:
    shown = _actual(text("scontrol-show-reservation.txt"))
    later = _resv(end=END + timedelta(hours=6))
    changes = plan_changes(_desired(later), shown).changes
    updates = [c for c in changes if isinstance(c, UpdateReservation)]
    assert len(updates) == 1
    assert updates[0].after == later

    changes = plan_changes(_desired(), shown).changes
    deletes = [c for c in changes if isinstance(c, DeleteReservation)]
    assert deletes == [DeleteReservation("cp_train-run")]  # never "maint"


def test_reservations_go_before_their_award_account_is_deleted() -> None:
    shown = _actual(text("scontrol-show-reservation.txt"))
    changes = plan_changes(DesiredState(), shown).changes
    kinds = [type(c) for c in changes]
    assert DeleteReservation in kinds
    assert DeleteAccount in kinds
    assert kinds.index(DeleteReservation) < kinds.index(DeleteAccount)


def test_argv_is_plain_words_and_an_update_moves_the_start_only_when_it_changed() -> None:
    assert change_argv(CreateReservation(_resv()), "cpci") == [
        "scontrol", "create", "reservation", "ReservationName=cp_train-run",
        "Accounts=resvtest", "StartTime=2026-12-01T00:00:00", "EndTime=2026-12-03T00:00:00",
        "NodeCnt=2", "PartitionName=gpu", "Flags=MAGNETIC",
    ]  # fmt: skip
    cut = _resv(end=END - timedelta(hours=1))
    argv = change_argv(UpdateReservation(_resv(), cut), "cpci")
    assert "EndTime=2026-12-02T23:00:00" in argv
    assert not any(a.startswith("StartTime=") for a in argv)
    moved = _resv(start=START + timedelta(hours=1))
    assert "StartTime=2026-12-01T01:00:00" in change_argv(UpdateReservation(_resv(), moved), "c")
    assert change_argv(DeleteReservation("cp_train-run"), "c") == [
        "scontrol", "delete", "ReservationName=cp_train-run",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("change", "stderr"),
    [
        (CreateReservation(_resv()), "Error creating the reservation: Duplicate reservation name"),
        (
            DeleteReservation("cp_train-run"),
            "delete_reservation ReservationName=cp_train-run: Requested reservation is invalid",
        ),
    ],
)
def test_applying_twice_is_harmless(change: CreateReservation, stderr: str) -> None:
    def executor(
        argv: Sequence[str], timeout: float, input_text: str | None, env: Mapping[str, str]
    ) -> CommandResult:
        return CommandResult(tuple(argv), 1, "", stderr)

    runner = SlurmRunner(executor=executor, retry=RetryPolicy(attempts=1))
    apply_change(runner, change, "cpci")  # no error


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"name": "train-run"}, "name"),
        ({"node_count": 0}, "node_count"),
        ({"end": START}, "end"),
        ({"start": datetime(2026, 12, 1)}, "start"),
    ],
)
def test_bad_reservations_name_the_field(kw: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        _resv(**kw)
    assert exc.value.field == field


def test_a_reservation_for_no_desired_award_is_refused() -> None:
    with pytest.raises(ValidationFailed) as exc:
        DesiredState((), (_resv(),))
    assert exc.value.field == "account"
    with pytest.raises(ValidationFailed) as exc:
        _desired(_resv(), _resv())
    assert exc.value.field == "name"
