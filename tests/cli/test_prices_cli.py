"""``computeport prices``: the README's walk (set the H800 price, schedule the next one) and every
bad input named, with exit code 2 and nothing written."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from computeport.db.engine import make_engine
from computeport.metering.jsonl import write_jsonl
from computeport.models.audit import AuditRecord
from computeport.models.identity import Organisation
from computeport.models.notification import OutboxMessage
from computeport.models.pricing import PriceChange, PriceVersion
from tests.factories import metering as fm
from tests.support.cli import count_rows, run, sqlite_cli

NOW = "2026-11-10T09:00:00Z"


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    return sqlite_cli(tmp_path, monkeypatch)


def _staff(cli: CliRunner) -> None:
    run(cli, "user", "create", "otto@aisc.hk", "--name", "Otto", "--posix", "otto",
        "--role", "operator")  # fmt: skip
    run(cli, "user", "create", "olive@aisc.hk", "--name", "Olive", "--posix", "olive",
        "--role", "scheme_officer")  # fmt: skip
    run(cli, "user", "create", "sam@aisc.hk", "--name", "Sam", "--posix", "sam",
        "--role", "operator", "--role", "scheme_officer")  # fmt: skip


def _draft(cli: CliRunner, *extra: str, code: int = 0) -> str:
    return run(
        cli, "prices", "draft", "--reason", "new tariff", "--as", "otto@aisc.hk",
        "--now", NOW, *extra, code=code,
    )  # fmt: skip


def test_an_operator_sets_the_h800_price_and_schedules_the_next(cli: CliRunner) -> None:
    _staff(cli)
    run(cli, "billing", "seed-prices", "--now", NOW)
    out = _draft(cli, "gpu-hour", "H800", "30.00", "--from", "2026-12-01")
    change = re.search(r"drafted price change ([0-9a-f-]{36})", out)
    assert change is not None
    # Not in force until approved (only listed as awaiting approval), and not by its drafter.
    pending = run(cli, "prices", "show", "--at", "2026-12-02", "--now", NOW)
    assert "HK$30.00 per GPU-hour" not in pending.split("awaiting approval")[0]
    assert "1 drafted change(s) awaiting approval" in pending
    refused = run(cli, "prices", "approve", change[1], "--as", "otto@aisc.hk", "--now", NOW,
                  code=2)  # fmt: skip
    assert "scheme_officer" in refused
    approved = run(cli, "prices", "approve", change[1], "--as", "olive@aisc.hk", "--now", NOW)
    assert "in force from 2026-12-01" in approved
    h800 = next(
        line for line in run(cli, "prices", "list", "--now", NOW).splitlines() if "h800" in line
    )
    # In force: the assumed HK$28.00; next: HK$30.00 from 1 December, announced with its date.
    assert re.search(
        r"HK\$28\.00 per GPU-hour \(assumed\).*HK\$30\.00 per GPU-hour.*2026-12-01", h800
    )
    later = run(cli, "prices", "show", "--at", "2026-12-15", "--now", NOW)
    h800_later = next(line for line in later.splitlines() if "h800" in line)
    assert re.search(r"gpu_hour.*h800.*HK\$30\.00 per GPU-hour\s.*2026-12-01", h800_later)
    assert count_rows(OutboxMessage) >= 2  # the operator and the officer hear of it
    assert count_rows(AuditRecord) == 2  # drafted, approved


def test_the_drafter_may_not_approve_even_holding_both_roles(cli: CliRunner) -> None:
    _staff(cli)
    run(cli, "billing", "seed-prices", "--now", NOW)
    out = run(cli, "prices", "draft", "gpu-hour", "h800", "31", "--from", "2026-12-01",
              "--reason", "r", "--as", "sam@aisc.hk", "--now", NOW)  # fmt: skip
    change = re.search(r"([0-9a-f-]{36})", out)
    assert change is not None
    refused = run(cli, "prices", "approve", change[1], "--as", "sam@aisc.hk", "--now", NOW,
                  code=2)  # fmt: skip
    assert "approved_by" in refused
    assert count_rows(PriceVersion) == 5  # the seed's h800 and four QOS factors, nothing more
    assert "reason" in run(cli, "prices", "reject", change[1], "--reason", " ",
                           "--as", "olive@aisc.hk", "--now", NOW, code=2)  # fmt: skip
    run(cli, "prices", "reject", change[1], "--reason", "not this year", "--as", "olive@aisc.hk",
        "--now", NOW)  # fmt: skip
    assert "awaiting approval" not in run(cli, "prices", "list", "--now", NOW)


def test_a_retroactive_approval_is_refused(cli: CliRunner) -> None:
    _staff(cli)
    run(cli, "billing", "seed-prices", "--now", NOW)
    out = _draft(cli, "gpu-hour", "h800", "30", "--from", "2026-11-11")
    change = re.search(r"([0-9a-f-]{36})", out)
    assert change is not None
    late = run(cli, "prices", "approve", change[1], "--as", "olive@aisc.hk",
               "--now", "2026-11-12T00:00:00Z", code=2)  # fmt: skip
    assert "valid_from" in late
    assert count_rows(PriceVersion) == 5


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("--from", "2026-12-01", "--", "gpu-hour", "h800", "-1"), "unit_price"),
        (("gpu-hour", "h800", "0", "--from", "2026-12-01"), "unit_price"),
        (("gpu-hour", "h800", "30", "--from", "2026-11-01"), "valid_from"),
        (("gpu-hour", "b300", "30", "--from", "2026-12-01"), "subject"),
        (("qos-multiplier", "platinum", "2", "--from", "2026-12-01"), "subject"),
        (("gpu-hour", "h800", "30", "--from", "2026-12-01", "--currency", "USD"), "currency"),
        (("tokens", "qwen-72b", "4", "--from", "2026-12-01"), "unit_price_output"),
        (("gpu-hour", "h800", "abc", "--from", "2026-12-01"), "PRICE"),
        (("gpu-hour", "h800", "30", "--from", "next week"), "--from"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(
    cli: CliRunner, args: tuple[str, ...], field: str
) -> None:
    _staff(cli)
    run(cli, "billing", "seed-prices", "--now", NOW)
    out = _draft(cli, *args, code=2)
    assert field in out
    assert count_rows(PriceChange) == 0
    assert count_rows(AuditRecord) == 0


def test_a_new_type_is_quarantined_with_the_fix_and_released_once_priced(
    cli: CliRunner, tmp_path: Path
) -> None:
    _staff(cli)
    run(cli, "billing", "seed-prices", "--now", NOW)
    run(cli, "org", "create", "Kit Ltd", "--category", "enterprise")
    engine = make_engine(os.environ["COMPUTEPORT_DATABASE_URL"])
    with Session(engine) as session:
        account = session.scalars(select(Organisation.slurm_account)).one()
    engine.dispose()
    usage = tmp_path / "usage.jsonl"
    end = datetime(2026, 11, 5, tzinfo=UTC)
    write_jsonl(usage, [fm.record(7, str(account), end=end, gpu_type="b200")])
    run(cli, "billing", "ingest", str(usage), "--now", NOW)
    held = run(cli, "billing", "quarantine", "--now", NOW)
    assert "computeport prices draft gpu-hour b200 PRICE --from 2026-11-05" in held
    assert "computeport billing quarantine --release" in held
    # Nothing is released while the type has no price.
    assert "released 0" in run(cli, "billing", "quarantine", "--release", "--now", NOW)
    out = run(
        cli, "prices", "draft", "gpu-hour", "b200", "45", "--from", "2026-11-01",
        "--reason", "first B200 price", "--as", "otto@aisc.hk", "--now", NOW,
    )  # fmt: skip
    change = re.search(r"([0-9a-f-]{36})", out)
    assert change is not None
    run(cli, "prices", "approve", change[1], "--as", "olive@aisc.hk", "--now", NOW)
    released = run(cli, "billing", "quarantine", "--release", "--now", NOW)
    assert "released 1 (rated: 1); still held 0" in released


def test_a_site_price_needs_a_site_and_cluster_the_centre_has(cli: CliRunner) -> None:
    _staff(cli)
    run(cli, "billing", "seed-prices", "--now", NOW)
    price = ("gpu-hour", "h800", "36.00", "--from", "2026-12-01")
    # No inventory loaded: no site is known, and a cluster only once its accounting is read.
    assert "unknown site 'sandy-ridge'" in _draft(cli, *price, "--site", "sandy-ridge", code=2)
    assert "unknown cluster 'sandy-ridge-a'" in _draft(
        cli, *price, "--cluster", "sandy-ridge-a", code=2
    )
    # A type the inventory lists is known before any job of it ran.
    assert "cn-accel-a" in _draft(cli, "gpu-hour", "cn-accel-a", "20", "--from", "2026-12-01",
                                  code=2)  # fmt: skip
    assert count_rows(PriceChange) == 0
    run(cli, "clusters", "load", str(Path(__file__).parents[2] / "deploy/inventory/cyberport.toml"))
    _draft(cli, "gpu-hour", "cn-accel-a", "20", "--from", "2026-12-01")
    _draft(cli, *price, "--site", "sandy-ridge")
    _draft(cli, *price, "--cluster", "sandy-ridge-a")
    wrong = _draft(cli, *price, "--site", "cyberport", "--cluster", "sandy-ridge-a", code=2)
    assert "is at site 'sandy-ridge'" in wrong
    assert "unknown site 'sandy'" in _draft(cli, *price, "--site", "sandy", code=2)
    assert count_rows(PriceChange) == 3
