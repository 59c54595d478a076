"""The canonical CSV: ``job_id,submit_s,duration_s,gpus,user,group`` (+ ``time_limit_s``,
``qos``, ``gpu_type``). Submit times are kept as they are (no rebasing)."""

from __future__ import annotations

from pathlib import Path

from computeport.scheduling.job import Job, Qos
from computeport.simulator.readers.workload import (
    MAX_SECONDS,
    Workload,
    bad,
    csv_rows,
    parse_int,
)

__all__ = ["read_csv"]

REQUIRED = ("job_id", "submit_s", "duration_s", "gpus", "user", "group")
_QOS = {q.value for q in Qos}


def read_csv(path: Path) -> Workload:
    jobs: list[Job] = []
    skipped = 0
    for line, row in csv_rows(path, REQUIRED):
        job_id = row["job_id"].strip()
        if not job_id:
            raise bad(path, line, "job_id is missing")
        submit = parse_int(path, line, "submit_s", row["submit_s"], maximum=MAX_SECONDS)
        if submit < 0:
            raise bad(path, line, f"submit_s is negative: {submit}")
        run = parse_int(path, line, "duration_s", row["duration_s"], maximum=MAX_SECONDS)
        gpus = parse_int(path, line, "gpus", row["gpus"])
        if run <= 0 or gpus <= 0:
            skipped += 1
            continue
        limit_text = (row.get("time_limit_s") or "").strip()
        limit = (
            parse_int(path, line, "time_limit_s", limit_text, maximum=MAX_SECONDS)
            if limit_text
            else 0
        )
        qos_text = (row.get("qos") or "").strip().lower() or Qos.SUBSIDISED.value
        if qos_text not in _QOS:
            raise bad(path, line, f"qos must be one of {', '.join(sorted(_QOS))}: {qos_text!r}")
        gpu_type = (row.get("gpu_type") or "").strip() or None
        group = row["group"].strip()
        jobs.append(
            Job(
                job_id,
                submit_s=submit,
                gpus=gpus,
                run_s=run,
                time_limit_s=max(0, limit),
                user=row["user"].strip(),
                group=group,
                project=group,
                qos=Qos(qos_text),
                gpu_type=gpu_type,
            )
        )
    return Workload(jobs, "csv", skipped)
