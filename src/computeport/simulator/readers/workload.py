"""A read workload, and the small parsing helpers every reader shares."""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from computeport.kit.errors import ValidationFailed
from computeport.scheduling.job import Job

__all__ = ["RawJob", "Workload", "bad", "csv_rows", "parse_int", "parse_number", "rebase"]


@dataclass(frozen=True, slots=True)
class Workload:
    """Jobs read from a trace (file order), what was skipped, and the header's metadata."""

    jobs: list[Job]
    format: str
    skipped: int = 0
    metadata: dict[str, str] = field(default_factory=dict)
    offset_s: int = 0
    """What was subtracted from submit times (0 for ``csv``)."""


def bad(path: Path, line: int, message: str) -> ValidationFailed:
    return ValidationFailed(f"{path.name}, line {line}: {message}", field=f"line {line}")


def parse_number(path: Path, line: int, name: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise bad(path, line, f"{name} is not a number: {text!r}") from None
    if not math.isfinite(value):
        raise bad(path, line, f"{name} is not finite: {text!r}")
    return value


def parse_int(path: Path, line: int, name: str, text: str) -> int:
    """An integer, accepting ``12.0`` (traces write seconds as floats) and rounding halves up."""
    if text.isdigit():
        return int(text)
    text = text.strip()
    if not text:
        raise bad(path, line, f"{name} is missing")
    try:
        return int(text)
    except ValueError:
        return math.floor(parse_number(path, line, name, text) + 0.5)


def csv_rows(path: Path, required: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    """``(line number, row)`` of a CSV file with a header that has the ``required`` columns."""
    try:
        handle = path.open(newline="", encoding="utf-8")
    except OSError as exc:
        raise ValidationFailed(f"cannot read {path}: {exc.strerror}", field="trace") from None
    with handle:
        reader = csv.reader(handle)
        try:
            header = next(reader)
        except StopIteration:
            raise bad(path, 1, "empty file (no header)") from None
        header = [h.strip() for h in header]
        missing = [c for c in required if c not in header]
        if missing:
            raise bad(path, 1, f"missing column(s) {', '.join(missing)}")
        width = len(header)
        for row in reader:
            line = reader.line_num
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            if len(row) != width:
                raise bad(path, line, f"expected {width} fields, found {len(row)}")
            yield line, dict(zip(header, row, strict=True))


@dataclass(slots=True)
class RawJob:
    """A parsed record before rebasing (readers build :class:`Job` s once, at the end)."""

    job_id: str
    submit_s: int
    gpus: int
    run_s: int
    time_limit_s: int = 0
    user: str = ""
    group: str = ""


def rebase(raw: list[RawJob], shift: bool = True) -> tuple[list[Job], int]:
    """Jobs from raw records, submit times shifted so the first is 0 (``shift=False``: kept)."""
    first = min((r.submit_s for r in raw), default=0) if shift else 0
    return [
        Job(
            r.job_id,
            submit_s=r.submit_s - first,
            gpus=r.gpus,
            run_s=r.run_s,
            time_limit_s=r.time_limit_s,
            user=r.user,
            group=r.group,
            project=r.group,
        )
        for r in raw
    ], first
