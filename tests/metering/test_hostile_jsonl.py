"""Hostile accounting JSON lines: not UTF-8, NUL characters, numbers beyond the database's
BIGINT, negative counts, NaN, 5,000-digit numbers, deep nesting, objects where text belongs.
Each is ``ValidationFailed`` naming the line and field (``billing ingest`` exits 2)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from computeport.cli.main import app
from computeport.kit.errors import ValidationFailed
from computeport.metering.jsonl import read_jsonl

GOOD: dict[str, Any] = {
    "cluster": "c1",
    "job_id": "1",
    "submit_time": "2026-10-01T00:00:00Z",
    "account": "aiss-a",
    "end_time": "2026-10-01T01:00:00Z",
    "gpus": 8,
    "gpu_seconds": 28800,
}


def _line(**changes: Any) -> bytes:
    return json.dumps({**GOOD, **changes}).encode() + b"\n"


CASES: list[tuple[str, bytes, str]] = [
    ("gpus-huge", _line(gpus=10**30), ".gpus: out of range"),
    ("gpus-negative", _line(gpus=-1), ".gpus: out of range"),
    ("gpu-seconds-huge", _line(gpu_seconds=2**63), ".gpu_seconds: out of range"),
    ("elapsed-negative", _line(elapsed_seconds=-3), ".elapsed_seconds: out of range"),
    ("gpus-nan", _line(gpus=float("nan")), ".gpus: not an integer: nan"),
    ("gpus-infinite", _line(gpus=float("inf")), ".gpus: not an integer: inf"),
    ("gpus-5000-digits", _line()[:-2] + b', "gpus": ' + b"9" * 5000 + b"}\n", "not usable JSON"),
    ("deep-nesting", b"[" * 100_000 + b"]" * 100_000 + b"\n", "not usable JSON"),
    ("account-nul", _line(account="a\x00b"), ".account: contains a NUL"),
    ("gpu-type-object", _line(gpu_type={"x": 1}), ".gpu_type: not a string"),
    ("latin1", _line()[:-2] + b', "user": "J\xe9r\xf4me"}\n', "not UTF-8 text"),
]


@pytest.mark.parametrize(("content", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_line_is_named(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "usage.jsonl"
    path.write_bytes(_line() + content)
    with pytest.raises(ValidationFailed) as info:
        read_jsonl(path)
    assert f"{path}:2" in info.value.message
    assert message in info.value.message


def test_good_lines_and_a_byte_order_mark_are_read(tmp_path: Path) -> None:
    path = tmp_path / "usage.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + _line() + _line(job_id=2))
    records = read_jsonl(path)
    assert [r.job_id for r in records] == ["1", "2"]  # a numeric id is taken as its text
    assert records[0].end_time == datetime(2026, 10, 1, 1, tzinfo=UTC)


def test_billing_ingest_exits_2_naming_the_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COMPUTEPORT_DATABASE_URL", f"sqlite:///{tmp_path / 'cp.sqlite3'}")
    path = tmp_path / "usage.jsonl"
    path.write_bytes(_line() + _line(gpus=10**30))
    result = CliRunner().invoke(app, ["billing", "ingest", str(path)])
    assert result.exit_code == 2, result.output
    assert "usage.jsonl:2" in result.output.replace("\n", "")
