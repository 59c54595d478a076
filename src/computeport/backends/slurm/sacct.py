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
from dataclasses import replace
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
MAX_GPUS = 10**7
MAX_SECONDS = 10**11
"""Bounds beyond any real job (ten million GPUs, 3,000 years): a larger number is broken
output, refused by name, and GPUs × seconds stays inside the database's BIGINT."""


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
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= MAX_SECONDS:
        raise BackendOutputInvalid(f"{where} is {_short(value)}, not a Unix time")
    return datetime.fromtimestamp(value, UTC)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _text(value: Any, where: str) -> str:
    """A name from the output (account, user, …): no NUL, which the database cannot store."""
    text = "" if value is None else str(value)
    if "\x00" in text:
        raise BackendOutputInvalid(f"{where} contains a NUL character")
    return text


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
    recovered: Mapping[str, AccountingRecord | None] | None = None,
) -> list[AccountingRecord]:
    """The finished allocations in ``data`` that ended in [since, until), in (end, id) order.

    Without ``recovered`` one unreadable job object fails the whole window.  With it (the
    same window read by :func:`~computeport.backends.slurm.sacct_lines.parse_sacct_lines`),
    an unreadable object is replaced by its text record, and jobs the JSON left out (22.05
    stops listing after a job it cannot dump) are taken from the text; a record unreadable in
    both forms comes back with ``unreadable`` set, for metering's quarantine.
    """
    jobs = data.get("jobs")
    if not isinstance(jobs, list):
        if recovered is None:
            raise BackendOutputInvalid("sacct --json: no 'jobs' list", field="jobs")
        jobs = []
    operators = frozenset(operator_users)
    records: dict[tuple[str, str, datetime], AccountingRecord] = {}
    listed: set[str] = set()

    def keep(record: AccountingRecord | None) -> None:
        if record is None:
            return
        if record.unreadable or since <= record.end_time < until:
            records[record.key] = record  # the same allocation listed twice counts once

    for index, job in enumerate(jobs):
        try:
            if not isinstance(job, dict):
                raise BackendOutputInvalid(f"sacct --json: jobs[{index}] is not an object")
            record = _record(job, index, cluster, exit_codes or {}, operators)
        except BackendOutputInvalid as exc:
            if recovered is None:
                raise
            job_id = _job_id(job)
            if job_id is None or job_id not in recovered:
                raise BackendOutputInvalid(
                    f"{exc.message}; sacct --parsable2 does not list that job either"
                ) from None
            listed.add(job_id)
            keep(_annotated(recovered[job_id], exc.message))
            continue
        listed.add(_text(job["job_id"], "job_id"))
        keep(record)
    for job_id, text_record in (recovered or {}).items():
        if job_id not in listed:
            keep(text_record)
    return sorted(records.values(), key=lambda r: (r.end_time, _id_order(r.job_id)))


def _job_id(job: object) -> str | None:
    raw = job.get("job_id") if isinstance(job, dict) else None
    return str(raw) if isinstance(raw, int | str) and not isinstance(raw, bool) else None


def _annotated(record: AccountingRecord | None, json_error: str) -> AccountingRecord | None:
    """A text record standing in for an unreadable JSON one says so if it is unreadable too."""
    if record is None or not record.unreadable:
        return record
    return replace(record, unreadable=f"{json_error}; {record.unreadable}")


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
    job_id = _text(raw_id, f"sacct jobs[{index}] job_id")
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
    if not isinstance(elapsed, int) or not 0 <= elapsed <= MAX_SECONDS:
        raise BackendOutputInvalid(f"{where}: time.elapsed is {_short(elapsed)}")
    allocated = _get(job, "tres.allocated", where) or []
    requested = _get(job, "tres.requested", where) or []
    if not isinstance(allocated, list) or not isinstance(requested, list):
        raise BackendOutputInvalid(f"{where}: tres is not a list of entries")
    if not all(isinstance(e, dict) for e in (*allocated, *requested)):
        raise BackendOutputInvalid(f"{where}: a tres entry is not an object")
    count = gpus_from_json(allocated if allocated else requested, field=f"{where} tres")
    if not 0 <= count.gpus <= MAX_GPUS:
        raise BackendOutputInvalid(f"{where}: GPU count {count.gpus:,} is out of range")
    if start is None:
        elapsed = 0
    cancelled_by = job.get("kill_request_user") if state is JobState.CANCELLED else None
    if job_id in exit_codes:
        code = exit_codes[job_id]
    else:
        raw = job.get("exit_code") or {}
        signal_part = raw.get("signal") if isinstance(raw, dict) else None
        signal = signal_part.get("signal_id") if isinstance(signal_part, dict) else None
        return_code = raw.get("return_code") if isinstance(raw, dict) else None
        numbers = (signal, return_code)
        if not isinstance(raw, dict) or not all(
            v is None or (type(v) is int and 0 <= v < 2**31) for v in numbers
        ):
            raise BackendOutputInvalid(f"{where}: exit_code is {_short(raw)}")
        status = str(raw.get("status", ""))
        code = exit_code_value(status, return_code, signal)
    chargeable = state is not JobState.NODE_FAIL and not (
        cancelled_by is not None and cancelled_by in operators
    )
    return AccountingRecord(
        cluster=_text(job.get("cluster") or cluster, f"{where} cluster"),
        job_id=job_id,
        submit_time=submit,
        account=_text(_get(job, "account", where), f"{where} account"),
        user=_text(_get(job, "user", where), f"{where} user"),
        partition=_text(job.get("partition"), f"{where} partition"),
        gpus=count.gpus,
        gpu_type=count.gpu_type,
        start_time=start,
        end_time=end,
        state=state,
        exit_code=code,
        elapsed_seconds=elapsed,
        gpu_seconds=count.gpus * elapsed,
        chargeable=chargeable,
        cancelled_by=_text(cancelled_by, f"{where} kill_request_user") if cancelled_by else None,
        name=_text(job.get("name"), f"{where} name"),
        qos=_text(job.get("qos"), f"{where} qos"),
    )
