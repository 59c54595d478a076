"""Rate the unposted usage records and post them to the ledger, one batch per call.

How a batch goes (each step set-based; the caller commits, so a batch is all or nothing),
numbered as in :func:`post_usage`, each step one call:

1. take the billing lock and read the cursor;
2. read the batch: records with ``id`` above the cursor, in id order (:func:`_read_batch`);
3. corrections: a record whose key already has an earlier row supersedes it — the earlier
   row's current rating is reversed (a −1 row), and the award's cap is re-run from there
   (:func:`_retract_superseded`);
4. rate each record (:mod:`computeport.billing.rating`, :func:`_rate_records`); records on an
   award's cap wait for step 5;
5. rate them per award in (job end, cluster, job id) order (:mod:`computeport.billing.caps`).
   When a record arrives late (its key sorts before ratings already made for that award) the
   award's later ratings are re-rated as if it had arrived in order: every one whose amounts
   change gets a reversal row and a new rating row (unchanged ones are left alone —
   reversing and re-posting them would net to the same balances);
6. write one balanced journal for the batch (key ``usage:<first id>-<last id>``,
   :func:`_write_journal`) and the rating rows (``usage_charge``), advance the cursor — all in
   the caller's transaction;
7. enqueue burn-down notices for awards that crossed a threshold (:func:`_notify_near_cap`).

The rows each step passes on are named in :mod:`computeport.billing.charge_rows`
(:data:`~computeport.billing.charge_rows.UsageRow`, ``OnCap``, ``ChargeRow``).

Postings per rating row of charge L = subsidy S + co-payment P (reversals negated)::

    Dr subsidy_receivable:<award>  S     Dr envelope_consumed:<award>  S
    Dr receivable:<organisation>   P     Cr envelope_committed:<award> S
    Cr revenue:gpu                 L
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, cast

from sqlalchemy.orm import Session

from computeport.billing.arith import Price
from computeport.billing.caps import AwardCap, apply_caps, cap_for
from computeport.billing.charge_rows import (
    CHARGE_COLUMNS,
    CHARGE_SELECT,
    USAGE_FIELDS,
    ChargeBatch,
    Codec,
    OnCap,
    PostReport,
    Stored,
    UsageRow,
    chunks,
    fold_stored,
    is_cap_item,
)
from computeport.billing.notices import THRESHOLDS, notify_burn_down
from computeport.billing.rating import (
    credited,
    order_key,
    outside_award,
    pay_as_you_go,
)
from computeport.db.bulk import BulkWriter
from computeport.kit.clock import Clock
from computeport.kit.errors import DomainError
from computeport.ledger.accounts import AccountBook
from computeport.ledger.envelope import post_envelope_movements
from computeport.ledger.journal import write_journal
from computeport.metering.cursor import advance, lock_billing
from computeport.metering.directory import AccountDirectory, AwardTerms
from computeport.metering.rollups import refresh_usage_rollups
from computeport.models.adjustment import AdjustmentTarget
from computeport.models.ledger import AccountKind, JournalKind
from computeport.models.pricing import PriceKind
from computeport.pricing.book import PriceBook

BATCH = 50_000
ANALYSE_EVERY = 200_000
"""PostgreSQL: refresh the planner's statistics every this many records posted in a run."""


class PostingError(DomainError):
    """A stored record cannot be rated (its account or price disappeared since ingest)."""

    status_code = 409


@dataclass
class RatingState:
    """Per-award cap state carried across batches of one run (checked against the cursor)."""

    position: int = -1
    caps: dict[uuid.UUID, AwardCap] = field(default_factory=dict)
    notified: set[tuple[uuid.UUID, int]] = field(default_factory=set)
    """Burn-down thresholds already enqueued in this run (the outbox dedupes across runs)."""
    analysed_at: int = -ANALYSE_EVERY
    subsidy_adjustments: int = -1
    """Subsidy adjustments in the ledger when ``caps`` were read: an operator's adjustment
    between two batches moves an award's consumed subsidy, so a new one invalidates them."""


@dataclass(slots=True)
class Retractions:
    """What step 3 found superseded: records a later record with the same key replaces."""

    superseded: set[int] = field(default_factory=set)
    """Records of this batch replaced by a later record of this batch: never rated."""
    by_award: dict[uuid.UUID, list[Stored]] = field(default_factory=lambda: defaultdict(list))
    """Stored cap ratings reversed, per award: their subsidy went back to the cap."""
    record_ids: set[int] = field(default_factory=set)
    """The record ids of ``by_award``'s ratings (they leave the award's re-rated tail)."""


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
    state = state if state is not None else RatingState()
    # 1. Take the billing lock; movements of the envelope post first (caps read them).
    position = lock_billing(session)
    post_envelope_movements(session, clock)
    writer = BulkWriter(session)
    _sync_state(writer, state, position)
    # 2. Read the batch: the records above the cursor, in id order.
    codec = Codec(writer.is_postgres)
    records = _read_batch(writer, codec, state, position, batch_size)
    if not records:
        state.position = position
        return PostReport(last_record_id=position)
    first_id, last_id = records[0][0], records[-1][0]
    directory = AccountDirectory.load(session)
    batch = ChargeBatch(writer, clock.now())
    batch.report.records = len(records)
    batch.report.last_record_id = last_id
    # 3. Corrections: reverse the current rating of every record a new one supersedes.
    retractions = _retract_superseded(batch, codec, state, directory, position, last_id)
    # 4. Rate each new record; those within an award's dates and cap wait for step 5.
    on_cap = _rate_records(batch, directory, PriceBook.load(session), records, retractions)
    # 5. Consume each award's cap in order, re-rating the ratings after a late record.
    apply_caps(
        batch, codec, state.caps, directory, on_cap, retractions.by_award, retractions.record_ids
    )
    # 6. One balanced journal for the batch, its rows, the cursor and the rollups.
    _write_journal(batch, clock, directory, first_id, last_id)
    writer.insert("usage_charge", CHARGE_COLUMNS, batch.rows, encoded=True)
    advance(session, last_id)
    refresh_usage_rollups(session)
    # 7. Burn-down notices for the awards that crossed a threshold.
    _notify_near_cap(batch, clock, state, directory)
    state.position = last_id
    return batch.report


def _sync_state(writer: BulkWriter, state: RatingState, position: int) -> None:
    """Forget the run's caps if someone else posted or an operator adjusted a subsidy."""
    adjustments = writer.fetch(
        "SELECT COUNT(*) FROM adjustment WHERE target = ?", (AdjustmentTarget.SUBSIDY.value,)
    )[0][0]
    if state.position != position or state.subsidy_adjustments != adjustments:
        state.caps.clear()
        state.subsidy_adjustments = adjustments


def _read_batch(
    writer: BulkWriter, codec: Codec, state: RatingState, position: int, batch_size: int
) -> list[UsageRow]:
    """The next ``batch_size`` ids' records above ``position``, laid out as :data:`UsageRow`."""
    # An id range, not "ORDER BY id LIMIT n": both engines answer it from the primary key
    # whatever their statistics say (ids have gaps where duplicates were skipped).
    first = writer.fetch("SELECT MIN(id) FROM usage_record WHERE id > ?", (position,))[0][0]
    computed = {
        "end_epoch": codec.epoch_sql("end_time"),
        "submit_epoch": codec.epoch_sql("submit_time"),
        "period": codec.period_sql("end_time"),
    }
    columns = ", ".join(computed.get(name, name) for name in USAGE_FIELDS)
    records = (
        writer.fetch(
            f"SELECT {columns} FROM usage_record WHERE id >= ? AND id < ? ORDER BY id",  # noqa: S608
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
    return cast(list[UsageRow], records)


def _retract_superseded(
    batch: ChargeBatch,
    codec: Codec,
    state: RatingState,
    directory: AccountDirectory,
    position: int,
    last_id: int,
) -> Retractions:
    """Find the earlier records of the batch's keys and reverse their current ratings.

    A reversed cap rating gives its subsidy back to the award's cap, and its award is
    re-rated from there in step 5.
    """
    writer = batch.writer
    out = Retractions()
    pairs = writer.fetch_nested_loop(
        "SELECT n.id, o.id FROM usage_record n JOIN usage_record o ON o.cluster = n.cluster "
        "AND o.job_id = n.job_id AND o.submit_time = n.submit_time AND o.id < n.id "
        "WHERE n.id > ? AND n.id <= ?",
        (position, last_id),
    )
    old_ids = sorted({o for _, o in pairs})
    out.superseded.update(o for o in old_ids if o > position)
    stored_old: dict[int, Stored] = {}
    for chunk in chunks([o for o in old_ids if o <= position]):
        marks = ", ".join("?" * len(chunk))
        stored_old.update(
            fold_stored(writer.fetch(f"{CHARGE_SELECT} WHERE record_id IN ({marks})", chunk), codec)
        )
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
                cap_for(state.caps, writer, codec, terms).consumed -= old.amounts.subsidy_minor
                out.by_award[old.award_id].append(old)
                out.record_ids.add(old.record_id)
                batch.report.awards_touched.add(old.award_id)
    return out


def _rate_records(
    batch: ChargeBatch,
    directory: AccountDirectory,
    prices: PriceBook,
    records: list[UsageRow],
    retractions: Retractions,
) -> dict[uuid.UUID, list[OnCap]]:
    """Rate every record off a cap at once; return, per award, the records on its cap.

    Per account and per (type, QOS) everything is looked up once: the loop below runs a
    million times per million records.  Records on a cap wait in their award's list as
    :data:`OnCap` tuples for :func:`~computeport.billing.caps.apply_caps`.
    """
    enc = batch.enc
    emit = batch.emit
    superseded = retractions.superseded
    report = batch.report
    on_cap: dict[uuid.UUID, list[OnCap]] = {}
    # account → (award terms, award id and organisation id as stored, the award's waiting list)
    accounts: dict[str, tuple[AwardTerms | None, Any, Any, list[OnCap] | None]] = {
        acct: (t, enc(t.id), enc(t.organisation_id), on_cap.setdefault(t.id, []))
        for acct, t in directory.awards.items()
    }
    for acct, org in directory.organisations.items():
        accounts.setdefault(acct, (None, None, enc(org), None))
    # (type, QOS, cluster) → (valid from, valid to, price, price version): the version in force
    # is looked up again only when a record's end leaves the cached version's validity.
    price_cache: dict[tuple[str, str, str], tuple[float, float, Price, Any]] = {}
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
            report.superseded += 1
            continue
        cached = price_cache.get((accel, qos, cluster))
        if cached is None or not cached[0] <= end_epoch < cached[1]:
            cached = price_cache[(accel, qos, cluster)] = _price(
                prices, rid, accel, qos, cluster, end_epoch, enc
            )
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
                        accel,
                        cluster,
                        job_id,
                        submit_raw,
                        end_raw,
                        period,
                        gs,
                        full_list,
                        pv_db,
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
    return on_cap


def _write_journal(
    batch: ChargeBatch,
    clock: Clock,
    directory: AccountDirectory,
    first_id: int,
    last_id: int,
) -> None:
    """Post the batch's sums as one journal (key ``usage:<first>-<last>``), stamp its rows."""
    session = batch.writer.session
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
        occurred_at=batch.now,
        description=f"Usage records {first_id}–{last_id}: {batch.report.charges} ratings, "
        f"{batch.report.reversals} reversals",
    )
    if journal_id is not None:
        batch.report.journals = 1
        batch.stamp_journal(batch.enc(journal_id))


def _notify_near_cap(
    batch: ChargeBatch, clock: Clock, state: RatingState, directory: AccountDirectory
) -> None:
    """Enqueue a burn-down notice per award that crossed a threshold in this run."""
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
    notify_burn_down(batch.writer.session, clock, near_cap)


def _price(
    prices: PriceBook, rid: int, accel: str, qos: str, cluster: str, end_epoch: float, enc: Any
) -> tuple[float, float, Price, Any]:
    """The price of (type, QOS, cluster) at ``end_epoch``, and the span over which it holds.

    The span is where both the GPU-hour version and the QOS factor stay as found, so the
    caller's cache never outlives either.
    """
    entry, until = prices.resolve(PriceKind.GPU_HOUR, accel, end_epoch, cluster=cluster)
    if entry is None:
        raise PostingError(f"usage record {rid}: no {accel} price at its end")
    factor, qos_from, qos_until = prices.multiplier_at(qos, end_epoch)
    cents = entry.unit_price * 100 * factor
    start = max(entry.valid_from.timestamp(), qos_from)
    return start, min(until, qos_until), Price(cents), enc(entry.id)


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
