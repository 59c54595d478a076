"""Rate the unposted usage records and post them to the ledger, one batch per call.

How a batch goes (each step set-based; the caller commits, so a batch is all or nothing):

1. take the billing lock and read the cursor: records with ``id`` above it, in id order;
2. corrections: a record whose key already has an earlier row supersedes it — the earlier
   row's current rating is reversed (a −1 row), and the award's cap is re-run from there;
3. rate each record (:mod:`computeport.billing.rating`); records on an award's cap are rated
   per award in (job end, cluster, job id) order.  When a record arrives late (its key sorts
   before ratings already made for that award) the award's later ratings are re-rated as if
   it had arrived in order: every one whose amounts change gets a reversal row and a new
   rating row (unchanged ones are left alone — reversing and re-posting them would net to
   the same balances);
4. write the rating rows (``usage_charge``) and one balanced journal for the batch
   (key ``usage:<first id>-<last id>``), advance the cursor — all in the caller's transaction.

Postings per rating row of charge L = subsidy S + co-payment P (reversals negated)::

    Dr subsidy_receivable:<award>  S     Dr envelope_consumed:<award>  S
    Dr receivable:<organisation>   P     Cr envelope_committed:<award> S
    Cr revenue:gpu                 L
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from computeport.billing.arith import Price, Rate
from computeport.billing.bulk import BulkWriter
from computeport.billing.lock import advance, lock_billing
from computeport.billing.notices import THRESHOLDS, notify_burn_down
from computeport.billing.rating import (
    Amounts,
    OrderKey,
    credited,
    order_key,
    outside_award,
    pay_as_you_go,
    within_award,
)
from computeport.kit.clock import Clock
from computeport.kit.errors import DomainError
from computeport.ledger.accounts import AccountBook
from computeport.ledger.envelope import post_envelope_movements
from computeport.ledger.journal import write_journal
from computeport.ledger.queries import balances_by_owner
from computeport.metering.directory import AccountDirectory, AwardTerms
from computeport.models.award import OverCapPolicy
from computeport.models.ledger import AccountKind, JournalKind
from computeport.models.metering import ChargeKind
from computeport.pricing.service import PriceBook, PriceEntry

BATCH = 50_000
ANALYSE_EVERY = 200_000
"""PostgreSQL: refresh the planner's statistics every this many records posted in a run."""

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
_CHARGE_SELECT = (
    "SELECT id, record_id, sign, kind, award_id, organisation_id, accelerator_type, cluster, "
    "job_id, submit_time, end_time, period, gpu_seconds, list_minor, subsidy_minor, "
    "copay_minor, credited_minor, price_version_id FROM usage_charge"
)


class PostingError(DomainError):
    """A stored record cannot be rated (its account or price disappeared since ingest)."""

    status_code = 409


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
class _Item:
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


@dataclass(slots=True)
class _AwardCap:
    consumed: int
    max_key: OrderKey | None
    refused: bool = False
    """Some rating was refused (``refuse`` terms): the cap binds below its amount."""


@dataclass
class RatingState:
    """Per-award cap state carried across batches of one run (checked against the cursor)."""

    position: int = -1
    caps: dict[uuid.UUID, _AwardCap] = field(default_factory=dict)
    notified: set[tuple[uuid.UUID, int]] = field(default_factory=set)
    analysed_at: int = -ANALYSE_EVERY
    """Burn-down thresholds already enqueued in this run (the outbox dedupes across runs)."""


class _Codec:
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


class _Batch:
    """The rows (pre-encoded for the database) and postings one batch produces.

    Ids arrive already encoded as the database stores them (``enc``), and the ledger sums
    are keyed by those strings: hashing a UUID object costs more than rating a record.
    """

    def __init__(self, writer: BulkWriter, now: datetime) -> None:
        self.writer = writer
        self.now = now
        self.now_db = writer.dt(now)
        self.rows: list[list[Any]] = []
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
            key = (award_db if s else None, org_db)
            acc = self.sums.get(key)
            if acc is None:
                acc = self.sums[key] = [0, 0, 0]
            acc[0] += s
            acc[1] += p
            acc[2] += total

    def finish_report(self) -> None:
        self.report.charges = sum(self.kinds.values())
        self.report.by_kind.update({str(k): v for k, v in self.kinds.items()})

    def lines(self) -> dict[tuple[AccountKind, uuid.UUID | None], int]:
        """The batch's postings per (account kind, owner)."""
        out: dict[tuple[AccountKind, uuid.UUID | None], int] = defaultdict(int)
        for (award_db, org_db), (s, p, total) in self.sums.items():
            award_id = _decode(award_db)
            organisation_id = _decode(org_db)
            if s:
                out[(AccountKind.SUBSIDY_RECEIVABLE, award_id)] += s
                out[(AccountKind.ENVELOPE_CONSUMED, award_id)] += s
                out[(AccountKind.ENVELOPE_COMMITTED, award_id)] -= s
            if p:
                out[(AccountKind.RECEIVABLE, organisation_id)] += p
            if total:
                out[(AccountKind.REVENUE, None)] -= total
        return out

    def emit_item(self, sign: int, amounts: Amounts, item: _Item) -> None:
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


def _decode(value: Any) -> uuid.UUID | None:
    if value is None or isinstance(value, uuid.UUID):
        return value
    return uuid.UUID(str(value))


@dataclass(slots=True)
class _Stored:
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


def _stored(rows: Iterable[tuple[Any, ...]], codec: _Codec) -> dict[int, _Stored]:
    """Fold charge rows (see ``_CHARGE_SELECT``) into each record's current rating."""
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
    out: dict[int, _Stored] = {}
    for rid, e in acc.items():
        out[rid] = _Stored(
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


def _chunks(ids: list[int], size: int = 500) -> Iterable[list[int]]:
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


def _is_cap_item(s: _Stored) -> bool:
    return s.active and s.award_id is not None and s.kind is not ChargeKind.CREDITED


def post_usage(
    session: Session,
    clock: Clock,
    *,
    batch_size: int = BATCH,
    state: RatingState | None = None,
) -> PostReport:
    """Rate and post the next batch of unposted records (at most ``batch_size``).

    Returns a report with ``records == 0`` when nothing was left.  Never commits.
    """
    position = lock_billing(session)
    post_envelope_movements(session, clock)
    state = state if state is not None else RatingState()
    if state.position != position:
        state.caps.clear()
    writer = BulkWriter(session)
    codec = _Codec(writer.is_postgres)
    # An id range, not "ORDER BY id LIMIT n": both engines answer it from the primary key
    # whatever their statistics say (ids have gaps where duplicates were skipped).
    first = writer.fetch("SELECT MIN(id) FROM usage_record WHERE id > ?", (position,))[0][0]
    records = (
        writer.fetch(
            "SELECT id, cluster, job_id, submit_time, account, qos, accelerator_type, "  # noqa: S608
            f"end_time, chargeable, gpu_seconds, {codec.epoch_sql('end_time')}, "
            f"{codec.epoch_sql('submit_time')}, {codec.period_sql('end_time')} "
            "FROM usage_record WHERE id >= ? AND id < ? ORDER BY id",
            (first, first + batch_size),
        )
        if first is not None
        else []
    )
    if (
        writer.is_postgres
        and len(records) >= batch_size
        and position - state.analysed_at >= ANALYSE_EVERY
    ):
        # A big backlog: tables that grow by a million rows in one run outpace autovacuum's
        # statistics, and a stale "empty table" plan turns index lookups into full scans.
        writer.fetch("ANALYZE usage_record, usage_charge")
        state.analysed_at = position
    if not records:
        state.position = position
        return PostReport(last_record_id=position)
    first_id, last_id = records[0][0], records[-1][0]
    directory = AccountDirectory.load(session)
    prices = PriceBook.load(session)
    now = clock.now()
    batch = _Batch(writer, now)
    batch.report.records = len(records)
    batch.report.last_record_id = last_id

    # 2. corrections: earlier rows of the same keys.
    superseded: set[int] = set()
    pairs = writer.fetch_nested_loop(
        "SELECT n.id, o.id FROM usage_record n JOIN usage_record o ON o.cluster = n.cluster "
        "AND o.job_id = n.job_id AND o.submit_time = n.submit_time AND o.id < n.id "
        "WHERE n.id > ? AND n.id <= ?",
        (position, last_id),
    )
    old_ids = sorted({o for _, o in pairs})
    superseded.update(o for o in old_ids if o > position)
    retracted: dict[uuid.UUID, list[_Stored]] = defaultdict(list)
    retracted_ids: set[int] = set()
    stored_old: dict[int, _Stored] = {}
    for chunk in _chunks([o for o in old_ids if o <= position]):
        marks = ", ".join("?" * len(chunk))
        stored_old.update(
            _stored(writer.fetch(f"{_CHARGE_SELECT} WHERE record_id IN ({marks})", chunk), codec)
        )
    rates: dict[uuid.UUID, Rate] = {}

    def cap_of(award: AwardTerms) -> _AwardCap:
        cap = state.caps.get(award.id)
        if cap is None:
            cap = _load_cap(writer, codec, award.id, award.over_cap_policy)
            state.caps[award.id] = cap
        return cap

    for old in stored_old.values():
        if not old.active:
            continue
        batch.emit(
            -1,
            old.amounts,
            old.record_id,
            batch.enc(old.award_id),
            batch.enc(old.organisation_id),
            old.accelerator_type,
            old.cluster,
            old.job_id,
            old.submit_raw,
            old.end_raw,
            old.period,
            old.gpu_seconds,
            batch.enc(old.price_version_id),
        )
        if _is_cap_item(old):
            assert old.award_id is not None
            terms = directory.award_by_id.get(old.award_id)
            if terms is not None:
                cap_of(terms).consumed -= old.amounts.subsidy_minor
                retracted[old.award_id].append(old)
                retracted_ids.add(old.record_id)
                batch.report.awards_touched.add(old.award_id)

    # 3. rate the new records.  Per account and per (type, QOS) everything is looked up
    # once: the loop below runs a million times per million records.
    enc = batch.enc
    accounts: dict[str, tuple[AwardTerms | None, Any, Any]] = {
        acct: (t, enc(t.id), enc(t.organisation_id)) for acct, t in directory.awards.items()
    }
    for acct, org in directory.organisations.items():
        accounts.setdefault(acct, (None, None, enc(org)))
    price_cache: dict[tuple[str, str], tuple[PriceEntry, Price, Any]] = {}
    on_cap: dict[uuid.UUID, list[_Item]] = defaultdict(list)
    emit = batch.emit
    for (
        rid,
        cluster,
        job_id,
        submit_raw,
        account,
        qos,
        accel,
        end_raw,
        chargeable,
        gs,
        end_epoch,
        submit_epoch,
        period,
    ) in records:
        if rid in superseded:
            batch.report.superseded += 1
            continue
        entry = prices.at(accel, end_epoch)
        if entry is None:
            raise PostingError(f"usage record {rid}: no {accel} price at its end")
        cached = price_cache.get((accel, qos))
        if cached is None or cached[0] is not entry:
            cents = entry.price_per_gpu_hour * 100 * prices.multiplier(qos)
            cached = price_cache[(accel, qos)] = (entry, Price(cents), enc(entry.id))
        pv_db = cached[2]
        full_list = cached[1].charge(gs)
        holder = accounts.get(account)
        if holder is None:
            raise PostingError(f"usage record {rid}: account {account!r} is unknown")
        award, award_db, org_db = holder
        if award is not None:
            in_dates = award.starts_epoch <= end_epoch < award.ends_epoch
            if in_dates and chargeable:
                on_cap[award.id].append(
                    _Item(
                        rid,
                        order_key(end_epoch, cluster, job_id, submit_epoch),
                        award,
                        award.organisation_id,
                        accel,
                        cluster,
                        job_id,
                        submit_raw,
                        end_raw,
                        period,
                        gs,
                        full_list,
                        pv_db,
                        award_db,
                        org_db,
                    )
                )
                continue
            if not chargeable:
                amounts = credited(full_list)
                if not in_dates:
                    award_db = None
            else:
                amounts = outside_award(full_list, award.over_cap_policy)
                award_db = None
        else:
            amounts = credited(full_list) if not chargeable else pay_as_you_go(full_list)
        emit(
            1,
            amounts,
            rid,
            award_db,
            org_db,
            accel,
            cluster,
            job_id,
            submit_raw,
            end_raw,
            period,
            gs,
            pv_db,
        )

    # The cap, per award, in order.
    for award_id in sorted(set(on_cap) | set(retracted), key=str):
        terms = directory.award_by_id[award_id]
        rate = rates.get(award_id)
        if rate is None:
            rate = rates[award_id] = Rate(terms.subsidy_rate)
        _rate_award(
            writer,
            codec,
            batch,
            terms,
            rate,
            cap_of(terms),
            on_cap.get(award_id, []),
            retracted.get(award_id, []),
            retracted_ids,
        )
        batch.report.awards_touched.add(award_id)

    # 4. one journal, the rows, the cursor.
    batch.finish_report()
    book = AccountBook(session, clock)
    lines: list[tuple[uuid.UUID, int]] = []
    for (kind, owner), amount in sorted(batch.lines().items(), key=lambda kv: str(kv[0])):
        if amount == 0:
            continue
        terms = directory.award_by_id.get(owner) if owner is not None else None
        account_id = book.id_for(
            kind,
            award_id=owner if kind is not AccountKind.RECEIVABLE else None,
            organisation_id=owner if kind is AccountKind.RECEIVABLE else None,
            scheme_id=terms.scheme_id if terms is not None else None,
        )
        lines.append((account_id, amount))
    journal_id = write_journal(
        session,
        clock,
        key=f"usage:{first_id}-{last_id}",
        kind=JournalKind.USAGE,
        lines=lines,
        occurred_at=now,
        description=f"Usage records {first_id}–{last_id}: {batch.report.charges} ratings, "
        f"{batch.report.reversals} reversals",
    )
    if journal_id is not None:
        batch.report.journals = 1
        journal_db = batch.enc(journal_id)
        for row in batch.rows:
            row[17] = journal_db
    writer.insert("usage_charge", CHARGE_COLUMNS, batch.rows, encoded=True)
    advance(session, last_id)
    near_cap: dict[uuid.UUID, int] = {}
    for a in batch.report.awards_touched:
        cap = state.caps.get(a)
        if cap is None:
            continue
        limit = directory.award_by_id[a].cap_minor
        level = max((t for t in THRESHOLDS if cap.consumed * 100 >= t * limit), default=0)
        if level and (a, level) not in state.notified:
            near_cap[a] = cap.consumed
            state.notified.add((a, level))
    notify_burn_down(session, clock, near_cap)
    state.position = last_id
    return batch.report


def _load_cap(
    writer: BulkWriter, codec: _Codec, award_id: uuid.UUID, policy: OverCapPolicy
) -> _AwardCap:
    # Consumed = the award's envelope_consumed balance: a few postings, not its many ratings.
    consumed = balances_by_owner(writer.session, AccountKind.ENVELOPE_CONSUMED, [award_id]).get(
        award_id, 0
    )
    last = writer.fetch(
        "SELECT cluster, job_id, submit_time, end_time FROM usage_charge WHERE award_id = ? "
        "AND end_time = (SELECT MAX(end_time) FROM usage_charge WHERE award_id = ?)",
        (award_id, award_id),
    )
    max_key = max(
        (order_key(codec.epoch(e), c, j, codec.epoch(s)) for c, j, s, e in last), default=None
    )
    refused = policy is OverCapPolicy.REFUSE and bool(
        writer.fetch(
            "SELECT 1 FROM usage_charge WHERE award_id = ? AND kind = ? LIMIT 1",
            (award_id, ChargeKind.REFUSED.value),
        )
    )
    return _AwardCap(int(consumed or 0), max_key, refused)


def _rate_award(
    writer: BulkWriter,
    codec: _Codec,
    batch: _Batch,
    terms: AwardTerms,
    rate: Rate,
    cap: _AwardCap,
    new: list[_Item],
    retracted: list[_Stored],
    retracted_ids: set[int],
) -> None:
    """Consume the award's cap for ``new`` in order, re-rating later ratings if needed."""
    policy = terms.over_cap_policy
    changed = [i.key for i in new] + [
        order_key(codec.epoch(r.end_raw), r.cluster, r.job_id, codec.epoch(r.submit_raw))
        for r in retracted
    ]
    if not changed:
        return
    kmin = min(changed)
    items = sorted(new, key=lambda i: i.key)
    if not retracted and (cap.max_key is None or kmin > cap.max_key):
        for item in items:
            _rate_new(batch, item, rate, terms, cap)
        cap.max_key = items[-1].key
        return
    # Out of order, but the cap binds nowhere: every record gets its full split in any order.
    splits = sum(rate.split(i.full_list)[0] for i in items)
    if not cap.refused and cap.consumed + splits <= terms.cap_minor:
        for item in items:
            _rate_new(batch, item, rate, terms, cap)
        _raise_max(cap, items)
        return
    # A late record (or a retraction): re-rate the tail from kmin, as if in order.
    kmin_raw = min(
        [(i.key, i.end_raw) for i in new]
        + [
            (
                order_key(codec.epoch(r.end_raw), r.cluster, r.job_id, codec.epoch(r.submit_raw)),
                r.end_raw,
            )
            for r in retracted
        ],
        key=lambda kv: kv[0],
    )[1]
    stored = _stored(
        writer.fetch(
            f"{_CHARGE_SELECT} WHERE award_id = ? AND end_time >= ?", (terms.id, kmin_raw)
        ),
        codec,
    )
    tail: list[_Item] = []
    for s in stored.values():
        if not _is_cap_item(s) or s.record_id in retracted_ids:
            continue
        key = order_key(codec.epoch(s.end_raw), s.cluster, s.job_id, codec.epoch(s.submit_raw))
        if key < kmin:
            continue
        tail.append(
            _Item(
                s.record_id,
                key,
                terms,
                s.organisation_id,
                s.accelerator_type,
                s.cluster,
                s.job_id,
                s.submit_raw,
                s.end_raw,
                s.period,
                s.gpu_seconds,
                s.amounts.list_minor + s.amounts.credited_minor,
                batch.enc(s.price_version_id),
                batch.enc(terms.id),
                batch.enc(s.organisation_id),
                current=s.amounts,
            )
        )
    running = cap.consumed - sum(t.current.subsidy_minor for t in tail if t.current is not None)
    for item in sorted(tail + items, key=lambda i: i.key):
        amounts = within_award(item.full_list, rate, terms.cap_minor - running, policy)
        running += amounts.subsidy_minor
        if amounts.kind is ChargeKind.REFUSED:
            cap.refused = True
        if item.current is None:
            batch.emit_item(1, amounts, item)
        elif item.current != amounts:
            batch.emit_item(-1, item.current, item)
            batch.emit_item(1, amounts, item)
            batch.report.rerated += 1
    cap.consumed = running
    top = max((i.key for i in tail + items), default=None)
    if top is not None and (cap.max_key is None or top > cap.max_key):
        cap.max_key = top


def _rate_new(batch: _Batch, item: _Item, rate: Rate, terms: AwardTerms, cap: _AwardCap) -> None:
    amounts = within_award(
        item.full_list, rate, terms.cap_minor - cap.consumed, terms.over_cap_policy
    )
    cap.consumed += amounts.subsidy_minor
    if amounts.kind is ChargeKind.REFUSED:
        cap.refused = True
    batch.emit_item(1, amounts, item)


def _raise_max(cap: _AwardCap, items: list[_Item]) -> None:
    top = max(i.key for i in items)
    if cap.max_key is None or top > cap.max_key:
        cap.max_key = top


def post_all(session: Session, clock: Clock, *, batch_size: int = BATCH) -> PostReport:
    """Post every pending record in this unit of work (tests, small runs)."""
    total = PostReport()
    state = RatingState()
    while True:
        report = post_usage(session, clock, batch_size=batch_size, state=state)
        if report.records == 0:
            break
        total.merge(report)
    return total


__all__ = ["BATCH", "PostReport", "PostingError", "RatingState", "post_all", "post_usage"]


_ = Decimal  # Decimal prices flow through PriceBook entries
