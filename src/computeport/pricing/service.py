"""Reading the rate card from the database, appending versions, and the assumed seed prices.

A version is appended, never edited: the table refuses UPDATE and DELETE.  It must start after
the latest version of its key, so history is only ever extended, and every instant has at most
one price per key.  People change prices through :mod:`computeport.pricing.changes` (drafted,
then approved by someone else); :func:`append_version` is the one writer both that and the seeds
(which load the scenario's assumed prices from the scheme's start) go through.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from computeport.kit.clock import Clock, ensure_aware
from computeport.kit.errors import Conflict, ValidationFailed
from computeport.kit.money import DEFAULT_CURRENCY
from computeport.models.pricing import PriceKind, PriceVersion
from computeport.pricing.book import AudioPrice, PriceBook, PriceEntry, TokenPrice
from computeport.pricing.errors import PriceNotFound

SCHEME_CURRENCY = DEFAULT_CURRENCY
"""The only currency a price may be in: the scheme's (subsidy and co-payment are in it)."""

ASSUMED_H800_PRICE = Decimal("28.00")
"""HK$ per H800 GPU-hour.  ASSUMPTION: AISC's list price is not public; this is a round figure
in the range of public H800/H100 cloud prices, used by the seed data and the demo only."""

ASSUMED_QOS_MULTIPLIERS: dict[str, Decimal] = {
    "subsidised": Decimal("1"),
    "paid": Decimal("1"),
    "normal": Decimal("1"),
    "scavenger": Decimal("0.5"),
}
"""ASSUMPTION: preemptible scavenger work at half price; every other QOS at list price."""

PRICING_EPOCH = datetime(2024, 10, 1, tzinfo=UTC)
"""The scheme's start (AISS from October 2024): the seed price is valid from here."""


def normalise_subject(kind: PriceKind, subject: str) -> str:
    """Accelerator types and QOS names are lower-case (as Slurm reports them); models as named."""
    text = subject.strip()
    if kind in (PriceKind.GPU_HOUR, PriceKind.QOS_MULTIPLIER):
        text = text.lower()
    if not text:
        raise ValidationFailed("the priced thing is not named", field="subject")
    if len(text) > 64:
        raise ValidationFailed("64 characters at most", field="subject")
    return text


def check_amounts(
    kind: PriceKind, unit_price: Decimal, unit_price_output: Decimal | None, currency: str
) -> None:
    """Refuse a price that is not a positive Decimal, a token price without both halves, or a
    currency other than the scheme's."""
    if currency != SCHEME_CURRENCY:
        raise ValidationFailed(
            f"prices are in the scheme's currency, {SCHEME_CURRENCY}, not {currency!r}",
            field="currency",
        )
    for name, value in (("unit_price", unit_price), ("unit_price_output", unit_price_output)):
        if value is None:
            continue
        if not isinstance(value, Decimal) or not value.is_finite():
            raise ValidationFailed("must be a decimal number", field=name)
        if value <= 0:
            raise ValidationFailed(f"must be more than zero, not {value}", field=name)
    if kind is PriceKind.TOKENS and unit_price_output is None:
        raise ValidationFailed(
            "a token price needs the price per million output tokens too", field="unit_price_output"
        )
    if kind is not PriceKind.TOKENS and unit_price_output is not None:
        raise ValidationFailed(
            "only token prices have an output-token price", field="unit_price_output"
        )


def latest_version(
    session: Session, kind: PriceKind, subject: str, site: str | None, cluster: str | None
) -> PriceVersion | None:
    """The version of the key that starts last (announced or in force)."""
    return session.scalars(
        select(PriceVersion)
        .where(
            PriceVersion.kind == kind,
            PriceVersion.subject == subject,
            PriceVersion.site.is_(None) if site is None else PriceVersion.site == site,
            PriceVersion.cluster.is_(None) if cluster is None else PriceVersion.cluster == cluster,
        )
        .order_by(PriceVersion.valid_from.desc())
        .limit(1)
    ).first()


def _lock_key(session: Session, kind: PriceKind, subject: str) -> None:
    """Serialise writers of one subject's prices until the transaction ends (PostgreSQL).

    The key's uniqueness cannot be left to the database: ``site`` and ``cluster`` are NULL
    for centre-wide prices and NULLs never collide in a unique constraint, so two approvals
    racing to the same start would both pass the "starts after the latest" check.  SQLite
    already serialises every writer.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    digest = hashlib.blake2b(f"price|{kind.value}|{subject}".encode(), digest_size=8)
    key = int.from_bytes(digest.digest(), "big", signed=True)
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def append_version(
    session: Session,
    clock: Clock,
    kind: PriceKind,
    subject: str,
    unit_price: Decimal,
    valid_from: datetime,
    *,
    unit_price_output: Decimal | None = None,
    site: str | None = None,
    cluster: str | None = None,
    currency: str = SCHEME_CURRENCY,
    is_assumption: bool = False,
    note: str = "",
    drafted_by: uuid.UUID | None = None,
    approved_by: uuid.UUID | None = None,
    change_id: uuid.UUID | None = None,
) -> PriceVersion:
    """Append one version; it must start after the key's latest (history is never rewritten)."""
    subject = normalise_subject(kind, subject)
    check_amounts(kind, unit_price, unit_price_output, currency)
    valid_from = ensure_aware(valid_from)
    _lock_key(session, kind, subject)
    latest = latest_version(session, kind, subject, site, cluster)
    if latest is not None and valid_from <= latest.valid_from:
        raise Conflict(
            f"a {kind.value} price for {subject} already starts at "
            f"{latest.valid_from.isoformat()}; a new one must start later",
            field="valid_from",
        )
    version = PriceVersion(
        kind=kind,
        subject=subject,
        site=site,
        cluster=cluster,
        unit_price=unit_price,
        unit_price_output=unit_price_output,
        currency=currency,
        valid_from=valid_from,
        is_assumption=is_assumption,
        note=note,
        drafted_by=drafted_by,
        approved_by=approved_by,
        change_id=change_id,
        created_at=clock.now(),
    )
    session.add(version)
    session.flush()
    return version


def set_price(
    session: Session,
    clock: Clock,
    accelerator_type: str,
    price_per_gpu_hour: Decimal,
    valid_from: datetime,
    *,
    site: str | None = None,
    cluster: str | None = None,
    is_assumption: bool = False,
    note: str = "",
) -> PriceVersion:
    """Append a GPU-hour price for ``accelerator_type`` from ``valid_from`` (seeds, the demo)."""
    return append_version(
        session,
        clock,
        PriceKind.GPU_HOUR,
        accelerator_type,
        price_per_gpu_hour,
        valid_from,
        site=site,
        cluster=cluster,
        is_assumption=is_assumption,
        note=note,
    )


def set_qos_multiplier(
    session: Session,
    clock: Clock,
    qos: str,
    multiplier: Decimal,
    *,
    valid_from: datetime | None = None,
    is_assumption: bool = False,
    note: str = "",
) -> PriceVersion:
    """Append a QOS factor from ``valid_from`` (default: now)."""
    return append_version(
        session,
        clock,
        PriceKind.QOS_MULTIPLIER,
        qos,
        multiplier,
        valid_from if valid_from is not None else clock.now(),
        is_assumption=is_assumption,
        note=note,
    )


def set_token_price(
    session: Session,
    clock: Clock,
    model: str,
    per_million_input: Decimal,
    per_million_output: Decimal,
    valid_from: datetime,
    *,
    is_assumption: bool = False,
    note: str = "",
) -> PriceVersion:
    """Append a token price for ``model`` (HK$ per million input / output tokens)."""
    return append_version(
        session,
        clock,
        PriceKind.TOKENS,
        model,
        per_million_input,
        valid_from,
        unit_price_output=per_million_output,
        is_assumption=is_assumption,
        note=note,
    )


def set_audio_price(
    session: Session,
    clock: Clock,
    model: str,
    per_minute: Decimal,
    valid_from: datetime,
    *,
    is_assumption: bool = False,
    note: str = "",
) -> PriceVersion:
    """Append an audio-minute price for ``model``."""
    return append_version(
        session,
        clock,
        PriceKind.AUDIO_MINUTE,
        model,
        per_minute,
        valid_from,
        is_assumption=is_assumption,
        note=note,
    )


def price_in_force(
    session: Session, accelerator_type: str, at: datetime, *, cluster: str | None = None
) -> PriceEntry:
    """The GPU-hour version in force for ``accelerator_type`` at ``at``."""
    at = ensure_aware(at)
    accelerator_type = accelerator_type.strip().lower()
    found = PriceBook.load(session).at(accelerator_type, at.timestamp(), cluster=cluster)
    if found is None:
        raise PriceNotFound(
            f"no price for accelerator type {accelerator_type!r} at {at.isoformat()}",
            field="accelerator_type",
        )
    return found


def token_price(session: Session, model: str, at: datetime) -> TokenPrice:
    """HK$ per million input and output tokens of ``model`` in force at ``at``, with the
    version that says so (a charge names it).  Raises :class:`PriceNotFound` when none is."""
    at = ensure_aware(at)
    found = PriceBook.load(session).token_price(model.strip(), at.timestamp())
    if found is None:
        raise PriceNotFound(
            f"no token price for model {model!r} at {at.isoformat()}", field="model"
        )
    return found


def audio_minute_price(session: Session, model: str, at: datetime) -> AudioPrice:
    """HK$ per audio minute of ``model`` in force at ``at``, with its version."""
    at = ensure_aware(at)
    found = PriceBook.load(session).audio_price(model.strip(), at.timestamp())
    if found is None:
        raise PriceNotFound(
            f"no audio-minute price for model {model!r} at {at.isoformat()}", field="model"
        )
    return found


def seed_assumed_prices(session: Session, clock: Clock) -> None:
    """Seed the ASSUMED H800 list price and QOS multipliers (idempotent).

    Labelled ``is_assumption`` because the centre does not publish its list price.
    """
    seed_prices(session, clock, {"h800": ASSUMED_H800_PRICE}, ASSUMED_QOS_MULTIPLIERS)


def seed_prices(
    session: Session,
    clock: Clock,
    gpu_hour: dict[str, Decimal],
    qos: dict[str, Decimal],
    *,
    tokens: dict[str, tuple[Decimal, Decimal]] | None = None,
    audio: dict[str, Decimal] | None = None,
    valid_from: datetime = PRICING_EPOCH,
) -> int:
    """Load assumed prices from ``valid_from`` for every key that has none yet; returns how many.

    Each is labelled ``is_assumption``: a scenario's figures, not a published rate card.
    """
    note = "ASSUMPTION: AISC list price is not public"
    wanted: list[tuple[PriceKind, str, Decimal, Decimal | None]] = [
        *((PriceKind.GPU_HOUR, k, v, None) for k, v in gpu_hour.items()),
        *((PriceKind.QOS_MULTIPLIER, k, v, None) for k, v in qos.items()),
        *((PriceKind.TOKENS, k, i, o) for k, (i, o) in (tokens or {}).items()),
        *((PriceKind.AUDIO_MINUTE, k, v, None) for k, v in (audio or {}).items()),
    ]
    added = 0
    for kind, subject, price, output in wanted:
        if latest_version(session, kind, normalise_subject(kind, subject), None, None) is not None:
            continue
        append_version(
            session,
            clock,
            kind,
            subject,
            price,
            valid_from,
            unit_price_output=output,
            is_assumption=True,
            note=note,
        )
        added += 1
    return added


__all__ = [
    "ASSUMED_H800_PRICE",
    "ASSUMED_QOS_MULTIPLIERS",
    "PRICING_EPOCH",
    "SCHEME_CURRENCY",
    "AudioPrice",
    "PriceBook",
    "PriceEntry",
    "TokenPrice",
    "append_version",
    "audio_minute_price",
    "check_amounts",
    "latest_version",
    "normalise_subject",
    "price_in_force",
    "seed_assumed_prices",
    "seed_prices",
    "set_audio_price",
    "set_price",
    "set_qos_multiplier",
    "set_token_price",
    "token_price",
]
