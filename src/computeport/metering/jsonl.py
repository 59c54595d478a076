"""Accounting records as JSON lines (one :class:`AccountingRecord` per line).

The portable exchange format for ``computeport billing ingest FILE``: keys are the
``AccountingRecord`` field names, times ISO 8601 with ``Z``.  A bad line raises
:class:`ValidationFailed` naming the line and the field, and nothing is ingested.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import fields
from datetime import datetime
from pathlib import Path
from typing import Any

from computeport.backends import AccountingRecord, JobState
from computeport.kit.clock import ensure_aware, isoformat_z
from computeport.kit.errors import ValidationFailed

_REQUIRED = (
    "cluster",
    "job_id",
    "submit_time",
    "account",
    "end_time",
    "gpus",
    "gpu_seconds",
)


def _time(value: Any, where: str) -> datetime:
    if not isinstance(value, str):
        raise ValidationFailed(f"{where}: not a time: {value!r}", field=where)
    try:
        return ensure_aware(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError as exc:
        raise ValidationFailed(
            f"{where}: not an ISO 8601 UTC time: {value!r}", field=where
        ) from exc


MAX_INT = 2**63 - 1
"""The database's BIGINT: a larger count is refused here, naming the line, not by the driver."""


def _int(value: Any, where: str, *, minimum: int = -MAX_INT) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationFailed(f"{where}: not an integer: {_short(value)}", field=where)
    if not minimum <= value <= MAX_INT:
        bounds = f"{minimum:,} to {MAX_INT:,}"
        raise ValidationFailed(f"{where}: out of range ({bounds}): {_short(value)}", field=where)
    return value


def _text(value: Any, where: str, *, optional: bool = False) -> str | None:
    """A string field: numbers are taken as their text (job ids); no NUL (PostgreSQL cannot
    store one), no objects or lists."""
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValidationFailed(f"{where}: not a string: {_short(value)}", field=where)
    text = str(value)
    if "\x00" in text:
        raise ValidationFailed(f"{where}: contains a NUL character", field=where)
    return text


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def record_from_dict(data: dict[str, Any], where: str = "record") -> AccountingRecord:
    """Build a record from one decoded line, checking types."""
    for key in _REQUIRED:
        if key not in data:
            raise ValidationFailed(f"{where}: missing field {key!r}", field=key)
    try:
        state = JobState(str(data.get("state", "COMPLETED")))
    except ValueError as exc:
        raise ValidationFailed(
            f"{where}: unknown job state {data.get('state')!r}", field="state"
        ) from exc
    start = data.get("start_time")
    end = _time(data["end_time"], f"{where}.end_time")
    start_time = _time(start, f"{where}.start_time") if start is not None else None
    gpus = _int(data["gpus"], f"{where}.gpus", minimum=0)
    gpu_seconds = _int(data["gpu_seconds"], f"{where}.gpu_seconds", minimum=0)
    elapsed = data.get("elapsed_seconds")
    if elapsed is None:
        elapsed = int((end - start_time).total_seconds()) if start_time is not None else 0

    def text(key: str, default: str = "") -> str:
        value = _text(data.get(key, default), f"{where}.{key}")
        assert value is not None
        return value

    return AccountingRecord(
        cluster=text("cluster"),
        job_id=text("job_id"),
        submit_time=_time(data["submit_time"], f"{where}.submit_time"),
        account=text("account"),
        user=text("user"),
        partition=text("partition"),
        gpus=gpus,
        gpu_type=_text(data.get("gpu_type"), f"{where}.gpu_type", optional=True),
        start_time=start_time,
        end_time=end,
        state=state,
        exit_code=_int(data.get("exit_code", 0), f"{where}.exit_code"),
        elapsed_seconds=_int(elapsed, f"{where}.elapsed_seconds", minimum=0),
        gpu_seconds=gpu_seconds,
        chargeable=bool(data.get("chargeable", True)),
        cancelled_by=_text(data.get("cancelled_by"), f"{where}.cancelled_by", optional=True),
        name=text("name"),
        qos=text("qos"),
        unreadable=text("unreadable"),
    )


def record_to_dict(record: AccountingRecord) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields(record):
        value = getattr(record, f.name)
        if isinstance(value, datetime):
            value = isoformat_z(value)
        elif isinstance(value, JobState):
            value = value.value
        elif f.name == "unreadable" and not value:
            continue  # only a held record carries it: files of good records stay as before
        out[f.name] = value
    return out


def read_jsonl(path: Path) -> list[AccountingRecord]:
    """Every record of a JSON-lines file; the first bad line aborts with its number."""
    return list(parse_lines(_utf8_lines(path), str(path)))


def _utf8_lines(path: Path) -> Iterator[str]:
    """The file's lines, each checked to be UTF-8 (a line that is not names its number)."""
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise ValidationFailed(f"cannot read {path}: {exc.strerror}", field="file") from None
    with handle:
        for number, raw in enumerate(handle, start=1):
            try:
                yield raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                raise ValidationFailed(
                    f"{path}:{number}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at column "
                    f"{exc.start + 1})",
                    field="line",
                ) from None


def parse_lines(lines: Iterable[str], name: str = "input") -> Iterator[AccountingRecord]:
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{name}:{number}"
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValidationFailed(f"{where}: not JSON ({exc.msg})", field="line") from exc
        except (ValueError, RecursionError) as exc:  # a 5,000-digit number, [[[[…]]]] nesting
            message = f"{where}: not usable JSON ({exc})"[:200]
            raise ValidationFailed(message, field="line") from None
        if not isinstance(data, dict):
            raise ValidationFailed(f"{where}: expected an object", field="line")
        yield record_from_dict(data, where)


def write_jsonl(path: Path, records: Iterable[AccountingRecord]) -> None:
    with path.open("w", encoding="utf-8") as out:
        for r in records:
            out.write(json.dumps(record_to_dict(r), sort_keys=True) + "\n")


__all__ = ["parse_lines", "read_jsonl", "record_from_dict", "record_to_dict", "write_jsonl"]
