"""Booking reserved capacity for an award: validations naming the field, audit, unreserve, the
desired state it becomes, and the API's permissions (on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from computeport.audit.service import history
from computeport.award import lifecycle
from computeport.award.desired import desired_state
from computeport.award.presenters import award_read
from computeport.award.reservations import (
    Capacity,
    PartitionCapacity,
    ReservationIn,
    book_reservation,
    cancel_reservation,
    reservation_read,
)
from computeport.backends.sim import SimBackend, cyberport_inventory
from computeport.kit.clock import ManualClock
from computeport.kit.errors import Conflict, DomainError, ValidationFailed
from computeport.models.award import Award, AwardStatus
from computeport.models.identity import Organisation, Role
from computeport.models.reservation import AwardReservation
from computeport.settings import Settings
from tests.api.fixtures import World, build_api_app
from tests.api.permission_suite import Case, PermissionSuite, assert_problem
from tests.factories import award as fw

CAPACITY = Capacity("aisc", {"gpu": PartitionCapacity("gpu", 4, 8, "h800")})
DEC1 = datetime(2026, 12, 1, tzinfo=UTC)
DAY = timedelta(days=1)


def _body(**kw: Any) -> ReservationIn:
    base: dict[str, Any] = {
        "name": "pretrain",
        "partition": "gpu",
        "nodes": 2,
        "starts_at": DEC1,
        "ends_at": DEC1 + 2 * DAY,
    }
    base.update(kw)
    return ReservationIn.model_validate(base)


@pytest.fixture
def award(session: Session, clock: ManualClock) -> Award:
    return fw.approved_award(session, clock, fw.scheme(session))


def test_a_booking_is_stored_whole_nodes_and_audited(
    session: Session, clock: ManualClock, award: Award
) -> None:
    row = book_reservation(session, award.id, _body(nodes=None, gpus=16), None, clock, CAPACITY)
    assert (row.nodes, row.gpus, row.accelerator_type, row.cluster) == (2, 16, "h800", "aisc")
    read = reservation_read(row, clock.now())
    assert read.state == "booked"
    assert read.cluster_name == "cp_pretrain"
    assert read.reserved_gpu_seconds == 16 * 2 * 86_400
    [audit] = history(session, "award_reservation", row.id)
    assert audit.action == "reserved"
    assert "2 node(s) of gpu" in audit.reason


@pytest.mark.parametrize(
    ("kw", "field", "error"),
    [
        ({"starts_at": datetime(2026, 10, 20, tzinfo=UTC)}, "starts_at", ValidationFailed),
        ({"starts_at": datetime(2026, 9, 1, tzinfo=UTC)}, "starts_at", ValidationFailed),
        ({"ends_at": datetime(2028, 1, 1, tzinfo=UTC)}, "ends_at", ValidationFailed),
        ({"ends_at": DEC1}, "ends_at", ValidationFailed),
        ({"partition": "cpu"}, "partition", ValidationFailed),
        ({"accelerator_type": "a100"}, "accelerator_type", ValidationFailed),
        ({"gpus": 16}, "nodes", ValidationFailed),
        ({"nodes": None}, "nodes", ValidationFailed),
        ({"nodes": None, "gpus": 12}, "gpus", ValidationFailed),
        ({"nodes": 5}, "nodes", ValidationFailed),
    ],
)
def test_bad_bookings_name_the_field_and_write_nothing(
    session: Session,
    clock: ManualClock,
    award: Award,
    kw: dict[str, Any],
    field: str,
    error: type[DomainError],
) -> None:
    with pytest.raises(error) as exc:
        book_reservation(session, award.id, _body(**kw), None, clock, CAPACITY)
    assert exc.value.field == field
    assert session.scalar(select(func.count()).select_from(AwardReservation)) == 0


def test_names_overlaps_and_capacity_are_conflicts(
    session: Session, clock: ManualClock, award: Award
) -> None:
    book_reservation(session, award.id, _body(), None, clock, CAPACITY)
    with pytest.raises(Conflict) as exc:
        book_reservation(
            session,
            award.id,
            _body(starts_at=DEC1 + 5 * DAY, ends_at=DEC1 + 6 * DAY),
            None,
            clock,
            CAPACITY,
        )
    assert exc.value.field == "name"
    with pytest.raises(Conflict) as exc:
        book_reservation(
            session,
            award.id,
            _body(name="again", starts_at=DEC1 + DAY, ends_at=DEC1 + 3 * DAY),
            None,
            clock,
            CAPACITY,
        )
    assert exc.value.field == "starts_at"
    # back to back is no overlap (half-open windows)
    book_reservation(
        session,
        award.id,
        _body(name="next", starts_at=DEC1 + 2 * DAY, ends_at=DEC1 + 3 * DAY),
        None,
        clock,
        CAPACITY,
    )

    other = fw.approved_award(session, clock, fw.scheme(session))
    book_reservation(session, other.id, _body(name="theirs", nodes=2), None, clock, CAPACITY)
    third = fw.approved_award(session, clock, fw.scheme(session))
    with pytest.raises(Conflict) as exc:  # 2 + 2 of the 4 nodes are reserved on Dec 1
        book_reservation(session, third.id, _body(name="more", nodes=1), None, clock, CAPACITY)
    assert exc.value.field == "nodes"


def test_an_inactive_award_cannot_reserve(
    session: Session, clock: ManualClock, award: Award
) -> None:
    award.status = AwardStatus.SUSPENDED
    session.flush()
    with pytest.raises(Conflict) as exc:
        book_reservation(session, award.id, _body(), None, clock, CAPACITY)
    assert exc.value.field == "award_id"


def test_unreserve_cancels_before_the_start_and_cuts_short_inside_the_window(
    session: Session, clock: ManualClock, award: Award
) -> None:
    early = book_reservation(session, award.id, _body(name="early"), None, clock, CAPACITY)
    cancel_reservation(session, award.id, early.id, None, clock, "plans changed")
    assert reservation_read(early, clock.now()).state == "cancelled"
    assert reservation_read(early, clock.now()).reserved_gpu_seconds == 0
    with pytest.raises(Conflict):
        cancel_reservation(session, award.id, early.id, None, clock)

    late = book_reservation(session, award.id, _body(name="late"), None, clock, CAPACITY)
    clock.set(DEC1 + timedelta(hours=12))
    cancel_reservation(session, award.id, late.id, None, clock)
    assert late.ends_at == DEC1 + timedelta(hours=12)
    assert late.booked_ends_at == DEC1 + 2 * DAY
    assert reservation_read(late, clock.now()).reserved_gpu_seconds == 16 * 12 * 3600
    assert [a.action for a in history(session, "award_reservation", late.id)] == [
        "reserved",
        "unreserved",
    ]
    clock.set(DEC1 + 3 * DAY)
    with pytest.raises(Conflict):
        cancel_reservation(session, award.id, late.id, None, clock)


def test_the_desired_state_holds_the_live_bookings_only(
    session: Session, clock: ManualClock, award: Award
) -> None:
    book_reservation(session, award.id, _body(name="kept"), None, clock, CAPACITY)
    gone = book_reservation(
        session, award.id, _body(name="gone", starts_at=DEC1 + 5 * DAY, ends_at=DEC1 + 6 * DAY),
        None, clock, CAPACITY,
    )  # fmt: skip
    cancel_reservation(session, award.id, gone.id, None, clock)
    wanted = desired_state(session, clock.now())
    assert [(r.name, r.account, r.node_count) for r in wanted.reservations] == [
        ("cp_kept", award.slurm_account, 2)
    ]
    assert desired_state(session, DEC1 + 2 * DAY).reservations == ()  # ended


def test_an_ended_award_gives_its_reserved_nodes_back(
    session: Session, clock: ManualClock, award: Award
) -> None:
    running = book_reservation(session, award.id, _body(name="running"), None, clock, CAPACITY)
    later = book_reservation(
        session, award.id, _body(name="later", starts_at=DEC1 + 5 * DAY, ends_at=DEC1 + 6 * DAY),
        None, clock, CAPACITY,
    )  # fmt: skip
    clock.set(DEC1 + timedelta(hours=6))
    lifecycle.suspend(session, award.id, "co-payment overdue", None, clock)
    assert running.cancelled_at is None  # a suspension is lifted when paid: bookings stay
    assert {r.name for r in desired_state(session, clock.now()).reservations} == {
        "cp_running",
        "cp_later",
    }
    lifecycle.resume(session, award.id, "paid", None, clock)

    clock.set(DEC1 + timedelta(hours=12))
    lifecycle.terminate(session, award.id, "project abandoned", None, clock)
    assert running.ends_at == clock.now()  # cut short: charged (if at all) up to here
    assert running.booked_ends_at == DEC1 + 2 * DAY
    assert reservation_read(running, clock.now()).reserved_gpu_seconds == 16 * 12 * 3600
    assert reservation_read(later, clock.now()).state == "cancelled"
    assert desired_state(session, clock.now()).reservations == ()
    assert [a.action for a in history(session, "award_reservation", later.id)] == [
        "reserved",
        "unreserved",
    ]
    assert "terminated" in history(session, "award_reservation", later.id)[-1].reason


# ------------------------------------------------------------------------------------ the API


@pytest.fixture
def app(session: Session, db_engine: Engine, clock: ManualClock, api_settings: Settings) -> FastAPI:
    backend = SimBackend(cyberport_inventory(4, cluster="aisc"), clock)
    return build_api_app(session, db_engine, clock, api_settings, backend=backend)


def _json(**kw: Any) -> dict[str, Any]:
    body = {
        "name": "pretrain",
        "partition": "gpu",
        "nodes": 2,
        "starts_at": "2026-12-01T00:00:00Z",
        "ends_at": "2026-12-03T00:00:00Z",
    }
    body.update(kw)
    return body


class _Setup:
    def __init__(self, world: World) -> None:
        self.owner = world.actors.applicant()
        org = world.session.get_one(Organisation, next(iter(self.owner.subject.organisation_ids)))
        self.award = fw.approved_award(
            world.session, world.clock, fw.scheme(world.session), organisation=org
        )
        self.operator = world.actors.staff(Role.OPERATOR)


class TestReservationApiPermissions(PermissionSuite):
    cases = ("book", "list", "unreserve")

    def build(self, name: str, world: World) -> Case:
        s = _Setup(world)
        path = f"/api/v1/awards/{s.award.id}/reservations"
        other = world.actors.applicant()
        if name == "book":
            return Case(
                "POST", path, allowed=s.operator, json=_json(), expect=201,
                wrong_role=world.actors.staff(Role.COMMITTEE_MEMBER),
                other_org=other, other_org_status=403,
            )  # fmt: skip
        row = book_reservation(world.session, s.award.id, _body(), None, world.clock, CAPACITY)
        if name == "list":
            return Case("GET", path, allowed=s.owner, other_org=other)
        return Case(
            "DELETE", f"{path}/{row.id}", allowed=s.operator,
            wrong_role=s.owner, other_org=other, other_org_status=403,
        )  # fmt: skip

    def test_the_owner_reads_what_the_operator_booked(self, world: World, client: Any) -> None:
        s = _Setup(world)
        path = f"/api/v1/awards/{s.award.id}/reservations"
        made = client.post(path, json=_json(gpus=16, nodes=None), headers=s.operator.headers)
        assert made.status_code == 201, made.text
        assert made.json()["nodes"] == 2
        listed = client.get(path, headers=s.owner.headers).json()
        assert [(r["name"], r["state"], r["gpus"]) for r in listed] == [("pretrain", "booked", 16)]

    def test_bad_input_is_a_problem_naming_the_field(self, world: World, client: Any) -> None:
        s = _Setup(world)
        path = f"/api/v1/awards/{s.award.id}/reservations"
        body = assert_problem(
            client.post(path, json=_json(nodes=None, gpus=12), headers=s.operator.headers), 422
        )
        assert body["errors"][0]["field"] == "gpus"
        body = assert_problem(
            client.post(path, json=_json(name="Bad Name"), headers=s.operator.headers), 422
        )
        assert "name" in body["errors"][0]["field"]


def test_the_committee_decides_whether_reservations_are_charged(
    session: Session, clock: ManualClock
) -> None:
    charged = fw.approved_award(session, clock, fw.scheme(session), charge_reservations=True)
    assert charged.charge_reservations is True
    assert award_read(session, charged, clock.now()).charge_reservations is True
    plain = fw.approved_award(session, clock, fw.scheme(session))
    assert plain.charge_reservations is False
