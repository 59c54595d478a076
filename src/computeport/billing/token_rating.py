"""Rate the gateway's token usage and post it to the ledger, one batch per call.

The same money chain as the GPU-hours (DESIGN.md), for tokens:

1. take the token cursor's lock (``billing_cursor`` row ``token_rating``) and read the records
   above it in id order — each record is rated exactly once, in one transaction with the cursor;
2. price: ``prompt × input price + completion × output price`` per million tokens, from the
   rate card's version in force when the request started (:mod:`computeport.pricing`, a
   ``tokens`` price per model), rounded half-up to the cent; each charge names its version.
   A speech request (``audio_ms`` > 0) is priced instead at the model's ``audio_minute``
   price × its audio minutes, rounded the same way: one cursor rates every gateway route;
3. split under the organisation's award by the same rules as a job
   (:mod:`computeport.billing.rating`): within the award's dates and HK$ cap the subsidy is
   charge × rate (half-down) — a department's award may be 100% — and the co-payment the rest;
   the cap is read from the award's ``envelope_consumed`` balance (GPU and tokens draw on one
   cap) and consumed in record order; outside the award's dates, or with no award, the
   organisation pays list price;
4. write the ``token_charge`` rows and one balanced journal for the batch (key
   ``tokens:<first>-<last>``), with the postings of a job's rating::

       Dr subsidy_receivable:<award> S    Dr envelope_consumed:<award> S
       Dr receivable:<organisation>  P    Cr envelope_committed:<award> S
       Cr revenue                    L

A request that used no tokens (refused by the upstream, no upstream, a failure before the
answer) is rated at nothing and gets no row.  Never commits: the caller's unit of work does.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from computeport.billing.arith import Rate
from computeport.billing.rating import Amounts, outside_award, pay_as_you_go, within_award
from computeport.kit.clock import Clock
from computeport.ledger.accounts import AccountBook
from computeport.ledger.journal import write_journal
from computeport.ledger.queries import consumed_by_award
from computeport.metering.cursor import advance, lock_billing
from computeport.metering.directory import AccountDirectory
from computeport.metering.token_ingest import TOKEN_CURSOR
from computeport.models.inference import TokenCharge, TokenUsage
from computeport.models.ledger import AccountKind, JournalKind
from computeport.pricing.book import AudioPrice, PriceBook, TokenPrice

BATCH = 10_000
MILLION = 1_000_000


def token_charge_minor(price: TokenPrice, prompt: int, completion: int) -> int:
    """Cents for the tokens at ``price``, rounded half-up (exact integer ratios, no float)."""
    total = price.per_million_input * prompt + price.per_million_output * completion
    num, den = (total * 100).as_integer_ratio()
    q, r = divmod(num, den * MILLION)
    return q + 1 if 2 * r >= den * MILLION else q


MS_PER_MINUTE = 60_000


def audio_charge_minor(price: AudioPrice, audio_ms: int) -> int:
    """Cents for ``audio_ms`` of audio at ``price`` per minute, rounded half-up (exact)."""
    num, den = (price.per_minute * audio_ms * 100).as_integer_ratio()
    q, r = divmod(num, den * MS_PER_MINUTE)
    return q + 1 if 2 * r >= den * MS_PER_MINUTE else q


TokenPriceLookup = Callable[[str, datetime], TokenPrice | None]
"""(model, when) → the rate card's price in force, or None when the model has none then."""
AudioPriceLookup = Callable[[str, datetime], AudioPrice | None]
"""(speech model, when) → its price per audio minute in force, or None."""


@dataclass
class TokenPostReport:
    records: int = 0
    charges: int = 0
    journals: int = 0
    list_minor: int = 0
    subsidy_minor: int = 0
    last_usage_id: int = 0
    unpriced: set[str] = field(default_factory=set)


def post_token_usage(
    session: Session,
    clock: Clock,
    prices: TokenPriceLookup | None = None,
    *,
    batch_size: int = BATCH,
    audio_prices: AudioPriceLookup | None = None,
) -> TokenPostReport:
    """Rate and post the next batch of token usage (``records == 0``: nothing was left).

    ``prices`` and ``audio_prices`` default to the rate card in the database.
    """
    position = lock_billing(session, TOKEN_CURSOR)
    rows = list(
        session.scalars(
            select(TokenUsage)
            .where(TokenUsage.id > position)
            .order_by(TokenUsage.id)
            .limit(batch_size)
        )
    )
    report = TokenPostReport(last_usage_id=position)
    if not rows:
        return report
    directory = AccountDirectory.load(session)
    if prices is None or audio_prices is None:
        book = PriceBook.load(session)
        prices = prices or (lambda model, at: book.token_price(model, at.timestamp()))
        audio_prices = audio_prices or (lambda model, at: book.audio_price(model, at.timestamp()))
    awards = {r.award_id for r in rows if r.award_id is not None}
    consumed = dict(consumed_by_award(session, awards))
    now = clock.now()
    charges: list[dict[str, object]] = []
    last = rows[-1].id
    for usage in rows:
        if usage.prompt_tokens + usage.completion_tokens + usage.audio_ms == 0:
            continue
        price: TokenPrice | AudioPrice | None
        if usage.audio_ms:
            price = audio_prices(usage.model, usage.started_at)
        else:
            price = prices(usage.model, usage.started_at)
        if price is None:
            report.unpriced.add(usage.model)
            last = usage.id - 1  # rated in order: the rest waits for a price (reported)
            break
        if isinstance(price, AudioPrice):
            cents = audio_charge_minor(price, usage.audio_ms)
        else:
            cents = token_charge_minor(price, usage.prompt_tokens, usage.completion_tokens)
        amounts = _split(usage, cents, directory, consumed)
        award_id = usage.award_id if amounts.kind.value in ("subsidised", "over_cap") else None
        charges.append(
            {
                "usage_id": usage.id,
                "kind": amounts.kind,
                "organisation_id": usage.organisation_id,
                "award_id": award_id,
                "model": usage.model,
                "period": usage.started_at.astimezone(UTC).strftime("%Y-%m"),
                "prompt_tokens": usage.prompt_tokens,
                "completion_tokens": usage.completion_tokens,
                "audio_ms": usage.audio_ms,
                "list_minor": amounts.list_minor,
                "subsidy_minor": amounts.subsidy_minor,
                "copay_minor": amounts.copay_minor,
                "price_ref": str(price.version_id),
                "rated_at": now,
            }
        )
    report.records = sum(1 for r in rows if r.id <= last)
    report.last_usage_id = last
    if charges:
        first = charges[0]["usage_id"]
        journal_id = _write_journal(session, clock, directory, charges, f"tokens:{first}-{last}")
        for c in charges:
            c["journal_id"] = journal_id
        session.execute(insert(TokenCharge), charges)
        report.journals = int(journal_id is not None)
        report.charges = len(charges)
        report.list_minor = sum(int(str(c["list_minor"])) for c in charges)
        report.subsidy_minor = sum(int(str(c["subsidy_minor"])) for c in charges)
    if last > position:
        advance(session, last, TOKEN_CURSOR)
    return report


def _split(
    usage: TokenUsage, full_list: int, directory: AccountDirectory, consumed: dict[uuid.UUID, int]
) -> Amounts:
    terms = directory.award_by_id.get(usage.award_id) if usage.award_id is not None else None
    if terms is None:
        return pay_as_you_go(full_list)
    at = usage.started_at.timestamp()
    if not terms.starts_epoch <= at < terms.ends_epoch:
        return outside_award(full_list, terms.over_cap_policy)
    used = consumed.get(terms.id, 0)
    amounts = within_award(
        full_list, Rate(terms.subsidy_rate), terms.cap_minor - used, terms.over_cap_policy
    )
    consumed[terms.id] = used + amounts.subsidy_minor
    return amounts


def _write_journal(
    session: Session,
    clock: Clock,
    directory: AccountDirectory,
    charges: list[dict[str, object]],
    key: str,
) -> uuid.UUID | None:
    sums: dict[tuple[AccountKind, uuid.UUID | None], int] = defaultdict(int)
    for c in charges:
        s, p, total = (int(str(c[k])) for k in ("subsidy_minor", "copay_minor", "list_minor"))
        award = c["award_id"]
        org = c["organisation_id"]
        assert isinstance(org, uuid.UUID)
        if s:
            assert isinstance(award, uuid.UUID)
            sums[(AccountKind.SUBSIDY_RECEIVABLE, award)] += s
            sums[(AccountKind.ENVELOPE_CONSUMED, award)] += s
            sums[(AccountKind.ENVELOPE_COMMITTED, award)] -= s
        if p:
            sums[(AccountKind.RECEIVABLE, org)] += p
        if total:
            sums[(AccountKind.REVENUE, None)] -= total
    book = AccountBook(session, clock)
    lines: list[tuple[uuid.UUID, int]] = []
    for (kind, owner), amount in sorted(sums.items(), key=lambda kv: str(kv[0])):
        if amount == 0:
            continue
        terms = directory.award_by_id.get(owner) if owner is not None else None
        account = book.id_for(
            kind,
            award_id=owner if kind is not AccountKind.RECEIVABLE else None,
            organisation_id=owner if kind is AccountKind.RECEIVABLE else None,
            scheme_id=terms.scheme_id if terms is not None else None,
        )
        lines.append((account, amount))
    if not lines:
        return None
    return write_journal(
        session,
        clock,
        key=key,
        kind=JournalKind.USAGE,
        lines=lines,
        occurred_at=clock.now(),
        description=f"Inference tokens, usage {key.removeprefix('tokens:')}: "
        f"{len(charges)} ratings",
    )


def post_all_tokens(
    session: Session,
    clock: Clock,
    prices: TokenPriceLookup | None = None,
    audio_prices: AudioPriceLookup | None = None,
) -> TokenPostReport:
    """Post every pending token record in this unit of work (tests, the worker's duty)."""
    total = TokenPostReport()
    while True:
        report = post_token_usage(session, clock, prices, audio_prices=audio_prices)
        total.records += report.records
        total.charges += report.charges
        total.journals += report.journals
        total.list_minor += report.list_minor
        total.subsidy_minor += report.subsidy_minor
        total.unpriced |= report.unpriced
        total.last_usage_id = max(total.last_usage_id, report.last_usage_id)
        if report.records == 0 or report.unpriced:
            return total


__all__ = [
    "AudioPriceLookup",
    "TokenPostReport",
    "TokenPriceLookup",
    "audio_charge_minor",
    "post_all_tokens",
    "post_token_usage",
    "token_charge_minor",
]
