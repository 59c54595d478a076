"""Idempotent, batched ingest of accounting records into ``usage_record``.

The rules (DESIGN.md, issue 5):

- the same record ingested again changes nothing (unique ``(cluster, job_id, submit_time,
  digest)``, insert … on conflict do nothing);
- a record whose key exists with other content is a correction: it is stored as a new row and
  posting reverses the old row's rating (:mod:`computeport.billing.posting`); rows are never
  edited;
- a record that cannot be billed goes to ``usage_quarantine`` with the reason (unknown
  account, unknown accelerator type or no price at the job's end, negative duration, an end
  after the injected clock's now) and is counted in the report — never silently dropped;
- a job that ended in ``NODE_FAIL`` is never chargeable, whatever the back end says (the
  back end also marks operators' maintenance cancels ``chargeable=False``);
- writes are set-based (:class:`~computeport.db.bulk.BulkWriter`) and the function never
  commits: the caller's unit of work does, so a crash loses at most the uncommitted batch and
  a rerun converges to the uninterrupted result.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy.orm import Session

from computeport.backends import AccountingRecord, JobState, UsageSink
from computeport.db.bulk import BulkWriter
from computeport.kit.clock import Clock
from computeport.metering.cursor import lock_billing
from computeport.metering.directory import AccountDirectory
from computeport.models.metering import QuarantineReason
from computeport.pricing.book import PriceBook

DEFAULT_ACCELERATOR = "h800"
"""The type assumed when a record has only the untyped GPU TRES (AISC runs H800 only)."""

BATCH = 20_000

_RECORD_COLUMNS = (
    "cluster",
    "job_id",
    "submit_time",
    "digest",
    "account",
    "user_name",
    "partition",
    "qos",
    "accelerator_type",
    "gpus",
    "start_time",
    "end_time",
    "state",
    "chargeable",
    "exit_code",
    "gpu_seconds",
    "ingested_at",
)
_QUARANTINE_COLUMNS = (
    "cluster",
    "job_id",
    "submit_time",
    "digest",
    "reason",
    "detail",
    "payload",
    "ingested_at",
)
_KEY = ("cluster", "job_id", "submit_time", "digest")


@dataclass
class IngestReport:
    """What one ingest did."""

    received: int = 0
    new: int = 0
    duplicates: int = 0
    quarantined: Counter[str] = field(default_factory=Counter)

    def merge(self, other: IngestReport) -> None:
        self.received += other.received
        self.new += other.new
        self.duplicates += other.duplicates
        self.quarantined.update(other.quarantined)


def accelerator_of(record: AccountingRecord) -> str:
    return (record.gpu_type or DEFAULT_ACCELERATOR).strip().lower()


def digest_of(
    record: AccountingRecord, accelerator: str, start: object = None, end: object = None
) -> str:
    """16 hex digits over the billable content: equal records, equal digests.

    ``start``/``end`` may pass the times already encoded for the database (any stable text
    of the instant will do); by default the epoch seconds are used.
    """
    if end is None:
        start = record.start_time.timestamp() if record.start_time is not None else ""
        end = record.end_time.timestamp()
    text = (
        f"{record.account}|{record.user}|{record.partition}|{record.qos}|{accelerator}|"
        f"{record.gpus}|{start}|{end}|{record.state}|"
        f"{record.chargeable}|{record.exit_code}|{record.gpu_seconds}"
    )
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def _payload(record: AccountingRecord) -> str:
    def iso(d: datetime | None) -> str | None:
        return None if d is None else d.astimezone(UTC).isoformat().replace("+00:00", "Z")

    return json.dumps(
        {
            "cluster": record.cluster,
            "job_id": record.job_id,
            "submit_time": iso(record.submit_time),
            "account": record.account,
            "user": record.user,
            "partition": record.partition,
            "gpus": record.gpus,
            "gpu_type": record.gpu_type,
            "start_time": iso(record.start_time),
            "end_time": iso(record.end_time),
            "state": str(record.state),
            "exit_code": record.exit_code,
            "elapsed_seconds": record.elapsed_seconds,
            "gpu_seconds": record.gpu_seconds,
            "chargeable": record.chargeable,
            "cancelled_by": record.cancelled_by,
            "qos": record.qos,
            **({"unreadable": record.unreadable} if record.unreadable else {}),
        },
        sort_keys=True,
    )


def check(
    record: AccountingRecord,
    accelerator: str,
    now_epoch: float,
    directory: AccountDirectory,
    prices: PriceBook,
) -> tuple[QuarantineReason, str] | None:
    """Why ``record`` cannot be billed, or None when it can."""
    if record.unreadable:  # its other fields are placeholders: nothing else can be checked
        return QuarantineReason.UNREADABLE, f"job {record.job_id}: {record.unreadable}"
    end = record.end_time.timestamp()
    if end > now_epoch:
        return QuarantineReason.FROM_THE_FUTURE, f"ends {record.end_time.isoformat()}"
    if (
        record.gpu_seconds < 0
        or record.elapsed_seconds < 0
        or (record.start_time is not None and record.start_time > record.end_time)
    ):
        return QuarantineReason.NEGATIVE_DURATION, (
            f"start {record.start_time}, end {record.end_time}, gpu_seconds {record.gpu_seconds}"
        )
    if not directory.knows(record.account):
        return QuarantineReason.UNKNOWN_ACCOUNT, f"account {record.account!r}"
    if not prices.knows(accelerator):
        return QuarantineReason.UNKNOWN_ACCELERATOR, (
            f"accelerator type {accelerator!r} has no price; fix: computeport prices draft "
            f"gpu-hour {accelerator} PRICE --from {record.end_time.date().isoformat()} --reason "
            f"…, approved by a scheme officer, then computeport billing quarantine --release"
        )
    if prices.at(accelerator, end, cluster=record.cluster) is None:
        return QuarantineReason.NO_PRICE, (
            f"no {accelerator} price at {record.end_time}: the first one starts later (a "
            f"price is never set retroactively; bill it by a manual adjustment)"
        )
    return None


def ingest_usage(
    session: Session,
    clock: Clock,
    records: Iterable[AccountingRecord],
    *,
    batch_size: int = BATCH,
) -> IngestReport:
    """Store new records, skip ones already stored, quarantine bad ones; never commits."""
    lock_billing(session)
    directory = AccountDirectory.load(session)
    prices = PriceBook.load(session)
    writer = BulkWriter(session)
    report = IngestReport()
    batch: list[AccountingRecord] = []
    for record in records:
        batch.append(record)
        if len(batch) >= batch_size:
            report.merge(_ingest_batch(writer, clock, batch, directory, prices))
            batch = []
    if batch:
        report.merge(_ingest_batch(writer, clock, batch, directory, prices))
    return report


_Key = tuple[str, str, Any, str]
"""A record's unique key as stored: (cluster, job id, submit time as stored, digest)."""
_Encoded = tuple[AccountingRecord, str, Any, Any, Any, str, _Key]
"""A record ready to check and write: (record, accelerator type, submit, start and end as the
engine stores them, digest, key).  A typed tuple, not a NamedTuple: one is made per record
(see :mod:`computeport.billing.charge_rows` for the measurement)."""
_KEY_AT: Final = 6
_Problem = tuple[_Encoded, tuple[QuarantineReason, str]]
"""A record that cannot be billed, with its reason and detail."""


def _ingest_batch(
    writer: BulkWriter,
    clock: Clock,
    batch: Sequence[AccountingRecord],
    directory: AccountDirectory,
    prices: PriceBook,
) -> IngestReport:
    """Ingest one batch in five numbered steps; never commits."""
    now = clock.now()
    postgres = writer.is_postgres
    # 1. Encode each record as its engine stores it, digest included; drop repeats.
    fresh = _encode(writer, batch)
    # 2. PostgreSQL: find the records already stored, by one query per cluster in the batch.
    #    SQLite's "insert … on conflict do nothing" skips them for less than that query
    #    costs, so there only records that fail a check are looked up (step 4).
    stored = _stored_keys(writer, fresh) if postgres else set()
    # 3. Check the rest: a row to write, or a reason to quarantine the record.
    good, problems = _check_all(writer, now, fresh, stored, directory, prices)
    # 4. SQLite: a stored record is never quarantined on a rerun, whatever changed since.
    if problems and not postgres:
        known = _stored_keys(writer, [entry for entry, _ in problems])
        problems = [(entry, p) for entry, p in problems if entry[_KEY_AT] not in known]
    # 5. Write the records, then the quarantined ones.  On PostgreSQL rows already stored
    #    were skipped in step 3, and the billing lock (taken by ingest_usage) keeps any other
    #    writer out until this transaction ends: the rows go straight in by COPY.
    report = IngestReport(received=len(batch))
    report.new = writer.insert(
        "usage_record",
        _RECORD_COLUMNS,
        good,
        conflict=None if postgres else _KEY,
        encoded=True,
    )
    bad = [
        (r.cluster, r.job_id, r.submit_time, digest, str(reason), detail, _payload(r), now)
        for (r, _, _, _, _, digest, _), (reason, detail) in problems
    ]
    report.duplicates = len(batch) - report.new - len(bad)
    if bad:
        writer.insert("usage_quarantine", _QUARANTINE_COLUMNS, bad, conflict=_KEY)
        report.quarantined.update(str(b[4]) for b in bad)
    return report


def _encode(writer: BulkWriter, batch: Sequence[AccountingRecord]) -> list[_Encoded]:
    """The batch's records with times as the engine stores them, each key once."""
    postgres = writer.is_postgres
    # The digest hashes the times as each engine has always stored them (changing that text
    # would make every stored record look corrected): SQLite's naive text, PostgreSQL's with
    # "+00:00".  ``isoformat`` of a UTC datetime, cut, is exactly that text.
    cut = 32 if postgres else 26
    fresh: list[_Encoded] = []
    accelerators: dict[str | None, str] = {}
    seen: set[_Key] = set()
    for r in batch:
        acc = accelerators.get(r.gpu_type)
        if acc is None:
            acc = accelerators[r.gpu_type] = accelerator_of(r)
        submit, start, end = r.submit_time, r.start_time, r.end_time
        if submit.tzinfo is not UTC:
            submit = submit.astimezone(UTC)
        if end.tzinfo is not UTC:
            end = end.astimezone(UTC)
        if start is not None and start.tzinfo is not UTC:
            start = start.astimezone(UTC)
        end_txt = end.isoformat(" ", "microseconds")[:cut]
        start_txt = start.isoformat(" ", "microseconds")[:cut] if start is not None else None
        if postgres:
            submit_db: Any = submit
            start_db: Any = start
            end_db: Any = end
        else:
            submit_db = submit.isoformat(" ", "microseconds")[:26]
            start_db, end_db = start_txt, end_txt
        digest = digest_of(r, acc, start_txt, end_txt)
        key = (r.cluster, r.job_id, submit_db, digest)
        if key in seen:
            continue
        seen.add(key)
        fresh.append((r, acc, submit_db, start_db, end_db, digest, key))
    return fresh


def _check_all(
    writer: BulkWriter,
    now: datetime,
    fresh: list[_Encoded],
    stored: set[tuple[Any, ...]],
    directory: AccountDirectory,
    prices: PriceBook,
) -> tuple[list[tuple[object, ...]], list[_Problem]]:
    """Split ``fresh`` (less the ``stored`` keys) into ``usage_record`` rows and problems."""
    now_epoch = now.timestamp()
    now_db = writer.dt(now)
    true, false = writer.flag(True), writer.flag(False)
    good: list[tuple[object, ...]] = []
    problems: list[_Problem] = []
    for entry in fresh:
        r, acc, submit_db, start_db, end_db, digest, key = entry
        if stored and key in stored:
            continue
        problem = check(r, acc, now_epoch, directory, prices)
        if problem is not None:
            problems.append((entry, problem))
            continue
        good.append(
            (
                r.cluster,
                r.job_id,
                submit_db,
                digest,
                r.account,
                r.user,
                r.partition,
                r.qos or "normal",
                acc,
                r.gpus,
                start_db,
                end_db,
                str(r.state),
                true if r.chargeable and r.state != JobState.NODE_FAIL else false,
                r.exit_code,
                r.gpu_seconds,
                now_db,
            )
        )
    return good, problems


def _stored_keys(writer: BulkWriter, fresh: Sequence[tuple[Any, ...]]) -> set[tuple[Any, ...]]:
    """The ``(cluster, job_id, submit_time, digest)`` keys of ``fresh`` already stored.

    One indexed query per cluster in the batch, not one probe per record: a rerun of the
    same input (the common case for a backfill or a replayed sacct window) then skips the
    records here, before any checking, encoding or writing.
    """
    by_cluster: dict[str, set[str]] = {}
    for r, *_ in fresh:
        jobs = by_cluster.get(r.cluster)
        if jobs is None:
            jobs = by_cluster[r.cluster] = set()
        jobs.add(r.job_id)
    # The job ids travel as one JSON text (encoded in C) rather than as an array parameter
    # (encoded element by element in Python); both engines probe the unique index with them.
    if writer.is_postgres:
        jobs_sql = "= ANY(ARRAY(SELECT jsonb_array_elements_text(CAST(? AS jsonb))))"
    else:
        jobs_sql = "IN (SELECT value FROM json_each(?))"
    stored: set[tuple[Any, ...]] = set()
    for cluster, jobs in by_cluster.items():
        stored.update(
            writer.fetch(
                "SELECT cluster, job_id, submit_time, digest FROM usage_record "  # noqa: S608
                f"WHERE cluster = ? AND job_id {jobs_sql}",
                (cluster, json.dumps(list(jobs))),
            )
        )
    return stored


class BillingUsageSink:
    """The :class:`~computeport.backends.protocol.UsageSink` billing offers the back ends.

    It writes through the session it is given and never commits (the ingest job does).
    """

    def __init__(self, session: Session, clock: Clock) -> None:
        self.session = session
        self.clock = clock
        self.last_report = IngestReport()

    def accept(self, records: Sequence[AccountingRecord]) -> int:
        """Ingest ``records``; return how many were new (quarantined ones are not)."""
        self.last_report = ingest_usage(self.session, self.clock, records)
        return self.last_report.new


def _sink_check(sink: BillingUsageSink) -> UsageSink:
    return sink  # mypy proves BillingUsageSink satisfies the protocol


__all__ = [
    "DEFAULT_ACCELERATOR",
    "BillingUsageSink",
    "IngestReport",
    "accelerator_of",
    "check",
    "digest_of",
    "ingest_usage",
]
