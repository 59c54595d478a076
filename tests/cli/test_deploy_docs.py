"""docs/deploy.md and deploy/ cannot drift from the code: settings, units, env file, commands."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import typer.main

from computeport.cli.main import app
from computeport.cli.settings_doc import BEGIN, END, replace_block, settings_table
from computeport.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "deploy.md"
DEPLOY = ROOT / "deploy"


def test_the_guide_lists_every_setting_as_the_code_defines_it() -> None:
    text = GUIDE.read_text()
    assert text == replace_block(text), (
        "docs/deploy.md's settings table differs from settings.py: run "
        "`python -m computeport.cli.settings_doc --write docs/deploy.md`"
    )
    table = text[text.index(BEGIN) : text.index(END)]
    for name in Settings.model_fields:
        assert f"`COMPUTEPORT_{name.upper()}`" in table


def test_every_setting_says_what_it_is_for() -> None:
    undocumented = [n for n, f in Settings.model_fields.items() if not f.description]
    assert undocumented == []


def test_the_generated_table_changes_with_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """The drift check can fail: a new field makes a different table."""
    before = settings_table()
    fields = dict(Settings.model_fields)
    fields["extra_thing"] = fields["smtp_port"]
    monkeypatch.setattr(Settings, "model_fields", fields)
    assert "`COMPUTEPORT_EXTRA_THING`" in settings_table()
    assert settings_table() != before


def test_the_files_the_guide_names_exist() -> None:
    named = set(re.findall(r"deploy/[\w./@-]+\w", GUIDE.read_text()))
    assert {"deploy/nginx/computeport.conf", "deploy/computeport.env.example"} <= named
    for path in named:
        assert (ROOT / path).exists(), f"docs/deploy.md names {path}, which is not there"
    for unit in ("computeport-api.service", "computeport-worker@.service"):
        assert (DEPLOY / "systemd" / unit).is_file()
        assert unit.removesuffix(".service").removesuffix("@") in GUIDE.read_text()


def _exec_start(unit: str) -> list[str]:
    text = (DEPLOY / "systemd" / unit).read_text()
    (line,) = [ln for ln in text.splitlines() if ln.startswith("ExecStart=")]
    assert "EnvironmentFile=/etc/computeport/computeport.env" in text
    return shlex.split(line.removeprefix("ExecStart="))[1:]


def _command(words: list[str]) -> tuple[Any, list[str]]:
    """The command ``words`` name (descending through groups) and the rest of them (Typer's
    own vendored click: its groups have ``commands``)."""
    command: Any = typer.main.get_command(app)
    while hasattr(command, "commands") and words and words[0] in command.commands:
        command, words = command.commands[words[0]], words[1:]
    return command, words


def test_the_api_unit_runs_serve_with_options_serve_has() -> None:
    words = _exec_start("computeport-api.service")
    command, rest = _command(words)
    assert command.name == "serve"
    ctx = command.make_context("serve", rest)  # raises on an unknown option
    assert ctx.params["workers"] >= 2
    assert ctx.params["host"] == "127.0.0.1"


def test_the_worker_unit_runs_the_worker() -> None:
    words = _exec_start("computeport-worker@.service")
    assert words == ["worker", "run"]
    command, rest = _command(words)
    if command.name != "run":
        pytest.skip("`computeport worker run` lands with the worker branch (issue 11)")
    command.make_context("run", rest)


def test_the_env_example_sets_only_real_settings_and_no_secret() -> None:
    known = {f"COMPUTEPORT_{n.upper()}" for n in Settings.model_fields}
    lines = (DEPLOY / "computeport.env.example").read_text().splitlines()
    assigned = dict(ln.split("=", 1) for ln in lines if ln and not ln.startswith("#"))
    assert set(assigned) <= known, set(assigned) - known
    for secret in ("COMPUTEPORT_SECRET_KEY", "COMPUTEPORT_OIDC_CLIENT_SECRET"):
        assert secret not in assigned, f"{secret} must not have a value in the example"
        assert f"# {secret}=" in lines
    assert ":" not in assigned["COMPUTEPORT_DATABASE_URL"].split("@")[0].split("//")[1]
    values = {k.removeprefix("COMPUTEPORT_").lower(): v for k, v in assigned.items()}
    Settings.model_validate(values)  # every value parses
