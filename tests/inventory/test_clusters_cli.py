"""``computeport clusters check`` and ``load`` end to end: exit codes, messages, the table."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from computeport.cli import common
from computeport.cli.main import app
from computeport.db.engine import make_engine
from computeport.db.schema import create_schema
from computeport.models.audit import AuditRecord
from computeport.models.centre import CentreCluster
from computeport.models.identity import User
from tests.inventory.inventory_files import BETA, CYBERPORT, SMALL, line_number


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """Messages are asserted whole: no wrapping at the test runner's 80 columns."""
    monkeypatch.setattr(common.console, "width", 200)
    monkeypatch.setattr(common.err_console, "width", 200)


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    engine = make_engine(url)
    create_schema(engine)
    engine.dispose()
    monkeypatch.setenv("COMPUTEPORT_DATABASE_URL", url)
    return url


def run(*args: str, code: int = 0) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result.output


def written(path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_check_prints_sites_clusters_gpus_and_pflops() -> None:
    out = run("clusters", "check", str(CYBERPORT))
    assert "cyberport-h800" in out
    assert "3,040" in out
    assert "3,009.6" in out
    assert "sandy-ridge-a" in out
    assert "5,088" in out  # the centre's GPUs, both sites
    assert "valid — 2 sites, 2 clusters, 3 partitions, 2 accelerator types" in out


def test_check_names_the_line_and_key_and_exits_2(tmp_path: Path) -> None:
    text = SMALL.replace("nodes = 4", "nodes = 0") + BETA.replace("h800", "mi300")
    out = run("clusters", "check", written(tmp_path / "bad.toml", text), code=2)
    assert "2 problems" in out
    assert f"bad.toml:{line_number(text, 'nodes = 0')}: clusters.alpha.partitions.gpu.nodes" in out
    assert f"bad.toml:{line_number(text, 'mi300')}: clusters.beta.partitions.gpu" in out
    assert "unknown accelerator type 'mi300'" in out


def test_check_of_a_missing_file_exits_2(tmp_path: Path) -> None:
    out = run("clusters", "check", str(tmp_path / "nowhere.toml"), code=2)
    assert "cannot read" in out


def test_load_is_idempotent_and_refuses_an_invalid_file(database: str, tmp_path: Path) -> None:
    good = written(tmp_path / "centre.toml", SMALL + BETA)
    out = run("clusters", "load", good)
    assert "created  cluster beta" in out
    assert "6 created, 0 updated, 0 removed" in out
    assert "nothing changed" in run("clusters", "load", good)

    bad = written(tmp_path / "bad.toml", SMALL.replace('site = "cyberport"', 'site = "x"'))
    assert "unknown site 'x'" in run("clusters", "load", bad, code=2)

    engine = make_engine(database)
    with engine.connect() as connection:
        clusters = connection.scalar(select(func.count()).select_from(CentreCluster))
        audits = connection.scalar(select(func.count()).select_from(AuditRecord))
    engine.dispose()
    assert (clusters, audits) == (2, 6)


def test_load_as_a_non_operator_is_refused(database: str, tmp_path: Path) -> None:
    run("user", "create", "rex@aisc.hk", "--name", "Rex", "--posix", "rex", "--role", "reviewer")
    out = run(
        "clusters", "load", written(tmp_path / "c.toml", SMALL), "--as", "rex@aisc.hk", code=2
    )
    assert "operator" in out.lower()
    run("user", "create", "opal@aisc.hk", "--name", "Opal", "--posix", "opal", "--role", "operator")
    assert "created  cluster alpha" in run(
        "clusters", "load", written(tmp_path / "c.toml", SMALL), "--as", "opal@aisc.hk"
    )
    engine = make_engine(database)
    with engine.connect() as connection:
        actors = connection.execute(
            select(User.email)
            .join(AuditRecord, AuditRecord.actor_id == User.id)
            .where(AuditRecord.action == "inventory_created")
            .distinct()
        ).all()
    engine.dispose()
    assert actors == [("opal@aisc.hk",)]  # the audit trail names the operator
