"""``computeport award``: the committee's CLI on a real (SQLite file) database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from computeport.cli.main import app
from computeport.db.engine import make_engine, make_session_factory
from computeport.db.schema import create_schema
from computeport.models.application import Application, ApplicationStatus
from computeport.models.award import Award, AwardStatus
from tests.factories import award as fw


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[sessionmaker[Session]]:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("COMPUTEPORT_DATABASE_URL", url)
    engine = make_engine(url)
    create_schema(engine)
    yield make_session_factory(engine)
    engine.dispose()


def _application(factory: sessionmaker[Session]) -> str:
    with factory() as session, session.begin():
        scheme = fw.scheme(session, envelope_minor=5_000_00)
        return fw.application(session, scheme).reference


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_decide_expire_and_refuse_amending_an_ended_award(
    database: sessionmaker[Session],
) -> None:
    ref = _application(database)
    code, out = _run(
        "award", "decide", ref, "--approve", "--gpu-hours", "h800=1000",
        "--start", "2026-11-01", "--end", "2027-11-01", "--cap", "HK$1,000.00",
        "--now", "2026-10-01T00:00:00Z",
    )  # fmt: skip
    assert code == 0, out
    assert "HK$1,000.00" in out
    with database() as session:
        award = session.scalars(select(Award)).one()
        assert award.cap_minor == 1_000_00
        assert award.application_id is not None

    code, out = _run("award", "expire", "--now", "2027-11-01T00:00:00Z")
    assert code == 0, out
    assert "1 award(s) expired" in out
    with database() as session:
        assert session.scalars(select(Award)).one().status is AwardStatus.EXPIRED

    code, out = _run("award", "amend", award.reference, "--reason", "more", "--add-cap", "10")
    assert code == 2
    assert "expired" in out


def test_bad_input_exits_2_naming_the_field_and_writes_nothing(
    database: sessionmaker[Session],
) -> None:
    ref = _application(database)
    code, out = _run(
        "award", "decide", ref, "--approve", "--gpu-hours", "h800=1000",
        "--start", "2026-11-01", "--end", "2027-11-01", "--cap", "100",
        "--rate", "0.95", "--rate-reason", "exceptional",
    )  # fmt: skip
    assert code == 2
    assert "subsidy_rate" in out
    code, out = _run(
        "award", "decide", ref, "--approve", "--gpu-hours", "h800=1000",
        "--start", "2026-11-01", "--end", "2027-11-01", "--cap", "HK$6,000",
    )  # fmt: skip
    assert code == 2
    assert "HK$5,000.00 remaining" in out
    code, out = _run("award", "decide", ref, "--approve", "--gpu-hours", "h800:1000")
    assert code == 2
    assert "TYPE=GPU_HOURS" in out
    with database() as session:
        assert session.scalars(select(Award)).all() == []
        app_row = session.scalars(select(Application)).one()
        assert app_row.status is ApplicationStatus.RECOMMENDED
