"""Reading and changing the price list, and the assumed Cyberport seed prices.

A price change closes the version in force (``valid_to`` = the new version's ``valid_from``)
and opens a new one, so every instant has at most one price per accelerator type and history
is kept: a record is always rated at the version in force at the job's end.
"""

from __future__ import annotations

import bisect
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from computeport.kit.clock import Clock, ensure_aware
from computeport.kit.errors import Conflict, ValidationFailed
from computeport.models.pricing import PriceVersion, QosMultiplier
from computeport.pricing.errors import PriceNotFound

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


@dataclass(frozen=True, slots=True)
class PriceEntry:
    """A price version, detached from the session (rating keeps thousands of lookups cheap)."""

    id: uuid.UUID
    accelerator_type: str
    price_per_gpu_hour: Decimal
    valid_from: datetime
    valid_to: datetime | None


class PriceBook:
    """Every price version and QOS multiplier, loaded once, for fast lookups while rating."""

    def __init__(self, versions: list[PriceEntry], multipliers: dict[str, Decimal]) -> None:
        self._by_type: dict[str, list[PriceEntry]] = {}
        for v in sorted(versions, key=lambda v: (v.accelerator_type, v.valid_from)):
            self._by_type.setdefault(v.accelerator_type, []).append(v)
        self._starts = {
            t: [v.valid_from.timestamp() for v in vs] for t, vs in self._by_type.items()
        }
        self.multipliers = dict(multipliers)
        # The last hit per type and its validity: consecutive records mostly share a version.
        self._last: dict[str, tuple[float, float, PriceEntry]] = {}

    @classmethod
    def load(cls, session: Session) -> PriceBook:
        rows = session.scalars(select(PriceVersion)).all()
        versions = [
            PriceEntry(r.id, r.accelerator_type, r.price_per_gpu_hour, r.valid_from, r.valid_to)
            for r in rows
        ]
        mult = {m.qos: m.multiplier for m in session.scalars(select(QosMultiplier)).all()}
        return cls(versions, mult)

    def knows(self, accelerator_type: str) -> bool:
        return accelerator_type in self._by_type

    def at(self, accelerator_type: str, when_epoch: float) -> PriceEntry | None:
        """The version in force at ``when_epoch`` (seconds), or None."""
        last = self._last.get(accelerator_type)
        if last is not None and last[0] <= when_epoch < last[1]:
            return last[2]
        found = self._lookup(accelerator_type, when_epoch)
        if found is not None:
            end = found.valid_to.timestamp() if found.valid_to is not None else float("inf")
            self._last[accelerator_type] = (found.valid_from.timestamp(), end, found)
        return found

    def _lookup(self, accelerator_type: str, when_epoch: float) -> PriceEntry | None:
        starts = self._starts.get(accelerator_type)
        if not starts:
            return None
        i = bisect.bisect_right(starts, when_epoch) - 1
        if i < 0:
            return None
        entry = self._by_type[accelerator_type][i]
        if entry.valid_to is not None and when_epoch >= entry.valid_to.timestamp():
            return None
        return entry

    def multiplier(self, qos: str) -> Decimal:
        """The QOS factor; an unlisted QOS pays list price."""
        return self.multipliers.get(qos, Decimal(1))


def price_in_force(session: Session, accelerator_type: str, at: datetime) -> PriceVersion:
    """The price version in force for ``accelerator_type`` at ``at``."""
    at = ensure_aware(at)
    row = session.scalars(
        select(PriceVersion)
        .where(
            PriceVersion.accelerator_type == accelerator_type,
            PriceVersion.valid_from <= at,
            (PriceVersion.valid_to.is_(None)) | (PriceVersion.valid_to > at),
        )
        .order_by(PriceVersion.valid_from.desc())
        .limit(1)
    ).first()
    if row is None:
        raise PriceNotFound(
            f"no price for accelerator type {accelerator_type!r} at {at.isoformat()}",
            field="accelerator_type",
        )
    return row


def set_price(
    session: Session,
    clock: Clock,
    accelerator_type: str,
    price_per_gpu_hour: Decimal,
    valid_from: datetime,
    *,
    is_assumption: bool = False,
    note: str = "",
) -> PriceVersion:
    """Open a new price version from ``valid_from``, closing the one in force then.

    Refuses a change before the start of the latest version (history is not rewritten).
    """
    if not isinstance(price_per_gpu_hour, Decimal) or price_per_gpu_hour < 0:
        raise ValidationFailed("price must be a non-negative Decimal", field="price_per_gpu_hour")
    accelerator_type = accelerator_type.strip().lower()
    if not accelerator_type:
        raise ValidationFailed("accelerator type is empty", field="accelerator_type")
    valid_from = ensure_aware(valid_from)
    latest = session.scalars(
        select(PriceVersion)
        .where(PriceVersion.accelerator_type == accelerator_type)
        .order_by(PriceVersion.valid_from.desc())
        .limit(1)
    ).first()
    if latest is not None:
        if valid_from <= latest.valid_from:
            raise Conflict(
                f"a price for {accelerator_type} already starts at "
                f"{latest.valid_from.isoformat()}; a new one must start later",
                field="valid_from",
            )
        if latest.valid_to is None or latest.valid_to > valid_from:
            latest.valid_to = valid_from
    version = PriceVersion(
        accelerator_type=accelerator_type,
        price_per_gpu_hour=price_per_gpu_hour,
        valid_from=valid_from,
        is_assumption=is_assumption,
        note=note,
        created_at=clock.now(),
    )
    session.add(version)
    session.flush()
    return version


def set_qos_multiplier(
    session: Session, clock: Clock, qos: str, multiplier: Decimal, *, is_assumption: bool = False
) -> QosMultiplier:
    """Set (or replace) the price factor of one QOS."""
    if not isinstance(multiplier, Decimal) or multiplier < 0:
        raise ValidationFailed("multiplier must be a non-negative Decimal", field="multiplier")
    row = session.scalars(select(QosMultiplier).where(QosMultiplier.qos == qos)).first()
    if row is None:
        row = QosMultiplier(
            qos=qos, multiplier=multiplier, is_assumption=is_assumption, created_at=clock.now()
        )
        session.add(row)
    else:
        row.multiplier = multiplier
        row.is_assumption = is_assumption
    session.flush()
    return row


def seed_assumed_prices(session: Session, clock: Clock) -> None:
    """Seed the ASSUMED H800 list price and QOS multipliers (idempotent).

    Labelled ``is_assumption`` because the centre does not publish its list price.
    """
    exists = session.scalars(
        select(PriceVersion).where(PriceVersion.accelerator_type == "h800").limit(1)
    ).first()
    if exists is None:
        set_price(
            session,
            clock,
            "h800",
            ASSUMED_H800_PRICE,
            PRICING_EPOCH,
            is_assumption=True,
            note="ASSUMPTION: AISC list price is not public",
        )
    for qos, factor in ASSUMED_QOS_MULTIPLIERS.items():
        if session.scalars(select(QosMultiplier).where(QosMultiplier.qos == qos)).first() is None:
            set_qos_multiplier(session, clock, qos, factor, is_assumption=True)


__all__ = [
    "ASSUMED_H800_PRICE",
    "ASSUMED_QOS_MULTIPLIERS",
    "PriceBook",
    "PriceEntry",
    "price_in_force",
    "seed_assumed_prices",
    "set_price",
    "set_qos_multiplier",
]
