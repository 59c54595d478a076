"""The Standard Workload Format (Parallel Workloads Archive).

18 whitespace-separated fields per job; ``-1`` means unknown; header lines start with ``;``
and are kept as metadata (``; Key: value``). Submit is field 2, run time field 4, GPUs field 5
(allocated processors), else field 8 (requested); the estimate is field 9 (requested time) when
it is > 0; the group is field 13 (``-1`` becomes ``""``), the user field 12. Jobs with a
non-positive run time or processor count are skipped and counted.
"""

from __future__ import annotations

from pathlib import Path

from computeport.simulator.readers.workload import (
    MAX_SECONDS,
    RawJob,
    Workload,
    bad,
    parse_int,
    rebase,
    text_lines,
)

__all__ = ["read_swf"]

FIELDS = 18


def read_swf(path: Path) -> Workload:
    raw: list[RawJob] = []
    metadata: dict[str, str] = {}
    skipped = 0
    last_key = ""
    # Header comments of archive traces may hold other encodings: kept, shown as U+FFFD.
    for line, text in enumerate(text_lines(path, lenient_prefix=b";"), start=1):
        stripped = text.strip()
        if not stripped:
            continue
        if stripped.startswith(";"):
            body = stripped[1:].strip()
            key, sep, value = body.partition(":")
            if sep and key and " " not in key.strip():
                last_key = key.strip()
                metadata[last_key] = value.strip()
            elif body and last_key:
                metadata[last_key] = f"{metadata[last_key]} {body}".strip()
            continue
        fields = stripped.split()
        if len(fields) != FIELDS:
            raise bad(path, line, f"expected {FIELDS} fields, found {len(fields)}")
        number = parse_int(path, line, "job number (field 1)", fields[0])
        submit = parse_int(path, line, "submit time (field 2)", fields[1], maximum=MAX_SECONDS)
        if submit < 0:
            raise bad(path, line, f"submit time (field 2) is unknown or negative: {submit}")
        run = parse_int(path, line, "run time (field 4)", fields[3], maximum=MAX_SECONDS)
        procs = parse_int(path, line, "allocated processors (field 5)", fields[4])
        if procs <= 0:
            procs = parse_int(path, line, "requested processors (field 8)", fields[7])
        limit = parse_int(path, line, "requested time (field 9)", fields[8], maximum=MAX_SECONDS)
        user = parse_int(path, line, "user (field 12)", fields[11])
        group = parse_int(path, line, "group (field 13)", fields[12])
        if run <= 0 or procs <= 0:
            skipped += 1
            continue
        group_name = str(group) if group >= 0 else ""
        raw.append(
            RawJob(
                str(number),
                submit,
                procs,
                run,
                limit if limit > 0 else 0,
                str(user) if user >= 0 else "",
                group_name,
            )
        )
    jobs, offset = rebase(raw)
    return Workload(jobs, "swf", skipped, metadata, offset)
