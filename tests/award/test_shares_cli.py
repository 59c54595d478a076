"""``computeport award shares show | move`` on a real (SQLite file) database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from computeport.cli import common
from computeport.cli.main import app
from computeport.db.engine import make_engine, make_session_factory
from computeport.db.schema import create_schema
from computeport.kit.clock import ManualClock
from computeport.models.award_share import AwardShare, AwardShareMove
from computeport.models.centre import CentreCluster
from computeport.models.identity import Role
from tests.award.share_centre import load_centre
from tests.factories import award as fw
from tests.factories import identity as fi

NOW = "2026-11-02T00:00:00Z"
OPERATOR = "ops@centre.example"
MEMBER = "member@uni.example"


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[sessionmaker[Session]]:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("COMPUTEPORT_DATABASE_URL", url)
    monkeypatch.setattr(common.console, "width", 200)  # made at import: COLUMNS is too late
    engine = make_engine(url)
    create_schema(engine)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def award_ref(database: sessionmaker[Session]) -> str:
    with database() as session, session.begin():
        clock = ManualClock(datetime(2026, 10, 1, tzinfo=UTC))
        load_centre(session, clock)
        fi.user(session, email=OPERATOR, roles=(Role.OPERATOR,))
        fi.user(session, email=MEMBER, roles=(Role.FUNDER,))
        return fw.approved_award(session, clock, fw.scheme(session), gpu_hours=1000).reference


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def move(ref: str, *extra: str) -> tuple[int, str]:
    return run("award", "shares", "move", ref, "--as", OPERATOR, "--now", NOW, *extra)


def counts(database: sessionmaker[Session]) -> tuple[int, int]:
    with database() as session:
        return (
            session.scalar(select(func.count()).select_from(AwardShareMove)) or 0,
            session.scalar(select(func.count()).select_from(AwardShare)) or 0,
        )


def test_move_then_show(award_ref: str) -> None:
    code, out = move(
        award_ref, "--from", "reserve", "--to", "ridge", "--hours", "600", "--reason", "team moved"
    )
    assert code == 0, out
    assert "moved 600 h800 GPU-hours" in out
    code, out = run("award", "shares", "show", award_ref)
    assert code == 0, out
    rows = [" ".join(line.split("│")).split() for line in out.splitlines() if "h800" in line]
    assert ["h800", "ridge", "600"] in rows
    assert ["h800", "reserve", "400"] in rows
    assert "open (any cluster)" in out
    assert "h800 may be placed on: alpha, beta, ridge" in out


@pytest.mark.parametrize(
    ("extra", "option"),
    [
        (("--from", "reserve", "--to", "ridge", "--hours", "ten"), "--hours"),
        (("--from", "reserve", "--to", "ridge", "--hours", "0"), "--hours"),
        (("--from", "reserve", "--to", "ridge", "--hours", "1001"), "--hours"),
        (("--from", "reserve", "--to", "domestic", "--hours", "5"), "--to"),
        (("--from", "alpha", "--to", "ridge", "--hours", "5"), "--from"),
        (("--from", "reserve", "--to", "ridge", "--hours", "5", "--type", "a100"), "--type"),
    ],
)
def test_bad_input_names_the_option_exits_2_and_writes_nothing(
    award_ref: str, database: sessionmaker[Session], extra: tuple[str, ...], option: str
) -> None:
    code, out = move(award_ref, *extra, "--reason", "r")
    assert code == 2, out
    assert f"error: {option}:" in " ".join(out.split())
    assert counts(database) == (0, 0)


def test_an_empty_reason_and_a_wrong_role_are_refused(
    award_ref: str, database: sessionmaker[Session]
) -> None:
    code, out = move(
        award_ref, "--from", "reserve", "--to", "ridge", "--hours", "5", "--reason", " "
    )
    assert (code, "--reason" in out) == (2, True)
    code, out = run(
        "award",
        "shares",
        "move",
        award_ref,
        "--as",
        MEMBER,
        "--from",
        "reserve",
        "--to",
        "ridge",
        "--hours",
        "5",
        "--reason",
        "r",
    )
    assert code == 2
    assert "operator" in out
    assert counts(database) == (0, 0)


def test_limit_to_a_site_then_moves_outside_it_are_refused(award_ref: str) -> None:
    code, out = run(
        "award",
        "shares",
        "limit",
        award_ref,
        "--site",
        "sandy-ridge",
        "--reason",
        "team at Sandy Ridge",
        "--as",
        OPERATOR,
    )
    assert code == 0, out
    assert "places: site:sandy-ridge" in out
    code, out = move(
        award_ref, "--from", "reserve", "--to", "alpha", "--hours", "5", "--reason", "r"
    )
    assert code == 2
    assert "--to:" in out
    code, out = run(
        "award",
        "shares",
        "limit",
        award_ref,
        "--cluster",
        "nowhere",
        "--reason",
        "r",
        "--as",
        OPERATOR,
    )
    assert code == 2
    assert "--cluster:" in out
    code, out = run(
        "award", "shares", "limit", award_ref, "--reason", "open again", "--as", OPERATOR
    )
    assert (code, "open (any cluster)" in out) == (0, True)


def test_a_move_off_a_slurm_cluster_asks_its_controller_and_stops_when_it_is_silent(
    award_ref: str, database: sessionmaker[Session]
) -> None:
    """The CLI keeps the floor as the API does: it asks the source's controller what the
    award's queued and running jobs reserve there.  beta's controller (a slurm.conf that does
    not exist) cannot be asked, so nothing moves on a guess."""
    with database() as session, session.begin():  # a short timeout, so the test is quick
        beta = session.scalars(select(CentreCluster).where(CentreCluster.name == "beta")).one()
        beta.connection = {**beta.connection, "timeout_seconds": 0.5}
    code, out = move(
        award_ref, "--from", "reserve", "--to", "beta", "--hours", "100", "--reason", "r"
    )
    assert code == 0, out  # growing a share asks nobody
    code, out = move(award_ref, "--from", "beta", "--to", "ridge", "--hours", "10", "--reason", "r")
    text = " ".join(out.split())
    assert code == 2, out
    assert "error: --from: beta's controller did not answer" in text
    assert "nothing moved" in text
    assert counts(database) == (1, 1)  # the first move only


def test_a_move_off_a_virtual_cluster_says_what_it_cannot_see(
    award_ref: str, database: sessionmaker[Session]
) -> None:
    code, out = move(
        award_ref, "--from", "reserve", "--to", "alpha", "--hours", "100", "--reason", "r"
    )
    assert code == 0, out
    code, out = move(
        award_ref, "--from", "alpha", "--to", "ridge", "--hours", "10", "--reason", "r"
    )
    assert code == 0, out
    text = " ".join(out.split())
    assert "note: alpha is a virtual cluster run by the API process" in text
    assert "moved 10 h800 GPU-hours" in text
    assert counts(database) == (2, 2)
