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

import math
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from computeport.billing.arith import Price, Rate
from computeport.billing.charge_rows import (
    CHARGE_COLUMNS,
    CHARGE_SELECT,
    ChargeBatch,
    Codec,
    Item,
    PostReport,
    Stored,
    chunks,
    fold_stored,
    is_cap_item,
)
from computeport.billing.notices import THRESHOLDS, notify_burn_down
from computeport.billing.rating import (
    OrderKey,
    credited,
    order_key,
    outside_award,
    pay_as_you_go,
    within_award,
)
from computeport.db.bulk import BulkWriter
from computeport.kit.clock import Clock
from computeport.kit.errors import DomainError
from computeport.ledger.accounts import AccountBook
from computeport.ledger.envelope import post_envelope_movements
from computeport.ledger.journal import write_journal
from computeport.ledger.queries import balances_by_owner
from computeport.metering.cursor import advance, lock_billing
from computeport.metering.directory import AccountDirectory, AwardTerms
from computeport.metering.rollups import refresh_usage_rollups
from computeport.models.adjustment import AdjustmentTarget
from computeport.models.award import OverCapPolicy
from computeport.models.ledger import AccountKind, JournalKind
from computeport.models.metering import ChargeKind
from computeport.pricing.service import PriceBook

BATCH = 50_000
ANALYSE_EVERY = 200_000
"""PostgreSQL: refresh the planner's statistics every this many records posted in a run."""


class PostingError(DomainError):
    """A stored record cannot be rated (its account or price disappeared since ingest)."""

    status_code = 409


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
    subsidy_adjustments: int = -1
    """Subsidy adjustments in the ledger when ``caps`` were read: an operator's adjustment
    between two batches moves an award's consumed subsidy, so a new one invalidates them."""


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
    writer = BulkWriter(session)
    adjustments = writer.fetch(
        "SELECT COUNT(*) FROM adjustment WHERE target = ?", (AdjustmentTarget.SUBSIDY.value,)
    )[0][0]
    if state.position != position or state.subsidy_adjustments != adjustments:
        state.caps.clear()
        state.subsidy_adjustments = adjustments
    codec = Codec(writer.is_postgres)
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
    batch = ChargeBatch(writer, now)
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
    retracted: dict[uuid.UUID, list[Stored]] = defaultdict(list)
    retracted_ids: set[int] = set()
    stored_old: dict[int, Stored] = {}
    for chunk in chunks([o for o in old_ids if o <= position]):
        marks = ", ".join("?" * len(chunk))
        stored_old.update(
            fold_stored(writer.fetch(f"{CHARGE_SELECT} WHERE record_id IN ({marks})", chunk), codec)
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
        if is_cap_item(old):
            assert old.award_id is not None
            terms = directory.award_by_id.get(old.award_id)
            if terms is not None:
                cap_of(terms).consumed -= old.amounts.subsidy_minor
                retracted[old.award_id].append(old)
                retracted_ids.add(old.record_id)
                batch.report.awards_touched.add(old.award_id)

    # 3. rate the new records.  Per account and per (type, QOS) everything is looked up
    # once: the loop below runs a million times per million records.  Records on a cap
    # wait in their award's list as plain tuples laid out like :class:`Item` (a tuple costs
    # a fraction of an object; the rare out-of-order path makes Items of them).
    enc = batch.enc
    on_cap: dict[uuid.UUID, list[tuple[Any, ...]]] = {}
    accounts: dict[str, tuple[AwardTerms | None, Any, Any, list[tuple[Any, ...]] | None]] = {
        acct: (t, enc(t.id), enc(t.organisation_id), on_cap.setdefault(t.id, []))
        for acct, t in directory.awards.items()
    }
    for acct, org in directory.organisations.items():
        accounts.setdefault(acct, (None, None, enc(org), None))
    # (type, QOS) → (valid from, valid to, price, price version): the version in force is
    # looked up again only when a record's end leaves the cached version's validity.
    price_cache: dict[tuple[str, str], tuple[float, float, Price, Any]] = {}
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
        cached = price_cache.get((accel, qos))
        if cached is None or not cached[0] <= end_epoch < cached[1]:
            cached = price_cache[(accel, qos)] = _price(prices, rid, accel, qos, end_epoch, enc)
        pv_db = cached[3]
        full_list = cached[2].charge(gs)
        holder = accounts.get(account)
        if holder is None:
            raise PostingError(f"usage record {rid}: account {account!r} is unknown")
        award, award_db, org_db, waiting = holder
        if award is not None:
            in_dates = award.starts_epoch <= end_epoch < award.ends_epoch
            if in_dates and chargeable:
                assert waiting is not None
                waiting.append(
                    (
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

    # The cap, per award, in order.  The first batch of a run reads every award's consumed
    # balance in one query (hundreds of awards: one query each cost a second per run).
    capped = sorted({a for a, w in on_cap.items() if w} | set(retracted), key=str)
    unknown = [a for a in capped if a not in state.caps]
    if unknown:
        consumed = balances_by_owner(session, AccountKind.ENVELOPE_CONSUMED, unknown)
        for a in unknown:
            state.caps[a] = _load_cap(
                writer, codec, a, directory.award_by_id[a].over_cap_policy, consumed.get(a, 0)
            )
    for award_id in capped:
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
    refresh_usage_rollups(session)
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
    writer: BulkWriter,
    codec: Codec,
    award_id: uuid.UUID,
    policy: OverCapPolicy,
    consumed: int | None = None,
) -> _AwardCap:
    # Consumed = the award's envelope_consumed balance: a few postings, not its many ratings
    # (given when the caller read the balances of many awards at once).
    if consumed is None:
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
    codec: Codec,
    batch: ChargeBatch,
    terms: AwardTerms,
    rate: Rate,
    cap: _AwardCap,
    waiting: list[tuple[Any, ...]],
    retracted: list[Stored],
    retracted_ids: set[int],
) -> None:
    """Consume the award's cap for ``waiting`` (tuples laid out like :class:`Item`) in
    order, re-rating later ratings if needed."""
    policy = terms.over_cap_policy
    changed = [w[1] for w in waiting] + [
        order_key(codec.epoch(r.end_raw), r.cluster, r.job_id, codec.epoch(r.submit_raw))
        for r in retracted
    ]
    if not changed:
        return
    kmin = min(changed)
    waiting.sort(key=_by_key)
    if not retracted and (cap.max_key is None or kmin > cap.max_key):
        _rate_in_order(batch, waiting, rate, terms, cap)
        cap.max_key = waiting[-1][1]
        return
    # Out of order, but the cap binds nowhere: every record gets its full split in any order.
    # Not after a retraction: it frees cap that later over-cap ratings must get back.
    splits = sum(rate.split(w[11])[0] for w in waiting)
    if not retracted and not cap.refused and cap.consumed + splits <= terms.cap_minor:
        _rate_in_order(batch, waiting, rate, terms, cap)
        top = waiting[-1][1]
        if cap.max_key is None or top > cap.max_key:
            cap.max_key = top
        return
    new = [Item(*w) for w in waiting]
    items = new
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
    stored = fold_stored(
        writer.fetch(f"{CHARGE_SELECT} WHERE award_id = ? AND end_time >= ?", (terms.id, kmin_raw)),
        codec,
    )
    tail: list[Item] = []
    for s in stored.values():
        if not is_cap_item(s) or s.record_id in retracted_ids:
            continue
        key = order_key(codec.epoch(s.end_raw), s.cluster, s.job_id, codec.epoch(s.submit_raw))
        if key < kmin:
            continue
        tail.append(
            Item(
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


def _rate_in_order(
    batch: ChargeBatch,
    waiting: list[tuple[Any, ...]],
    rate: Rate,
    terms: AwardTerms,
    cap: _AwardCap,
) -> None:
    """Rate ``waiting`` (sorted, all after the award's last rating) against its cap.

    The backlog's hot loop: one :func:`within_award` per record, the rows appended
    directly, and the ledger sums added once per award (every row here has the same award
    and organisation) instead of once per row.
    """
    cap_minor = terms.cap_minor
    policy = terms.over_cap_policy
    consumed = cap.consumed
    rows = batch.rows
    now_db = batch.now_db
    kinds: dict[ChargeKind, int] = {}
    subsidy_sum = copay_sum = list_sum = 0  # rows with a subsidy: (award, organisation)
    bare_copay = bare_list = 0  # rows without one: (None, organisation)
    refused = False
    award_db = org_db = None
    for (
        rid,
        _key,
        _award,
        _org,
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
    ) in waiting:
        kind, total, subsidy, copay, credited_minor = within_award(
            full_list, rate, cap_minor - consumed, policy
        )
        consumed += subsidy
        kinds[kind] = kinds.get(kind, 0) + 1
        if subsidy:
            subsidy_sum += subsidy
            copay_sum += copay
            list_sum += total
        else:
            bare_copay += copay
            bare_list += total
            refused = refused or kind is ChargeKind.REFUSED
        rows.append(
            [
                rid,
                1,
                kind,
                award_db,
                org_db,
                accel,
                cluster,
                job_id,
                submit_raw,
                end_raw,
                period,
                gs,
                total,
                subsidy,
                copay,
                credited_minor,
                pv_db,
                None,  # journal id, filled in once the journal exists
                now_db,
            ]
        )
    cap.consumed = consumed
    cap.refused = cap.refused or refused
    batch.kinds.update(kinds)
    batch.add_sums(award_db, org_db, subsidy_sum, copay_sum, list_sum)
    batch.add_sums(None, org_db, 0, bare_copay, bare_list)


def _by_key(waiting: tuple[Any, ...]) -> Any:
    return waiting[1]


def _price(
    prices: PriceBook, rid: int, accel: str, qos: str, end_epoch: float, enc: Any
) -> tuple[float, float, Price, Any]:
    """The price of (type, QOS) at ``end_epoch``, with the validity of its version."""
    entry = prices.at(accel, end_epoch)
    if entry is None:
        raise PostingError(f"usage record {rid}: no {accel} price at its end")
    cents = entry.price_per_gpu_hour * 100 * prices.multiplier(qos)
    valid_to = entry.valid_to.timestamp() if entry.valid_to is not None else math.inf
    return entry.valid_from.timestamp(), valid_to, Price(cents), enc(entry.id)


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
