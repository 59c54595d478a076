"""Accounting ingest: read finished allocations window by window, hand them to billing once.

Works against any :class:`~computeport.backends.protocol.AccountingSource` (Slurm or the
simulator).  The guarantees:

* resumable: a stored high-water mark (the end of the last window read) says where to go on;
  each window is saved only after the sink took its records, so a crash re-reads, never skips;
* late records: each run starts ``overlap`` before the mark, because slurmdbd can record a
  job's end after the fact (slurmctld queues records while slurmdbd is down);
* no duplicates: the keys seen within the overlap are stored with the mark and skipped on the
  next read; the sink must itself be idempotent on the key for explicit re-reads (``since``).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

from computeport.backends import AccountingRecord, AccountingSource, RecordKey, UsageSink
from computeport.kit.clock import Clock
from computeport.kit.errors import ValidationFailed

__all__ = [
    "CursorStore",
    "FileCursorStore",
    "InMemoryCursorStore",
    "InMemoryUsageSink",
    "IngestCursor",
    "IngestResult",
    "JsonLinesUsageSink",
    "ingest_accounting",
    "record_from_json",
    "record_to_json",
]


@dataclass(frozen=True, slots=True)
class IngestCursor:
    """Where ingest stands for one cluster: read up to ``high_water``.

    ``recent`` maps the keys already ingested that ended within the overlap before the mark to
    their end times (the end times say when a key can be forgotten).
    """

    high_water: datetime
    recent: Mapping[RecordKey, datetime] = field(default_factory=dict)


class CursorStore(Protocol):
    """Keeps one :class:`IngestCursor` per cluster (a file now; a database table later)."""

    def load(self, cluster: str) -> IngestCursor | None: ...

    def save(self, cluster: str, cursor: IngestCursor) -> None: ...


class InMemoryCursorStore:
    def __init__(self) -> None:
        self.cursors: dict[str, IngestCursor] = {}

    def load(self, cluster: str) -> IngestCursor | None:
        return self.cursors.get(cluster)

    def save(self, cluster: str, cursor: IngestCursor) -> None:
        self.cursors[cluster] = cursor


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _parse_time(value: object, where: str) -> datetime:
    if not isinstance(value, str):
        raise ValidationFailed(f"{where} is {value!r}, not an ISO time", field=where)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationFailed(f"{where} is {value!r}, not an ISO time", field=where) from None
    if parsed.tzinfo is None:
        raise ValidationFailed(f"{where} has no time zone", field=where)
    return parsed.astimezone(UTC)


class FileCursorStore:
    """A JSON file ``{cluster: {"high_water": …, "recent": [[cluster, job, submit], …]}}``.

    Written atomically (temporary file + rename), so a crash leaves the old or the new mark.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def _read(self) -> dict[str, object]:
        if not self.path.exists():
            return {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ValidationFailed(
                f"{self.path}: line {exc.lineno}: {exc.msg}", field="cursor"
            ) from None
        if not isinstance(data, dict):
            raise ValidationFailed(f"{self.path}: not a JSON object", field="cursor")
        return data

    def load(self, cluster: str) -> IngestCursor | None:
        entry = self._read().get(cluster)
        if entry is None:
            return None
        if not isinstance(entry, dict):
            raise ValidationFailed(f"{self.path}: {cluster} is not an object", field="cursor")
        keys = {}
        for item in entry.get("recent", []):
            if not (isinstance(item, list) and len(item) == 4):
                raise ValidationFailed(f"{self.path}: bad recent key {item!r}", field="recent")
            key = RecordKey(str(item[0]), str(item[1]), _parse_time(item[2], "recent"))
            keys[key] = _parse_time(item[3], "recent")
        return IngestCursor(_parse_time(entry.get("high_water"), "high_water"), keys)

    def save(self, cluster: str, cursor: IngestCursor) -> None:
        data = self._read()
        data[cluster] = {
            "high_water": _iso(cursor.high_water),
            "recent": [
                [k.cluster, k.job_id, _iso(k.submit_time), _iso(end)]
                for k, end in sorted(cursor.recent.items())
            ],
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=self.path.name + ".")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=1, sort_keys=True)
        os.replace(tmp, self.path)


class InMemoryUsageSink:
    """A sink that keeps records by key (tests, benchmarks); idempotent like billing's."""

    def __init__(self) -> None:
        self.records: dict[RecordKey, AccountingRecord] = {}
        self.offered = 0

    def accept(self, records: Sequence[AccountingRecord]) -> int:
        self.offered += len(records)
        new = 0
        for record in records:
            if record.key not in self.records:
                self.records[record.key] = record
                new += 1
        return new


def record_to_json(record: AccountingRecord) -> dict[str, object]:
    return {
        "cluster": record.cluster,
        "job_id": record.job_id,
        "submit_time": _iso(record.submit_time),
        "account": record.account,
        "user": record.user,
        "partition": record.partition,
        "gpus": record.gpus,
        "gpu_type": record.gpu_type,
        "start_time": _iso(record.start_time) if record.start_time else None,
        "end_time": _iso(record.end_time),
        "state": record.state.value,
        "exit_code": record.exit_code,
        "elapsed_seconds": record.elapsed_seconds,
        "gpu_seconds": record.gpu_seconds,
        "chargeable": record.chargeable,
        "cancelled_by": record.cancelled_by,
        "name": record.name,
        "qos": record.qos,
        **({"unreadable": record.unreadable} if record.unreadable else {}),
    }


def record_from_json(data: dict[str, object]) -> AccountingRecord:
    from computeport.backends import JobState

    def text(name: str) -> str:
        return str(data.get(name) or "")

    def number(name: str) -> int:
        value = data.get(name)
        if not isinstance(value, int):
            raise ValidationFailed(f"{name} is {value!r}, not an integer", field=name)
        return value

    start = data.get("start_time")
    return AccountingRecord(
        cluster=text("cluster"),
        job_id=text("job_id"),
        submit_time=_parse_time(data.get("submit_time"), "submit_time"),
        account=text("account"),
        user=text("user"),
        partition=text("partition"),
        gpus=number("gpus"),
        gpu_type=str(data["gpu_type"]) if data.get("gpu_type") else None,
        start_time=_parse_time(start, "start_time") if start else None,
        end_time=_parse_time(data.get("end_time"), "end_time"),
        state=JobState(text("state")),
        exit_code=number("exit_code"),
        elapsed_seconds=number("elapsed_seconds"),
        gpu_seconds=number("gpu_seconds"),
        chargeable=bool(data.get("chargeable", True)),
        cancelled_by=str(data["cancelled_by"]) if data.get("cancelled_by") else None,
        name=text("name"),
        qos=text("qos"),
        unreadable=text("unreadable"),
    )


class JsonLinesUsageSink:
    """Appends new records to a JSON-lines file, skipping keys already in it.

    The CLI's sink until billing's own is wired in; also a handy audit trail.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._keys: set[RecordKey] | None = None

    def _known(self) -> set[RecordKey]:
        if self._keys is None:
            self._keys = set()
            if self.path.exists():
                for number, line in enumerate(self.path.read_text("utf-8").splitlines(), 1):
                    if line.strip():
                        try:
                            self._keys.add(record_from_json(json.loads(line)).key)
                        except (json.JSONDecodeError, ValidationFailed) as exc:
                            raise ValidationFailed(
                                f"{self.path} line {number}: {exc}", field="usage"
                            ) from None
        return self._keys

    def accept(self, records: Sequence[AccountingRecord]) -> int:
        known = self._known()
        fresh = [r for r in records if r.key not in known]
        if fresh:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as fh:
                for record in fresh:
                    fh.write(json.dumps(record_to_json(record), sort_keys=True) + "\n")
            known.update(r.key for r in fresh)
        return len(fresh)


@dataclass(frozen=True, slots=True)
class IngestResult:
    since: datetime
    until: datetime
    read: int  # records the source returned (overlap included)
    skipped: int  # already ingested (seen within the overlap)
    offered: int  # handed to the sink
    accepted: int  # new to the sink
    windows: int


def ingest_accounting(
    source: AccountingSource,
    sink: UsageSink,
    store: CursorStore,
    clock: Clock,
    *,
    since: datetime | None = None,
    overlap: timedelta = timedelta(hours=1),
    first_lookback: timedelta = timedelta(days=30),
    window: timedelta = timedelta(days=1),
) -> IngestResult:
    """Read [start, now) in windows of at most ``window``; return what happened.

    ``start`` is ``since`` if given, else the stored mark minus ``overlap``, else
    ``now - first_lookback``.
    """
    if window <= timedelta(0) or overlap < timedelta(0):
        raise ValidationFailed("window must be positive and overlap non-negative", field="window")
    cluster = source.cluster
    now = clock.now()
    cursor = store.load(cluster)
    if since is not None:
        start = since
    elif cursor is not None:
        start = cursor.high_water - overlap
    else:
        start = now - first_lookback
    recent: dict[RecordKey, datetime] = dict(cursor.recent) if cursor else {}
    mark = cursor.high_water if cursor else start
    read = skipped = offered = accepted = windows = 0
    lo = start
    while lo < now:
        hi = min(lo + window, now)
        records = source.accounting(lo, hi)
        read += len(records)
        fresh = [r for r in records if r.key not in recent]
        skipped += len(records) - len(fresh)
        if fresh:
            accepted += sink.accept(fresh)  # raises → the mark stays put: nothing is lost
            offered += len(fresh)
        windows += 1
        recent.update((r.key, r.end_time) for r in records)
        mark = max(mark, hi)
        keep_from = mark - overlap
        recent = {k: end for k, end in recent.items() if end >= keep_from}
        store.save(cluster, IngestCursor(mark, recent))
        lo = hi
    return IngestResult(start, now, read, skipped, offered, accepted, windows)
