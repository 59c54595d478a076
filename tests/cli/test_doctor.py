"""``computeport doctor``: each check can pass and fail; exit 0 / 1, and 2 for bad usage."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from computeport.cli.main import app
from computeport.db.migrate import upgrade
from tests.notification.smtp_sink import smtp_sink
from tests.support.migrations import database_url, engine_for, upgrade_to_previous_head
from tests.support.processes import free_port

GOOD_SECRET = "s" * 48
KINDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(params=KINDS)
def deployment(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """A configured deployment at head: the database URL, everything else in the env."""
    with database_url(request.param, "cp_doctor", tmp_path) as url:
        with engine_for(url) as engine:
            upgrade(engine)
        for name in list(os.environ):
            if name.startswith("COMPUTEPORT_") and name != "COMPUTEPORT_TEST_DATABASE_URL":
                monkeypatch.delenv(name)
        monkeypatch.setenv("COMPUTEPORT_DATABASE_URL", url)
        monkeypatch.setenv("COMPUTEPORT_SECRET_KEY", GOOD_SECRET)
        monkeypatch.setenv("COMPUTEPORT_ATTACHMENTS_DIR", str(tmp_path / "files"))
        yield url


def doctor(code: int) -> str:
    result = CliRunner().invoke(app, ["doctor"])
    assert result.exit_code == code, result.output
    return result.output


def test_a_sound_deployment_has_nothing_wrong(deployment: str) -> None:
    out = doctor(0)
    for name in ("database", "migrations", "secret key", "smtp", "oidc", "attachments", "backend"):
        assert name in out
    assert "nothing wrong found" in out


def test_the_default_secret_is_wrong(deployment: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COMPUTEPORT_SECRET_KEY")
    out = doctor(1)
    assert "✗ secret key: COMPUTEPORT_SECRET_KEY is the built-in default" in out
    monkeypatch.setenv("COMPUTEPORT_SECRET_KEY", "short")
    assert "has 5 characters, fewer than 32" in doctor(1)


def test_a_database_behind_names_the_migration(deployment: str, tmp_path: Path) -> None:
    with database_url("sqlite", "behind", tmp_path) as url, engine_for(url) as engine:
        head, _ = upgrade_to_previous_head(engine)
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("COMPUTEPORT_DATABASE_URL", url)
            out = doctor(1)
    assert "✗ migrations: database at" in out
    assert f"this version needs {head}" in out


def test_a_missing_or_unreachable_database(
    deployment: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COMPUTEPORT_DATABASE_URL", f"sqlite:///{tmp_path / 'none' / 'x.db'}")
    out = doctor(1)
    assert "✗ database: no SQLite database at" in out
    assert not (tmp_path / "none").exists()  # the doctor creates nothing
    monkeypatch.setenv("COMPUTEPORT_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/x")
    out = doctor(1)
    assert "✗ database: OperationalError" in out
    assert "✗ migrations: database unreachable" in out


def test_smtp_is_checked_only_when_enabled(
    deployment: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    monkeypatch.setenv("COMPUTEPORT_SMTP_ENABLED", "true")
    monkeypatch.setenv("COMPUTEPORT_SMTP_PORT", str(port))
    assert f"✗ smtp: no SMTP server answers at 127.0.0.1:{port}" in doctor(1)
    with smtp_sink(port):
        doctor(0)


def test_half_configured_single_sign_on(deployment: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPUTEPORT_OIDC_ISSUER", "https://login.example.org/realms/aiss")
    out = doctor(1)
    assert "set COMPUTEPORT_OIDC_CLIENT_ID, COMPUTEPORT_OIDC_CLIENT_SECRET as well" in out
    monkeypatch.setenv("COMPUTEPORT_OIDC_CLIENT_ID", "computeport")
    monkeypatch.setenv("COMPUTEPORT_OIDC_CLIENT_SECRET", "from-the-idp")
    doctor(0)
    monkeypatch.setenv("COMPUTEPORT_OIDC_ISSUER", "http://login.example.org/realms/aiss")
    assert "must use https" in doctor(1)


def test_an_invalid_setting_is_named(deployment: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPUTEPORT_BACKEND", "lsf")
    assert "✗ COMPUTEPORT_BACKEND:" in doctor(1)


def test_bad_usage_exits_2(deployment: str) -> None:
    assert CliRunner().invoke(app, ["doctor", "--no-such-option"]).exit_code == 2
