"""``computeport award reserve | reservations | unreserve`` on a real (SQLite file) database.

The deployment's back end is the embedded virtual cluster, so bookings are checked against its
inventory (the Cyberport scenario: partition ``gpu`` of 380 nodes × 8 H800).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from computeport.audit.service import history
from computeport.cli.main import app
from computeport.db.engine import make_engine, make_session_factory
from computeport.db.schema import create_schema
from computeport.kit.clock import ManualClock
from computeport.models.award import Award
from computeport.models.reservation import AwardReservation
from tests.factories import award as fw

NOW = "2026-10-01T00:00:00Z"


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[sessionmaker[Session]]:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("COMPUTEPORT_DATABASE_URL", url)
    monkeypatch.setenv("COMPUTEPORT_BACKEND", "sim")
    engine = make_engine(url)
    create_schema(engine)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def award_ref(database: sessionmaker[Session]) -> str:
    with database() as session, session.begin():
        clock = ManualClock(datetime(2026, 10, 1, tzinfo=UTC))
        return fw.approved_award(session, clock, fw.scheme(session)).reference


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def _reserve(ref: str, *extra: str) -> tuple[int, str]:
    return _run(
        "award", "reserve", ref, "--name", "pretrain", "--partition", "gpu",
        "--start", "2026-12-01T00:00:00Z", "--end", "2026-12-03T00:00:00Z", "--now", NOW, *extra,
    )  # fmt: skip


def test_reserve_list_and_unreserve(database: sessionmaker[Session], award_ref: str) -> None:
    code, out = _reserve(award_ref, "--gpus", "32", "--reason", "LLM pre-training")
    assert code == 0, out
    assert "4 node(s) (32 h800 GPUs) of gpu" in out

    code, out = _run("award", "reservations", award_ref, "--now", NOW)
    assert code == 0, out
    assert "pretrain" in out
    assert "booked" in out
    assert "1,536.0" in out  # 32 GPUs × 48 h

    code, out = _run("award", "unreserve", award_ref, "pretrain", "--now", NOW)
    assert code == 0, out
    assert "pretrain: cancelled" in out
    with database() as session:
        row = session.scalars(select(AwardReservation)).one()
        assert row.cancelled_at is not None
        assert [a.action for a in history(session, "award_reservation", row.id)] == [
            "reserved",
            "unreserved",
        ]


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        (("--gpus", "12"), "(gpus)"),
        (("--nodes", "1", "--gpus", "8"), "(nodes)"),
        (("--nodes", "1", "--partition", "cpu"), "(partition)"),
        (("--nodes", "0"), "--nodes"),
        (("--nodes", "1", "--end", "tomorrow"), "--end"),
        (("--nodes", "1", "--name", "Not Valid"), "--name"),
    ],
)
def test_bad_input_exits_2_naming_the_field_and_writes_nothing(
    database: sessionmaker[Session], award_ref: str, extra: tuple[str, ...], says: str
) -> None:
    code, out = _reserve(award_ref, *extra)
    assert code == 2, out
    assert says in out
    with database() as session:
        assert session.scalars(select(AwardReservation)).all() == []


def test_unreserving_what_is_not_there_exits_2(
    database: sessionmaker[Session], award_ref: str
) -> None:
    code, out = _run("award", "unreserve", award_ref, "nothing", "--now", NOW)
    assert code == 2
    assert "no reservation 'nothing'" in out


def test_the_decision_can_say_reservations_are_charged(database: sessionmaker[Session]) -> None:
    with database() as session, session.begin():
        ref = fw.application(session, fw.scheme(session)).reference
    code, out = _run(
        "award", "decide", ref, "--approve", "--gpu-hours", "h800=1000",
        "--start", "2026-11-01", "--end", "2027-11-01", "--cap", "HK$1,000.00",
        "--charge-reservations", "--now", NOW,
    )  # fmt: skip
    assert code == 0, out
    with database() as session:
        assert session.scalars(select(Award)).one().charge_reservations is True
