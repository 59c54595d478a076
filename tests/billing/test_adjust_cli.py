"""``computeport billing adjust``: an operator's adjustment from the console, and bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from computeport.cli.main import app
from computeport.db.engine import make_engine, make_session_factory
from computeport.db.schema import create_schema
from computeport.ledger.queries import balance_map, unbalanced_journals
from computeport.models.adjustment import Adjustment
from computeport.models.identity import Organisation


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    engine = make_engine(url)
    create_schema(engine)
    engine.dispose()
    monkeypatch.setenv("COMPUTEPORT_DATABASE_URL", url)
    monkeypatch.setenv("COMPUTEPORT_ATTACHMENTS_DIR", str(tmp_path / "files"))
    runner = CliRunner()
    for args in (
        ["org", "create", "Harbour AI Ltd", "--category", "enterprise"],
        ["user", "create", "fin@aisc.hk", "--name", "Fin", "--posix", "fin", "--role", "operator"],
        ["user", "create", "fay@aisc.hk", "--name", "Fay", "--posix", "fay", "--role", "funder"],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
    return runner


ADJUST = [
    "billing", "adjust", "--org", "Harbour AI Ltd", "--amount", "-150.00",
    "--period", "2026-10", "--reason", "goodwill", "--key", "GW-1",
    "--now", "2026-11-05T00:00:00Z",
]  # fmt: skip


def _db(tmp_path: Path) -> tuple[int, dict[str, int]]:
    engine = make_engine(f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    try:
        with make_session_factory(engine)() as session:
            count = int(session.scalar(select(func.count()).select_from(Adjustment)) or 0)
            org_id = session.scalar(select(Organisation.id))
            assert unbalanced_journals(session) == []
            return count, {k: v for k, v in balance_map(session).items() if str(org_id) in k}
    finally:
        engine.dispose()


def test_an_operator_adjusts_once_and_a_replay_changes_nothing(
    cli: CliRunner, tmp_path: Path
) -> None:
    first = cli.invoke(app, [*ADJUST, "--as", "fin@aisc.hk"])
    assert first.exit_code == 0, first.output
    assert "posted GW-1" in first.output
    again = cli.invoke(app, [*ADJUST, "--as", "fin@aisc.hk"])
    assert again.exit_code == 0, again.output
    assert "already posted GW-1" in again.output
    count, balances = _db(tmp_path)
    assert count == 1
    assert list(balances.values()) == [-15_000]
    listed = cli.invoke(app, ["billing", "adjustments", "--period", "2026-10"])
    assert "GW-1" in listed.output


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (["--amount", "1.234"], "amount"),
        (["--amount", "ten"], "amount"),
        (["--target", "revenue"], "--target"),
        (["--reason", " "], "reason"),
        (["--period", "2026-13"], "period"),
        (["--key", "GW-1", "--amount", "-1.00"], "idempotency_key"),
        (["--org", "Nobody Ltd"], "--org"),
    ],
)
def test_bad_input_exits_2_with_a_message_naming_the_field(
    cli: CliRunner, tmp_path: Path, change: list[str], message: str
) -> None:
    if message == "idempotency_key":
        assert cli.invoke(app, [*ADJUST, "--as", "fin@aisc.hk"]).exit_code == 0
    result = cli.invoke(app, [*ADJUST, "--as", "fin@aisc.hk", *change])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert _db(tmp_path)[0] == (1 if message == "idempotency_key" else 0)


def test_only_an_operator_may_adjust(cli: CliRunner, tmp_path: Path) -> None:
    assert cli.invoke(app, ADJUST).exit_code == 2  # no --as: nobody to record
    refused = cli.invoke(app, [*ADJUST, "--as", "fay@aisc.hk"])
    assert refused.exit_code == 2
    assert "operator" in refused.output
    assert _db(tmp_path)[0] == 0
