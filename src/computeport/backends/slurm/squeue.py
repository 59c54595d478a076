"""Jobs as the scheduler holds them: ``squeue --json`` (v0.0.38) → :class:`JobInfo`.

Slurm 22.05's ``squeue --json`` ignores ``-j``/``-A`` filters and lists every job it holds
(pending, running and those finished within ``MinJobAge``), so filtering happens here.
Also: ``sbatch --parsable`` output and Slurm host lists; pending reasons are normalised by
:func:`computeport.backends.reasons.normalise_reason`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from computeport.backends.errors import BackendOutputInvalid
from computeport.backends.reasons import normalise_reason
from computeport.backends.slurm.sacct import job_state
from computeport.backends.slurm.tres import gpus_from_string
from computeport.backends.types.jobs import JobInfo, JobState

__all__ = [
    "expand_hostlist",
    "parse_sbatch_parsable",
    "parse_squeue_json",
    "wait_status_exit_code",
]


def expand_hostlist(text: str) -> tuple[str, ...]:
    """``n[1-3,5],m2`` → ("n1", "n2", "n3", "n5", "m2") (one bracket group per name)."""
    names: list[str] = []
    for part in re.findall(r"[^,\[]+(?:\[[^\]]*\])?[^,]*", text):
        match = re.fullmatch(r"([^\[]*)\[([^\]]*)\](.*)", part)
        if not match:
            if part:
                names.append(part)
            continue
        prefix, ranges, suffix = match.groups()
        for item in ranges.split(","):
            lo, _, hi = item.partition("-")
            if not lo.isdigit() or (hi and not hi.isdigit()):
                raise BackendOutputInvalid(f"host list {text!r}: bad range {item!r}")
            width = len(lo)
            for n in range(int(lo), int(hi or lo) + 1):
                names.append(f"{prefix}{n:0{width}d}{suffix}")
    return tuple(names)


def wait_status_exit_code(status: int) -> int:
    """squeue's raw wait status → a shell-like code (768 → 3; killed by 9 → 137)."""
    if status & 0x7F:
        return 128 + (status & 0x7F)
    return (status >> 8) & 0xFF


def parse_sbatch_parsable(text: str) -> str:
    """``12345`` or ``12345;cluster`` → "12345"."""
    line = text.strip().splitlines()[-1] if text.strip() else ""
    job_id = line.split(";")[0].strip()
    if not job_id.isdigit():
        raise BackendOutputInvalid(f"sbatch --parsable printed {text.strip()!r}, not a job id")
    return job_id


def _time(value: Any, where: str) -> datetime | None:
    if value in (None, 0):
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise BackendOutputInvalid(f"{where} is {value!r}, not a Unix time")
    return datetime.fromtimestamp(value, UTC)


def parse_squeue_json(data: Mapping[str, Any]) -> list[JobInfo]:
    jobs = data.get("jobs")
    if not isinstance(jobs, list):
        raise BackendOutputInvalid("squeue --json: no 'jobs' list", field="jobs")
    out = []
    for index, job in enumerate(jobs):
        if not isinstance(job, Mapping) or "job_id" not in job or "job_state" not in job:
            raise BackendOutputInvalid(f"squeue --json: jobs[{index}] lacks job_id/job_state")
        where = f"squeue job {job['job_id']}"
        state = job_state(str(job["job_state"]))
        reason = str(job.get("state_reason") or "None")
        started = state not in (JobState.PENDING,)
        tres = str(job.get("tres_alloc_str") or "") if started else ""
        count = gpus_from_string(tres or str(job.get("tres_req_str") or ""), field=where)
        submit = _time(job.get("submit_time"), f"{where} submit_time")
        if submit is None:
            raise BackendOutputInvalid(f"{where}: submit_time is missing")
        limit = job.get("time_limit")
        out.append(
            JobInfo(
                job_id=str(job["job_id"]),
                name=str(job.get("name") or ""),
                account=str(job.get("account") or ""),
                user=str(job.get("user_name") or ""),
                partition=str(job.get("partition") or ""),
                state=state,
                reason=reason,
                pending_reason=normalise_reason(state, reason),
                gpus=count.gpus,
                gpu_type=count.gpu_type,
                submit_time=submit,
                start_time=_time(job.get("start_time"), f"{where} start_time") if started else None,
                end_time=_time(job.get("end_time"), f"{where} end_time")
                if state.finished
                else None,
                time_limit_minutes=limit if isinstance(limit, int) and limit > 0 else None,
                nodes=expand_hostlist(str(job.get("nodes") or "")),
                exit_code=wait_status_exit_code(int(job.get("exit_code") or 0))
                if state.finished
                else None,
                comment=str(job.get("comment") or "") or None,
            )
        )
    return out
