"""Accounting: ``sacct --json`` (schema dbv0.0.38) → :class:`AccountingRecord`, one per allocation.

Rules (DESIGN.md, usage records):

* one record per job allocation, never per step (we ask ``sacct -X`` and ignore ``steps``);
* keyed by (cluster, job id, submit time), since Slurm reuses ids on requeue;
* GPUs from the allocated TRES — typed ``gres/gpu:TYPE`` where present, else ``gres/gpu``,
  never both; a job that never started has no allocation and falls back to its request;
* GPU-seconds = GPUs × elapsed seconds; the end state is kept, and NODE_FAIL (or a cancel by a
  configured operator user, e.g. a maintenance drain) is marked not chargeable;
* only finished jobs whose end lies in the half-open window [since, until) are returned.

Slurm 22.05's dbv0.0.38 JSON reports ``exit_code`` as SUCCESS/0 for a batch script that exited
non-zero (``sacct -P`` shows ``3:0``), so the exit codes come from a second, ``-P`` read of the
same window (:func:`parse_exit_codes`) when the caller provides it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from computeport.backends.errors import BackendOutputInvalid
from computeport.backends.slurm.tres import gpus_from_json
from computeport.backends.types.accounting import AccountingRecord
from computeport.backends.types.jobs import JobState

__all__ = [
    "EXIT_CODE_FORMAT",
    "exit_code_value",
    "job_state",
    "parse_exit_codes",
    "parse_sacct_json",
    "sacct_time",
]

EXIT_CODE_FORMAT = "JobIDRaw,ExitCode"
_STATES = {s.value: s for s in JobState}


def job_state(text: str) -> JobState:
    """Slurm's state word (``CANCELLED by 0`` → CANCELLED); unknown words become OTHER."""
    word = text.split()[0].rstrip("+") if text.strip() else ""
    return _STATES.get(word, JobState.OTHER)


def sacct_time(value: datetime) -> str:
    """A UTC instant as sacct's --starttime/--endtime text (the runner sets ``TZ=UTC``)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def _when(value: Any, where: str, *, optional: bool = False) -> datetime | None:
    if value is None or value == 0:
        if optional:
            return None
        raise BackendOutputInvalid(f"{where} is missing")
    if not isinstance(value, int) or isinstance(value, bool):
        raise BackendOutputInvalid(f"{where} is {value!r}, not a Unix time")
    return datetime.fromtimestamp(value, UTC)


def _get(obj: Mapping[str, Any], path: str, where: str) -> Any:
    cur: Any = obj
    for part in path.split("."):
        try:
            cur = cur[part]  # decoded JSON: dicts (a hot loop; no ABC checks)
        except (KeyError, TypeError):
            raise BackendOutputInvalid(f"{where}: field {path!r} is missing") from None
    return cur


def exit_code_value(status: str, return_code: int | None, signal: int | None) -> int:
    """One integer like a shell's ``$?``: the return code, or 128 + signal when killed."""
    if signal:
        return 128 + signal
    if status == "SIGNALED":
        return 128
    return return_code or 0


def parse_exit_codes(text: str) -> dict[str, int]:
    """``sacct -X -P -n -o JobIDRaw,ExitCode`` → {job id: code}: ``3:0`` → 3, ``0:9`` → 137."""
    out: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        job_id, sep, code = line.partition("|")
        rc, colon, sig = code.partition(":")
        if not sep or not colon or not rc.isdigit() or not sig.isdigit():
            raise BackendOutputInvalid(f"sacct exit codes line {number}: {line!r}")
        out[job_id.strip()] = exit_code_value("", int(rc), int(sig))
    return out


def parse_sacct_json(
    data: Mapping[str, Any],
    *,
    cluster: str,
    since: datetime,
    until: datetime,
    exit_codes: Mapping[str, int] | None = None,
    operator_users: Iterable[str] = (),
) -> list[AccountingRecord]:
    """The finished allocations in ``data`` that ended in [since, until), in (end, id) order."""
    jobs = data.get("jobs")
    if not isinstance(jobs, list):
        raise BackendOutputInvalid("sacct --json: no 'jobs' list", field="jobs")
    operators = frozenset(operator_users)
    records: dict[tuple[str, str, datetime], AccountingRecord] = {}
    for index, job in enumerate(jobs):
        if not isinstance(job, dict):
            raise BackendOutputInvalid(f"sacct --json: jobs[{index}] is not an object")
        record = _record(job, index, cluster, exit_codes or {}, operators)
        if record is None or not (since <= record.end_time < until):
            continue
        records[record.key] = record  # the same allocation listed twice counts once
    return sorted(records.values(), key=lambda r: (r.end_time, _id_order(r.job_id)))


def _id_order(job_id: str) -> tuple[int, str]:
    head = job_id.split("_")[0]
    return (int(head) if head.isdigit() else 0, job_id)


def _record(
    job: Mapping[str, Any],
    index: int,
    cluster: str,
    exit_codes: Mapping[str, int],
    operators: frozenset[str],
) -> AccountingRecord | None:
    raw_id = _get(job, "job_id", f"sacct jobs[{index}]")
    where = f"sacct job {raw_id} (jobs[{index}])"
    job_id = str(raw_id)
    state = job_state(str(_get(job, "state.current", where)))
    if not state.finished:
        return None
    end = _when(_get(job, "time.end", where), f"{where} time.end", optional=True)
    if end is None:
        return None
    submit = _when(_get(job, "time.submission", where), f"{where} time.submission")
    assert submit is not None
    start = _when(_get(job, "time.start", where), f"{where} time.start", optional=True)
    elapsed = _get(job, "time.elapsed", where)
    if not isinstance(elapsed, int) or elapsed < 0:
        raise BackendOutputInvalid(f"{where}: time.elapsed is {elapsed!r}")
    allocated = _get(job, "tres.allocated", where) or []
    requested = _get(job, "tres.requested", where) or []
    count = gpus_from_json(allocated if allocated else requested, field=f"{where} tres")
    if start is None:
        elapsed = 0
    cancelled_by = job.get("kill_request_user") if state is JobState.CANCELLED else None
    if job_id in exit_codes:
        code = exit_codes[job_id]
    else:
        raw = job.get("exit_code") or {}
        signal = (raw.get("signal") or {}).get("signal_id")
        code = exit_code_value(str(raw.get("status", "")), raw.get("return_code"), signal)
    chargeable = state is not JobState.NODE_FAIL and not (
        cancelled_by is not None and cancelled_by in operators
    )
    return AccountingRecord(
        cluster=str(job.get("cluster") or cluster),
        job_id=job_id,
        submit_time=submit,
        account=str(_get(job, "account", where) or ""),
        user=str(_get(job, "user", where) or ""),
        partition=str(job.get("partition") or ""),
        gpus=count.gpus,
        gpu_type=count.gpu_type,
        start_time=start,
        end_time=end,
        state=state,
        exit_code=code,
        elapsed_seconds=elapsed,
        gpu_seconds=count.gpus * elapsed,
        chargeable=chargeable,
        cancelled_by=str(cancelled_by) if cancelled_by else None,
        name=str(job.get("name") or ""),
        qos=str(job.get("qos") or ""),
    )
