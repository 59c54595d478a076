"""Accounting from ``sacct --parsable2`` with explicit fields: the read that recovers records.

Why a second read at all: Slurm 22.05's ``sacct --json`` gives up on a job whose QOS (or account)
was deleted before slurmdbd stored the job ("_parser_dump: failed on field qos"): that job's
object is cut short (no ``state``, ``tres``, ``user``…) and *every job after it in the window is
left out*, while sacct still exits 0.  The text form looks the QOS up by name and prints
``Unknown`` instead, so it lists every job of the window in full.  The JSON stays the primary
source (its schema is typed); these lines stand in for jobs the JSON lost or cut short.

A field that cannot be read here either does not fail the window: the record is returned with
``unreadable`` saying which field and why, and metering quarantines it.  Only a line without a
job id cannot be kept anywhere; that fails the window, so the high-water mark never passes a
record that was neither ingested nor quarantined.
"""

from __future__ import annotations

import pwd
from collections.abc import Iterable
from datetime import UTC, datetime

from computeport.backends.errors import BackendOutputInvalid
from computeport.backends.slurm.sacct import job_state
from computeport.backends.slurm.tres import gpus_from_string
from computeport.backends.types.accounting import AccountingRecord
from computeport.backends.types.jobs import JobState

__all__ = ["RECORD_FORMAT", "UNREADABLE_TIME", "parse_sacct_lines"]

RECORD_FORMAT = (
    "JobIDRaw,Cluster,Account,User,Partition,QOS,State,Submit,Start,End,ElapsedRaw,"
    "AllocTRES,ReqTRES,ExitCode,JobName"
)
"""JobName last: it is the one field a user writes, so a ``|`` in it stays in the last column."""
_FIELDS = RECORD_FORMAT.split(",")
_UNSET = frozenset({"", "Unknown", "None"})
_MAX_SECONDS = 10**11

UNREADABLE_TIME = datetime(1970, 1, 1, tzinfo=UTC)
"""Stands in for a submit or end time that cannot be read, so the record still has a stable
key (the same line read again is the same quarantined record, not a new one)."""


class _Unreadable(Exception):
    def __init__(self, field: str, why: str) -> None:
        super().__init__(f"field {field!r} {why}")


def _time(text: str, field: str, *, optional: bool = False) -> datetime | None:
    if text in _UNSET:
        if optional:
            return None
        raise _Unreadable(field, f"is {text or 'empty'!r}")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise _Unreadable(field, f"is {text[:40]!r}, not a time") from None
    return parsed.replace(tzinfo=UTC)  # the runner sets TZ=UTC for sacct


def _must(text: str, field: str) -> datetime:
    value = _time(text, field)
    if value is None:  # pragma: no cover - _time raises for a required time
        raise _Unreadable(field, "is missing")
    return value


def _exit_code(text: str) -> int:
    rc, colon, sig = text.partition(":")
    if not colon or not rc.isdigit() or not sig.isdigit():
        raise _Unreadable("ExitCode", f"is {text[:40]!r}")
    signal = int(sig)
    return 128 + signal if signal else int(rc)


def _user_of_uid(text: str) -> str:
    """``CANCELLED by 1234`` names a uid; the JSON names the user: map it the same way."""
    if not text.isdigit():
        return text
    try:
        return pwd.getpwuid(int(text)).pw_name
    except (KeyError, OverflowError):
        return text


def _record(
    values: dict[str, str], cluster: str, operators: frozenset[str]
) -> AccountingRecord | None:
    state_text = values["State"]
    state = job_state(state_text)
    if not state.finished:
        return None
    submit = _must(values["Submit"], "Submit")
    end = _must(values["End"], "End")
    start = _time(values["Start"], "Start", optional=True)
    raw_elapsed = values["ElapsedRaw"]
    if not raw_elapsed.isdigit() or int(raw_elapsed) > _MAX_SECONDS:
        raise _Unreadable("ElapsedRaw", f"is {raw_elapsed[:40]!r}")
    elapsed = int(raw_elapsed) if start is not None else 0
    tres = values["AllocTRES"] or values["ReqTRES"]
    try:
        count = gpus_from_string(tres)
    except BackendOutputInvalid as exc:
        raise _Unreadable("AllocTRES", f"is unreadable: {exc.message}") from None
    words = state_text.split()
    cancelled_by = (
        _user_of_uid(words[2])
        if state is JobState.CANCELLED and len(words) == 3 and words[1] == "by"
        else None
    )
    chargeable = state is not JobState.NODE_FAIL and not (
        cancelled_by is not None and cancelled_by in operators
    )
    qos = values["QOS"]
    return AccountingRecord(
        cluster=values["Cluster"] or cluster,
        job_id=values["JobIDRaw"],
        submit_time=submit,
        account=values["Account"],
        user=values["User"],
        partition=values["Partition"],
        gpus=count.gpus,
        gpu_type=count.gpu_type,
        start_time=start,
        end_time=end,
        state=state,
        exit_code=_exit_code(values["ExitCode"]),
        elapsed_seconds=elapsed,
        gpu_seconds=count.gpus * elapsed,
        chargeable=chargeable,
        cancelled_by=cancelled_by,
        name=values["JobName"],
        qos="" if qos == "Unknown" else qos,  # Unknown: its QOS was deleted
    )


def _unreadable(values: dict[str, str], cluster: str, why: str) -> AccountingRecord:
    """What can be kept of a line with an unreadable field: its key, and why (quarantined)."""

    def time_or_placeholder(field: str) -> datetime:
        try:
            return _time(values.get(field, ""), field) or UNREADABLE_TIME
        except _Unreadable:
            return UNREADABLE_TIME

    return AccountingRecord(
        cluster=values.get("Cluster") or cluster,
        job_id=values["JobIDRaw"],
        submit_time=time_or_placeholder("Submit"),
        account=values.get("Account", ""),
        user=values.get("User", ""),
        partition=values.get("Partition", ""),
        gpus=0,
        gpu_type=None,
        start_time=None,
        end_time=time_or_placeholder("End"),
        state=JobState.OTHER,
        exit_code=0,
        elapsed_seconds=0,
        gpu_seconds=0,
        chargeable=False,
        unreadable=f"sacct --parsable2: {why}",
    )


def parse_sacct_lines(
    text: str, *, cluster: str, operator_users: Iterable[str] = ()
) -> dict[str, AccountingRecord | None]:
    """``sacct -X -P -n --format=RECORD_FORMAT`` → {job id: record, or None when unfinished}.

    A finished job whose line has an unreadable field comes back with ``unreadable`` set; a
    line without a job id raises :class:`BackendOutputInvalid` (nothing could key it).
    """
    operators = frozenset(operator_users)
    out: dict[str, AccountingRecord | None] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split("|", len(_FIELDS) - 1)
        job_id = parts[0].strip()
        if not job_id or "\x00" in line:
            raise BackendOutputInvalid(
                f"sacct --parsable2 line {number}: no job id in {line[:80]!r}", field="JobIDRaw"
            )
        values = dict(zip(_FIELDS, parts, strict=False))
        if len(parts) < len(_FIELDS):
            out[job_id] = _unreadable(values, cluster, f"{len(parts)} of {len(_FIELDS)} fields")
            continue
        try:
            out[job_id] = _record(values, cluster, operators)
        except _Unreadable as exc:
            out[job_id] = _unreadable(values, cluster, str(exc))
    return out
