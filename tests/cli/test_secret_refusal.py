"""A server process refuses the published default secret key outside the embedded default."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from computeport.cli import serve as serve_module
from computeport.cli.main import app
from computeport.settings import (
    DEFAULT_DATABASE_URL,
    DEFAULT_SECRET_KEY,
    InsecureSecretKey,
    Settings,
    require_production_secret,
)

PG_URL = "postgresql+psycopg://computeport@db.example/computeport"


def test_default_key_on_a_real_database_is_refused() -> None:
    assert Settings(database_url=PG_URL).secret_key == DEFAULT_SECRET_KEY
    with pytest.raises(InsecureSecretKey, match="COMPUTEPORT_SECRET_KEY") as info:
        require_production_secret(Settings(database_url=PG_URL))
    assert "secrets.token_urlsafe" in str(info.value)  # says how to make one


@pytest.mark.parametrize(
    ("settings", "insecure_dev"),
    [
        (Settings(database_url=DEFAULT_DATABASE_URL), False),  # the embedded default
        (Settings(database_url=PG_URL), True),  # --insecure-dev
        (Settings(database_url=PG_URL, secret_key="x" * 48), False),  # a key of its own
    ],
)
def test_allowed(settings: Settings, insecure_dev: bool) -> None:
    require_production_secret(settings, insecure_dev=insecure_dev)


def test_serve_exits_2_with_how_to(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPUTEPORT_DATABASE_URL", PG_URL)
    monkeypatch.delenv("COMPUTEPORT_SECRET_KEY", raising=False)
    started: list[object] = []
    monkeypatch.setattr(serve_module, "build_app", lambda *a, **k: started.append(a))
    result = CliRunner().invoke(app, ["serve"])
    assert result.exit_code == 2, result.output
    assert "COMPUTEPORT_SECRET_KEY" in result.output
    assert not started  # refused before anything was built


def test_serve_insecure_dev_gets_past_the_check(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPUTEPORT_DATABASE_URL", PG_URL)
    monkeypatch.delenv("COMPUTEPORT_SECRET_KEY", raising=False)

    class Reached(Exception):
        pass

    def build_app(*_args: object, **_kwargs: object) -> None:
        raise Reached

    monkeypatch.setattr(serve_module, "build_app", build_app)
    result = CliRunner().invoke(app, ["serve", "--insecure-dev"])
    assert isinstance(result.exception, Reached)


def test_the_uvicorn_factory_refuses_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPUTEPORT_DATABASE_URL", PG_URL)
    monkeypatch.delenv("COMPUTEPORT_SECRET_KEY", raising=False)
    monkeypatch.delenv("COMPUTEPORT_INSECURE_DEV", raising=False)
    with pytest.raises(InsecureSecretKey):
        serve_module.app_factory()
