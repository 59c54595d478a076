"""Consume each award's cap in order: step 5 of :func:`computeport.billing.posting.post_usage`.

DESIGN.md's cap rule: an award's subsidy cap is consumed in (job end, cluster, job id) order
(:func:`computeport.billing.rating.order_key`), whatever order the records arrive in.  Per
award this module takes one of three paths, cheapest first:

1. *in order* — every waiting record sorts after the award's last rating and nothing was
   retracted: rate them in one tight loop (:func:`_rate_in_order`);
2. *out of order, cap far away* — the cap binds nowhere, so every record gets its full split
   in any order (same loop);
3. *late record or retraction* — re-rate the award's tail from the earliest changed key, as
   if every record had arrived in order: a rating whose amounts change gets a reversal row
   and a new rating row; unchanged ones are left alone.

Split from :mod:`~computeport.billing.posting` because the cap is one concept (its state
across batches, its three paths) and the pipeline only needs "apply the caps".
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from operator import itemgetter

from computeport.billing.arith import Rate
from computeport.billing.charge_rows import (
    CHARGE_SELECT,
    ON_CAP_FULL_LIST,
    ON_CAP_KEY,
    ChargeBatch,
    Codec,
    Item,
    OnCap,
    Stored,
    fold_stored,
    is_cap_item,
)
from computeport.billing.rating import OrderKey, order_key, within_award
from computeport.db.bulk import BulkWriter
from computeport.ledger.queries import balances_by_owner
from computeport.metering.directory import AccountDirectory, AwardTerms
from computeport.models.award import OverCapPolicy
from computeport.models.ledger import AccountKind
from computeport.models.metering import ChargeKind


@dataclass(slots=True)
class AwardCap:
    """How much of one award's cap is used, carried across the batches of a run."""

    consumed: int
    max_key: OrderKey | None
    """The order key of the award's last rating: a record sorting before it is late."""
    refused: bool = False
    """Some rating was refused (``refuse`` terms): the cap binds below its amount."""


def cap_for(
    caps: dict[uuid.UUID, AwardCap], writer: BulkWriter, codec: Codec, terms: AwardTerms
) -> AwardCap:
    """The award's cap from the run's ``caps``, read from the database the first time."""
    cap = caps.get(terms.id)
    if cap is None:
        cap = caps[terms.id] = load_cap(writer, codec, terms.id, terms.over_cap_policy)
    return cap


def load_cap(
    writer: BulkWriter,
    codec: Codec,
    award_id: uuid.UUID,
    policy: OverCapPolicy,
    consumed: int | None = None,
) -> AwardCap:
    """Read one award's cap state from the ledger and its ratings."""
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
    return AwardCap(int(consumed or 0), max_key, refused)


def apply_caps(
    batch: ChargeBatch,
    codec: Codec,
    caps: dict[uuid.UUID, AwardCap],
    directory: AccountDirectory,
    on_cap: dict[uuid.UUID, list[OnCap]],
    retracted: dict[uuid.UUID, list[Stored]],
    retracted_ids: set[int],
) -> None:
    """Rate every award's waiting records (``on_cap``) against its cap, award by award.

    ``retracted`` holds the stored ratings step 3 reversed, per award: their subsidy is
    already given back to the cap, and the ratings after them are re-rated.
    """
    writer = batch.writer
    capped = sorted({a for a, w in on_cap.items() if w} | set(retracted), key=str)
    # The first batch of a run reads every award's consumed balance in one query (hundreds
    # of awards: one query each cost a second per run).
    unknown = [a for a in capped if a not in caps]
    if unknown:
        consumed = balances_by_owner(writer.session, AccountKind.ENVELOPE_CONSUMED, unknown)
        for a in unknown:
            caps[a] = load_cap(
                writer, codec, a, directory.award_by_id[a].over_cap_policy, consumed.get(a, 0)
            )
    for award_id in capped:
        terms = directory.award_by_id[award_id]
        _rate_award(
            batch,
            codec,
            terms,
            Rate(terms.subsidy_rate),
            cap_for(caps, writer, codec, terms),
            on_cap.get(award_id, []),
            retracted.get(award_id, []),
            retracted_ids,
        )
        batch.report.awards_touched.add(award_id)


_by_key = itemgetter(ON_CAP_KEY)


def _stored_key(codec: Codec, s: Stored) -> OrderKey:
    return order_key(codec.epoch(s.end_raw), s.cluster, s.job_id, codec.epoch(s.submit_raw))


def _rate_award(
    batch: ChargeBatch,
    codec: Codec,
    terms: AwardTerms,
    rate: Rate,
    cap: AwardCap,
    waiting: list[OnCap],
    retracted: list[Stored],
    retracted_ids: set[int],
) -> None:
    """Consume the award's cap for ``waiting`` in order, re-rating later ratings if needed."""
    policy = terms.over_cap_policy
    changed = [w[ON_CAP_KEY] for w in waiting] + [_stored_key(codec, r) for r in retracted]
    if not changed:
        return
    kmin = min(changed)
    waiting.sort(key=_by_key)
    award_db, org_db = batch.enc(terms.id), batch.enc(terms.organisation_id)
    # Path 1: in order.
    if not retracted and (cap.max_key is None or kmin > cap.max_key):
        _rate_in_order(batch, waiting, rate, terms, cap, award_db, org_db)
        cap.max_key = waiting[-1][ON_CAP_KEY]
        return
    # Path 2: out of order, but the cap binds nowhere: every record gets its full split in
    # any order.  Not after a retraction: it frees cap that later over-cap ratings must get
    # back.
    splits = sum(rate.split(w[ON_CAP_FULL_LIST])[0] for w in waiting)
    if not retracted and not cap.refused and cap.consumed + splits <= terms.cap_minor:
        _rate_in_order(batch, waiting, rate, terms, cap, award_db, org_db)
        top = waiting[-1][ON_CAP_KEY]
        if cap.max_key is None or top > cap.max_key:
            cap.max_key = top
        return
    # Path 3: a late record (or a retraction): re-rate the tail from kmin, as if in order.
    new = [_new_item(w, terms, award_db, org_db) for w in waiting]
    tail = _tail_from(batch, codec, terms, kmin, new, retracted, retracted_ids)
    running = cap.consumed - sum(t.current.subsidy_minor for t in tail if t.current is not None)
    for item in sorted(tail + new, key=lambda i: i.key):
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
    highest = max((i.key for i in tail + new), default=None)
    if highest is not None and (cap.max_key is None or highest > cap.max_key):
        cap.max_key = highest


def _new_item(waiting: OnCap, terms: AwardTerms, award_db: object, org_db: object) -> Item:
    """A waiting record as an :class:`Item` of the award's re-rating (path 3)."""
    rid, key, accel, cluster, job_id, submit_raw, end_raw, period, gs, full_list, pv_db = waiting
    return Item(
        rid,
        key,
        terms,
        terms.organisation_id,
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


def _tail_from(
    batch: ChargeBatch,
    codec: Codec,
    terms: AwardTerms,
    kmin: OrderKey,
    new: list[Item],
    retracted: list[Stored],
    retracted_ids: set[int],
) -> list[Item]:
    """The award's stored, active cap ratings from ``kmin`` on (less the retracted ones)."""
    kmin_raw = min(
        [(i.key, i.end_raw) for i in new] + [(_stored_key(codec, r), r.end_raw) for r in retracted],
        key=lambda kv: kv[0],
    )[1]
    stored = fold_stored(
        batch.writer.fetch(
            f"{CHARGE_SELECT} WHERE award_id = ? AND end_time >= ?", (terms.id, kmin_raw)
        ),
        codec,
    )
    tail: list[Item] = []
    for s in stored.values():
        if not is_cap_item(s) or s.record_id in retracted_ids:
            continue
        key = _stored_key(codec, s)
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
    return tail


def _rate_in_order(
    batch: ChargeBatch,
    waiting: list[OnCap],
    rate: Rate,
    terms: AwardTerms,
    cap: AwardCap,
    award_db: object,
    org_db: object,
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
    for (
        rid,
        _key,
        accel,
        cluster,
        job_id,
        submit_raw,
        end_raw,
        period,
        gs,
        full_list,
        pv_db,
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
                None,  # journal id, stamped once the journal exists
                now_db,
            ]
        )
    cap.consumed = consumed
    cap.refused = cap.refused or refused
    batch.kinds.update(kinds)
    batch.add_sums(award_db, org_db, subsidy_sum, copay_sum, list_sum)
    batch.add_sums(None, org_db, 0, bare_copay, bare_list)


__all__ = ["AwardCap", "apply_caps", "cap_for", "load_cap"]
