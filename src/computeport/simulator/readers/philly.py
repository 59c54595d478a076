"""The Philly trace as shipped (Pollux artifact): ``timestamp,duration,num_gpus,gpu_time,cluster``.

``timestamp`` is UTC ``YYYY-MM-DD HH:MM:SS``; the file is not sorted (the engine orders
arrivals stably). Jobs are named by their data row (``"1"`` is the first row after the header).
The group is the virtual cluster.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from computeport.simulator.readers.workload import (
    MAX_SECONDS,
    RawJob,
    Workload,
    bad,
    csv_rows,
    parse_int,
    rebase,
)

__all__ = ["read_philly"]

REQUIRED = ("timestamp", "duration", "num_gpus", "cluster")


def read_philly(path: Path) -> Workload:
    raw: list[RawJob] = []
    skipped = 0
    row_no = 0
    cache: dict[str, int] = {}
    for line, row in csv_rows(path, REQUIRED):
        row_no += 1
        stamp = row["timestamp"].strip()
        submit = cache.get(stamp)
        if submit is None:
            try:
                if len(stamp) != 19:
                    raise ValueError(stamp)
                when = datetime.fromisoformat(stamp).replace(tzinfo=UTC)
            except ValueError:
                raise bad(path, line, f"timestamp is not YYYY-MM-DD HH:MM:SS: {stamp!r}") from None
            submit = cache[stamp] = int(when.timestamp())
        run = parse_int(path, line, "duration", row["duration"], maximum=MAX_SECONDS)
        gpus = parse_int(path, line, "num_gpus", row["num_gpus"])
        if gpus <= 0:
            raise bad(path, line, f"num_gpus must be ≥ 1: {gpus}")
        if run <= 0:
            skipped += 1
            continue
        group = row["cluster"].strip()
        raw.append(RawJob(str(row_no), submit, gpus, run, group=group))
    jobs, offset = rebase(raw)
    return Workload(jobs, "philly", skipped, offset_s=offset)
