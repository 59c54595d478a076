"""The published rate card: for each priced thing, the price in force and the next announced one,
and what a request of GPU-hours costs an applicant at today's prices.

The same view feeds the CLI (``prices list``/``show --at``), the API and the portal page, so all
three say the same thing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from computeport.kit.clock import ensure_aware
from computeport.kit.money import charge_minor, split_subsidy
from computeport.models.pricing import PriceKind
from computeport.pricing.book import PriceBook, PriceEntry
from computeport.pricing.errors import PriceNotFound

KIND_ORDER = {
    PriceKind.GPU_HOUR: 0,
    PriceKind.QOS_MULTIPLIER: 1,
    PriceKind.TOKENS: 2,
    PriceKind.AUDIO_MINUTE: 3,
}


@dataclass(frozen=True)
class CardLine:
    """One priced thing: what is in force at the card's instant, and what comes next."""

    kind: PriceKind
    subject: str
    site: str | None
    cluster: str | None
    in_force: PriceEntry | None
    next: PriceEntry | None


def rate_card(book: PriceBook, at: datetime) -> list[CardLine]:
    """Every key with a price in force at ``at`` or announced after it."""
    at_epoch = ensure_aware(at).timestamp()
    by_key: dict[tuple[PriceKind, str, str | None, str | None], list[PriceEntry]] = {}
    for e in book.entries():
        by_key.setdefault((e.kind, e.subject, e.site, e.cluster), []).append(e)
    lines: list[CardLine] = []
    for (kind, subject, site, cluster), versions in by_key.items():
        in_force = next(
            (v for v in versions if v.valid_from.timestamp() <= at_epoch < v.end_epoch), None
        )
        upcoming = next((v for v in versions if v.valid_from.timestamp() > at_epoch), None)
        if in_force is None and upcoming is None:
            continue
        lines.append(CardLine(kind, subject, site, cluster, in_force, upcoming))
    lines.sort(key=lambda c: (KIND_ORDER[c.kind], c.subject, c.site or "", c.cluster or ""))
    return lines


def load_rate_card(session: Session, at: datetime) -> list[CardLine]:
    return rate_card(PriceBook.load(session), at)


@dataclass(frozen=True)
class CostEstimate:
    """What ``gpu_hours`` of one accelerator type cost at one instant's list price: the list
    price, the scheme's share at ``subsidy_rate`` and the applicant's co-payment (cents)."""

    accelerator_type: str
    gpu_hours: int
    unit_price: Decimal
    version_id: uuid.UUID
    valid_from: datetime
    is_assumption: bool
    list_minor: int
    subsidy_minor: int
    copay_minor: int
    subsidy_rate: Decimal

    @property
    def cents_per_hour_ratio(self) -> tuple[int, int]:
        """The price in cents per GPU-hour as an exact ratio (a page recomputes the estimate
        with integers only, rounding as billing does)."""
        return (self.unit_price * 100).as_integer_ratio()

    @property
    def rate_ratio(self) -> tuple[int, int]:
        return self.subsidy_rate.as_integer_ratio()


def estimate_cost(
    book: PriceBook, accelerator_type: str, gpu_hours: int, subsidy_rate: Decimal, at: datetime
) -> CostEstimate:
    """Price ``gpu_hours`` as billing would rate them (cents half-up, subsidy half-down)."""
    accelerator_type = accelerator_type.strip().lower()
    entry = book.at(accelerator_type, ensure_aware(at).timestamp())
    if entry is None:
        raise PriceNotFound(
            f"no price for accelerator type {accelerator_type!r} today", field="accelerator_type"
        )
    list_minor = charge_minor(gpu_hours * 3600, entry.unit_price * 100)
    subsidy, copay = split_subsidy(list_minor, subsidy_rate)
    return CostEstimate(
        accelerator_type,
        gpu_hours,
        entry.unit_price,
        entry.id,
        entry.valid_from,
        entry.is_assumption,
        list_minor,
        subsidy,
        copay,
        subsidy_rate,
    )


__all__ = ["CardLine", "CostEstimate", "estimate_cost", "load_rate_card", "rate_card"]
