"""The rows of a posting batch: records read, ratings waiting on a cap, ``usage_charge`` rows
written, and stored ones read back.

Split from :mod:`computeport.billing.posting` (which decides *what* to rate) because this is
the mechanical half: encoding values exactly as the database stores them, accumulating the
batch's ledger sums, and folding a record's charge rows into its current rating.

Why the hot rows are typed tuples, not NamedTuples: a posting run makes one of each per
record, a million per million records, and building a NamedTuple costs about five times a
tuple display (measured: ~1.5 µs against ~0.3 µs a row, over a second per million records
against the 60 s budget).  A fixed-length ``tuple[...]`` type gives the layout one name, and
mypy checks every unpacking and every tuple built against it, at no cost at run time.
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from computeport.billing.rating import Amounts, OrderKey
from computeport.db.bulk import BulkWriter
from computeport.metering.directory import AwardTerms
from computeport.models.ledger import AccountKind
from computeport.models.metering import ChargeKind

CHARGE_COLUMNS = (
    "record_id",
    "sign",
    "kind",
    "award_id",
    "organisation_id",
    "accelerator_type",
    "cluster",
    "job_id",
    "submit_time",
    "end_time",
    "period",
    "gpu_seconds",
    "list_minor",
    "subsidy_minor",
    "copay_minor",
    "credited_minor",
    "price_version_id",
    "journal_id",
    "rated_at",
)
JOURNAL_AT: Final = CHARGE_COLUMNS.index("journal_id")
"""Where a charge row holds its journal id: unknown while rating, stamped once the batch's
journal exists (:meth:`ChargeBatch.stamp_journal`)."""
CHARGE_SELECT = (
    "SELECT id, record_id, sign, kind, award_id, organisation_id, accelerator_type, cluster, "
    "job_id, submit_time, end_time, period, gpu_seconds, list_minor, subsidy_minor, "
    "copay_minor, credited_minor, price_version_id FROM usage_charge"
)


UsageRow = tuple[int, str, str, Any, str, str, str, Any, bool, int, float, float, str]
"""A usage record as the posting batch reads it (see :data:`USAGE_FIELDS`)."""
USAGE_FIELDS = (
    "id",
    "cluster",
    "job_id",
    "submit_time",  # raw, as the driver returns it: copied into the charge row unchanged
    "account",
    "qos",
    "accelerator_type",
    "end_time",  # raw
    "chargeable",
    "gpu_seconds",
    "end_epoch",  # whole epoch seconds, computed by the database
    "submit_epoch",
    "period",  # the UTC month of the end, YYYY-MM
)
"""The names of :data:`UsageRow`'s fields, in order."""

OnCap = tuple[int, OrderKey, str, str, str, Any, Any, str, int, int, Any]
"""A new record waiting to consume its award's cap: (record id, order key, accelerator type,
cluster, job id, submit (raw), end (raw), period, GPU-seconds, full list price in cents,
price version id as stored).  The award and organisation are its list's, not its own."""
ON_CAP_KEY: Final = 1
ON_CAP_FULL_LIST: Final = 9

ChargeRow = list[Any]
"""A ``usage_charge`` row laid out as :data:`CHARGE_COLUMNS`, values encoded for the database
(a list: its journal id is stamped in place, see :data:`JOURNAL_AT`)."""


@dataclass
class PostReport:
    """What one call of :func:`post_usage` did."""

    records: int = 0
    charges: int = 0
    reversals: int = 0
    rerated: int = 0
    superseded: int = 0
    journals: int = 0
    last_record_id: int = 0
    by_kind: Counter[str] = field(default_factory=Counter)
    awards_touched: set[uuid.UUID] = field(default_factory=set)

    def merge(self, other: PostReport) -> None:
        self.records += other.records
        self.charges += other.charges
        self.reversals += other.reversals
        self.rerated += other.rerated
        self.superseded += other.superseded
        self.journals += other.journals
        self.last_record_id = max(self.last_record_id, other.last_record_id)
        self.by_kind.update(other.by_kind)
        self.awards_touched |= other.awards_touched


@dataclass(slots=True)
class Item:
    """One thing to (re-)rate on an award's cap: a new record, or a stored rating."""

    record_id: int
    key: OrderKey
    award: AwardTerms
    organisation_id: uuid.UUID
    accelerator_type: str
    cluster: str
    job_id: str
    submit_raw: Any
    end_raw: Any
    period: str
    gpu_seconds: int
    full_list: int
    price_version_id: Any
    award_db: Any
    org_db: Any
    current: Amounts | None = None
    """The stored rating (None for a new record)."""


class Codec:
    """Raw driver values of datetimes → epoch seconds and UTC month."""

    def __init__(self, postgres: bool) -> None:
        self.postgres = postgres

    def epoch(self, raw: Any) -> float:
        if self.postgres:
            return float(int(raw.timestamp()))
        return float(int(datetime.fromisoformat(raw).replace(tzinfo=UTC).timestamp()))

    def period(self, raw: Any) -> str:
        if self.postgres:
            d = raw.astimezone(UTC)
            return f"{d.year:04d}-{d.month:02d}"
        return str(raw[:7])

    def epoch_sql(self, column: str) -> str:
        """SQL for a timestamp column as whole epoch seconds (Slurm times are whole seconds)."""
        if self.postgres:
            return f"CAST(EXTRACT(EPOCH FROM {column}) AS BIGINT)"
        return f"CAST(strftime('%s', {column}) AS INTEGER)"

    def period_sql(self, column: str) -> str:
        """SQL for the UTC month ``YYYY-MM`` of a timestamp column."""
        if self.postgres:
            return f"to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM')"
        return f"substr({column}, 1, 7)"

    def uuid(self, raw: Any) -> uuid.UUID | None:
        if raw is None or isinstance(raw, uuid.UUID):
            return raw
        return uuid.UUID(hex=str(raw))


class ChargeBatch:
    """The rows (pre-encoded for the database) and postings one batch produces.

    Ids arrive already encoded as the database stores them (``enc``), and the ledger sums
    are keyed by those strings: hashing a UUID object costs more than rating a record.
    """

    def __init__(self, writer: BulkWriter, now: datetime) -> None:
        self.writer = writer
        self.now = now
        self.now_db = writer.dt(now)
        self.rows: list[ChargeRow] = []
        self.report = PostReport()
        # (award id, organisation id), encoded → [subsidy, co-payment, list]
        self.sums: dict[tuple[Any, Any], list[int]] = {}
        self.kinds: Counter[str] = Counter()

    def enc(self, value: Any) -> Any:
        """A UUID as the database stores it (strings from the driver pass through)."""
        if value is None or isinstance(value, str):
            return value
        return self.writer.uuid(value)

    def emit(
        self,
        sign: int,
        amounts: Amounts,
        record_id: int,
        award_db: Any,
        org_db: Any,
        accelerator_type: str,
        cluster: str,
        job_id: str,
        submit_raw: Any,
        end_raw: Any,
        period: str,
        gpu_seconds: int,
        pv_db: Any,
    ) -> None:
        kind, total, s, p, credited = amounts
        if sign < 0:
            total, s, p, credited, gpu_seconds = -total, -s, -p, -credited, -gpu_seconds
            self.report.reversals += 1
        else:
            self.kinds[kind] += 1
        self.rows.append(
            [
                record_id,
                sign,
                kind,
                award_db,
                org_db,
                accelerator_type,
                cluster,
                job_id,
                submit_raw,
                end_raw,
                period,
                gpu_seconds,
                total,
                s,
                p,
                credited,
                pv_db,
                None,  # journal id, filled in once the journal exists
                self.now_db,
            ]
        )
        if s or p or total:
            self.add_sums(award_db if s else None, org_db, s, p, total)

    def add_sums(self, award_db: Any, org_db: Any, subsidy: int, copay: int, total: int) -> None:
        """Add to the batch's ledger sums of (award, organisation); all zero adds nothing.

        ``award_db`` is None for rows without a subsidy (only the organisation owes).
        """
        if not (subsidy or copay or total):
            return
        key = (award_db, org_db)
        acc = self.sums.get(key)
        if acc is None:
            acc = self.sums[key] = [0, 0, 0]
        acc[0] += subsidy
        acc[1] += copay
        acc[2] += total

    def finish_report(self) -> None:
        self.report.charges = sum(self.kinds.values())
        self.report.by_kind.update({str(k): v for k, v in self.kinds.items()})

    def lines(self) -> dict[tuple[AccountKind, uuid.UUID | None], int]:
        """The batch's postings per (account kind, owner)."""
        out: dict[tuple[AccountKind, uuid.UUID | None], int] = defaultdict(int)
        for (award_db, org_db), (s, p, total) in self.sums.items():
            award_id = decode_uuid(award_db)
            organisation_id = decode_uuid(org_db)
            if s:
                out[(AccountKind.SUBSIDY_RECEIVABLE, award_id)] += s
                out[(AccountKind.ENVELOPE_CONSUMED, award_id)] += s
                out[(AccountKind.ENVELOPE_COMMITTED, award_id)] -= s
            if p:
                out[(AccountKind.RECEIVABLE, organisation_id)] += p
            if total:
                out[(AccountKind.REVENUE, None)] -= total
        return out

    def stamp_journal(self, journal_db: Any) -> None:
        """Set every row's journal id (the journal is written after the rows are rated)."""
        for row in self.rows:
            row[JOURNAL_AT] = journal_db

    def emit_item(self, sign: int, amounts: Amounts, item: Item) -> None:
        self.emit(
            sign,
            amounts,
            item.record_id,
            item.award_db,
            item.org_db,
            item.accelerator_type,
            item.cluster,
            item.job_id,
            item.submit_raw,
            item.end_raw,
            item.period,
            item.gpu_seconds,
            item.price_version_id,
        )


def decode_uuid(value: Any) -> uuid.UUID | None:
    if value is None or isinstance(value, uuid.UUID):
        return value
    return uuid.UUID(str(value))


@dataclass(slots=True)
class Stored:
    """A stored record's current rating, summed over its charge rows."""

    record_id: int
    active: bool
    kind: ChargeKind
    award_id: uuid.UUID | None
    organisation_id: uuid.UUID
    accelerator_type: str
    cluster: str
    job_id: str
    submit_raw: Any
    end_raw: Any
    period: str
    gpu_seconds: int
    amounts: Amounts
    price_version_id: Any


def fold_stored(rows: Iterable[tuple[Any, ...]], codec: Codec) -> dict[int, Stored]:
    """Fold charge rows (see ``CHARGE_SELECT``) into each record's current rating."""
    acc: dict[int, list[Any]] = {}
    for r in sorted(rows, key=lambda r: r[0]):
        (
            _,
            rid,
            sign,
            kind,
            award,
            org,
            accel,
            cluster,
            job,
            sub,
            end,
            period,
            gs,
            lst,
            sub_m,
            cop,
            cred,
            pv,
        ) = r
        entry = acc.get(rid)
        if entry is None:
            entry = acc[rid] = [
                0,
                kind,
                award,
                org,
                accel,
                cluster,
                job,
                sub,
                end,
                period,
                0,
                0,
                0,
                0,
                0,
                pv,
            ]
        entry[0] += sign
        if sign > 0:
            entry[1] = kind
            entry[15] = pv
        entry[10] += gs
        entry[11] += lst
        entry[12] += sub_m
        entry[13] += cop
        entry[14] += cred
    out: dict[int, Stored] = {}
    for rid, e in acc.items():
        out[rid] = Stored(
            record_id=rid,
            active=e[0] == 1,
            kind=ChargeKind(e[1]),
            award_id=codec.uuid(e[2]),
            organisation_id=codec.uuid(e[3]) or uuid.UUID(int=0),
            accelerator_type=e[4],
            cluster=e[5],
            job_id=e[6],
            submit_raw=e[7],
            end_raw=e[8],
            period=e[9],
            gpu_seconds=int(e[10]),
            amounts=Amounts(ChargeKind(e[1]), int(e[11]), int(e[12]), int(e[13]), int(e[14])),
            price_version_id=e[15],
        )
    return out


def chunks(ids: list[int], size: int = 500) -> Iterable[list[int]]:
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


def is_cap_item(s: Stored) -> bool:
    return s.active and s.award_id is not None and s.kind is not ChargeKind.CREDITED


__all__ = [
    "CHARGE_COLUMNS",
    "CHARGE_SELECT",
    "JOURNAL_AT",
    "ON_CAP_FULL_LIST",
    "ON_CAP_KEY",
    "USAGE_FIELDS",
    "ChargeBatch",
    "ChargeRow",
    "Codec",
    "Item",
    "OnCap",
    "PostReport",
    "Stored",
    "UsageRow",
    "chunks",
    "decode_uuid",
    "fold_stored",
    "is_cap_item",
]
