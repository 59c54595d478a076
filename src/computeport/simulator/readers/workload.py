"""A read workload, and the small parsing helpers every reader shares."""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from computeport.kit.errors import ValidationFailed
from computeport.scheduling.job import Job

__all__ = [
    "MAX_INT",
    "MAX_SECONDS",
    "RawJob",
    "Workload",
    "bad",
    "csv_rows",
    "parse_int",
    "parse_number",
    "rebase",
    "text_lines",
]

MAX_INT = 2**63 - 1
"""The largest integer the engine's arrays (64-bit) hold: a larger count is refused by line."""
MAX_SECONDS = 10**11
"""About 3,000 years: a longer time is a broken trace, and GPUs × seconds of an admitted job
must stay far inside a 64-bit integer when the metrics sum them."""


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


def parse_int(path: Path, line: int, name: str, text: str, *, maximum: int = MAX_INT) -> int:
    """An integer, accepting ``12.0`` (traces write seconds as floats) and rounding halves up;
    one beyond ±``maximum`` is refused (naming the line) rather than overflowing later."""
    if text.isascii() and text.isdigit() and len(text) < 16:  # fast: within any maximum
        value = int(text)
    else:
        text = text.strip()
        if not text:
            raise bad(path, line, f"{name} is missing")
        try:
            value = int(text)
        except ValueError:
            value = math.floor(parse_number(path, line, name, text) + 0.5)
    if not -maximum <= value <= maximum:
        raise bad(path, line, f"{name} is out of range (at most {maximum:,}): {text[:40]!r}")
    return value


def text_lines(path: Path, *, lenient_prefix: bytes | None = None) -> Iterator[str]:
    """The file's lines as text, each checked to be UTF-8 without NUL bytes (a clear error
    naming the line instead of a ``UnicodeDecodeError`` from somewhere inside a reader).

    A UTF-8 byte-order mark is dropped.  Lines starting with ``lenient_prefix`` (comments) may
    hold other bytes, shown as U+FFFD.
    """
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise ValidationFailed(f"cannot read {path}: {exc.strerror}", field="trace") from None
    with handle:
        for number, raw in enumerate(handle, start=1):
            if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            if lenient_prefix is not None and raw.lstrip().startswith(lenient_prefix):
                yield raw.decode("utf-8", errors="replace")
                continue
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise bad(
                    path,
                    number,
                    f"is not UTF-8 text (byte 0x{raw[exc.start]:02x} at column {exc.start + 1}); "
                    "save the file as UTF-8",
                ) from None
            if "\x00" in text:
                raise bad(path, number, f"contains a NUL byte (column {text.index(chr(0)) + 1})")
            yield text


def csv_rows(path: Path, required: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    """``(line number, row)`` of a CSV file with a header that has the ``required`` columns."""
    reader = csv.reader(text_lines(path))
    try:
        header = next(reader)
    except StopIteration:
        raise bad(path, 1, "empty file (no header)") from None
    except csv.Error as exc:
        raise bad(path, reader.line_num, f"not CSV: {exc}") from None
    header = [h.strip() for h in header]
    missing = [c for c in required if c not in header]
    if missing:
        raise bad(path, 1, f"missing column(s) {', '.join(missing)}")
    width = len(header)
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # e.g. a quoted field that never ends
            raise bad(path, reader.line_num, f"not CSV: {exc}") from None
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
