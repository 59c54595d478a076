"""An accelerator type without a price in force: ``clusters check`` names the line (exit 2)
when given the database, warns when not; the server refuses to start with the same message."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from computeport.api.app import open_app_state
from computeport.cli import serve
from computeport.cli.main import app
from computeport.db.engine import make_engine
from computeport.inventory.errors import InventoryInvalid
from computeport.kit.clock import ManualClock
from computeport.models.pricing import PriceKind
from computeport.pricing.service import append_version
from computeport.settings import Settings
from tests.inventory.inventory_files import CYBERPORT, cyberport_text, line_number
from tests.support.cli import sqlite_cli

SECRET = "price-gate-test-secret-key-not-the-published-default-0123456789"


def _price_h800(url: str) -> None:
    """The centre's H800 price since 2024: Sandy Ridge's accelerator type stays unpriced."""
    engine = make_engine(url)
    with Session(engine) as session, session.begin():
        append_version(
            session,
            ManualClock(datetime(2024, 9, 1, tzinfo=UTC)),
            PriceKind.GPU_HOUR,
            "h800",
            Decimal("30"),
            datetime(2024, 10, 1, tzinfo=UTC),
        )
    engine.dispose()


def _expected_line() -> str:
    line = line_number(cyberport_text(), 'accelerator = "cn-accel-a"')
    return f"{CYBERPORT}:{line}: clusters.sandy-ridge-a.partitions.gpu.accelerator: no GPU-hour"


def test_check_with_the_database_names_the_unpriced_line_and_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli = sqlite_cli(tmp_path, monkeypatch)
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    _price_h800(url)
    result = cli.invoke(app, ["clusters", "check", str(CYBERPORT), "--database-url", url])
    assert result.exit_code == 2, result.output
    assert f"{CYBERPORT}: 1 problem\n" in result.output
    assert _expected_line() in result.output
    assert "'cn-accel-a' on 2027-07-01" in result.output


def test_check_without_the_database_warns_that_prices_were_not_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli = sqlite_cli(tmp_path, monkeypatch)
    result = cli.invoke(app, ["clusters", "check", str(CYBERPORT)])
    assert result.exit_code == 0, result.output
    assert "warning: prices not checked" in result.output


def test_serve_refuses_to_start_on_an_unpriced_inventory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli = sqlite_cli(tmp_path, monkeypatch)
    _price_h800(f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    monkeypatch.setenv("COMPUTEPORT_SECRET_KEY", SECRET)
    monkeypatch.setenv("COMPUTEPORT_INVENTORY_FILE", str(CYBERPORT))
    served: list[object] = []
    monkeypatch.setattr(serve, "run_server", lambda *a, **k: served.append(a))
    result = cli.invoke(app, ["serve"])
    assert result.exit_code == 2, result.output
    assert f"refusing to start: {CYBERPORT}: 1 problem\n" in result.output
    assert _expected_line() in result.output
    assert served == []


def test_serve_refuses_a_malformed_inventory_naming_the_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli = sqlite_cli(tmp_path, monkeypatch)
    bad = tmp_path / "bad.toml"
    text = cyberport_text().replace("nodes = 128", "nodes = 0")
    bad.write_text(text, encoding="utf-8")
    monkeypatch.setenv("COMPUTEPORT_SECRET_KEY", SECRET)
    monkeypatch.setenv("COMPUTEPORT_INVENTORY_FILE", str(bad))
    result = cli.invoke(app, ["serve"])
    assert result.exit_code == 2, result.output
    line = line_number(text, "nodes = 0")
    assert f"{bad}:{line}: clusters.sandy-ridge-a.partitions.gpu.nodes" in result.output


def test_the_app_state_is_not_opened_on_an_unpriced_inventory(tmp_path: Path) -> None:
    """Every way of building the app (``--workers`` processes too) checks before opening the
    back end, and a priced file passes."""
    url = f"sqlite:///{tmp_path / 'app.sqlite3'}"
    from computeport.db.schema import create_schema

    engine = make_engine(url)
    create_schema(engine)
    engine.dispose()
    settings = Settings(database_url=url, inventory_file=CYBERPORT, secret_key=SECRET)
    with pytest.raises(InventoryInvalid) as refused:
        open_app_state(settings)
    assert [p.key for p in refused.value.problems] == [
        "clusters.cyberport-h800.partitions.gpu.accelerator",
        "clusters.cyberport-h800.partitions.debug.accelerator",
        "clusters.sandy-ridge-a.partitions.gpu.accelerator",
    ]
    _price_h800(url)
    retired = tmp_path / "retired.toml"
    retired.write_text(
        cyberport_text().replace(
            'status = "planned"\ncommissioned = 2027', 'status = "retired"\ncommissioned = 2027'
        ),
        encoding="utf-8",
    )
    serve.preflight_inventory(settings.model_copy(update={"inventory_file": retired}))
