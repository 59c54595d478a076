"""The Alibaba PAI 2023 pod list (``openb_pod_list_*.csv``).

Submit is ``creation_time``; the run time is ``deletion_time − scheduled_time``. A pod asking
for a *share* of a GPU (``gpu_milli`` < 1000, or a fractional ``num_gpu``) counts as one whole
GPU: our clusters do not share GPUs between jobs, so the share is rounded up. Pods with
``num_gpu`` = 0 (CPU only) or never scheduled (empty ``scheduled_time``) are skipped and counted;
so are pods whose run time is not positive. Many pods were still running when the trace ended
(censored): their run time is what the trace saw. The group is the ``qos`` class.
"""

from __future__ import annotations

import math
from pathlib import Path

from computeport.simulator.readers.workload import (
    MAX_INT,
    MAX_SECONDS,
    RawJob,
    Workload,
    bad,
    csv_rows,
    parse_int,
    parse_number,
    rebase,
)

__all__ = ["read_alibaba"]

REQUIRED = ("name", "num_gpu", "qos", "creation_time", "deletion_time", "scheduled_time")


def read_alibaba(path: Path) -> Workload:
    raw: list[RawJob] = []
    skipped = 0
    for line, row in csv_rows(path, REQUIRED):
        share = parse_number(path, line, "num_gpu", row["num_gpu"] or "0")
        if share < 0:
            raise bad(path, line, f"num_gpu is negative: {share}")
        if share > MAX_INT:
            raise bad(path, line, f"num_gpu is out of range (at most {MAX_INT:,}): {share}")
        submit = parse_int(path, line, "creation_time", row["creation_time"], maximum=MAX_SECONDS)
        if submit < 0:
            raise bad(path, line, f"creation_time is negative: {submit}")
        scheduled_text = row["scheduled_time"].strip()
        if share == 0 or not scheduled_text:
            skipped += 1
            continue
        scheduled = parse_int(path, line, "scheduled_time", scheduled_text, maximum=MAX_SECONDS)
        deleted = parse_int(path, line, "deletion_time", row["deletion_time"], maximum=MAX_SECONDS)
        run = deleted - scheduled
        if run <= 0:
            skipped += 1
            continue
        group = row["qos"].strip()
        name = row["name"].strip() or str(line - 1)
        raw.append(RawJob(name, submit, max(1, math.ceil(share)), run, group=group))
    jobs, offset = rebase(raw)
    return Workload(jobs, "alibaba", skipped, offset_s=offset)
