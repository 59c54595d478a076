"""What the rate-card page and the application's estimate show, read from the rate card.

Prices are shaped here (amount, unit, start, whether assumed) and translated in the templates,
so the page reads the same in English and Traditional Chinese.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from computeport.models.centre import CentreSite
from computeport.models.pricing import PriceKind
from computeport.pricing.announce import amount_text
from computeport.pricing.book import PriceBook, PriceEntry
from computeport.pricing.card import CardLine, CostEstimate, estimate_cost, load_rate_card
from computeport.pricing.errors import PriceNotFound
from computeport.web.formatting import HONG_KONG

KIND_LABELS = {
    PriceKind.GPU_HOUR: "GPU-hour",
    PriceKind.QOS_MULTIPLIER: "QOS multiplier",
    PriceKind.TOKENS: "Inference tokens",
    PriceKind.AUDIO_MINUTE: "Audio minute",
}
"""English labels (msgids): the template translates them."""

UNIT_LABELS = {
    PriceKind.GPU_HOUR: "per GPU-hour",
    PriceKind.QOS_MULTIPLIER: "× the list price",
    PriceKind.TOKENS: "per million input tokens",
    PriceKind.AUDIO_MINUTE: "per audio minute",
}


@dataclass(frozen=True)
class PriceShown:
    """One price as the page prints it."""

    amount: str
    unit: str
    output: str
    """Tokens: HK$ per million output tokens, else empty."""
    since: date
    assumed: bool
    version: str


@dataclass(frozen=True)
class CardRow:
    kind: str
    subject: str
    where: str
    """The site (its name in the reader's language) and cluster a price is for; empty: the
    whole centre (the template says so in the reader's language)."""
    in_force: PriceShown | None
    next: PriceShown | None


def _shown(entry: PriceEntry | None) -> PriceShown | None:
    if entry is None:
        return None
    if entry.kind is PriceKind.QOS_MULTIPLIER:
        amount = f"{entry.unit_price.normalize()}"
    else:
        amount = f"HK${amount_text(entry.unit_price)}"
    output = (
        f"HK${amount_text(entry.unit_price_output)}" if entry.unit_price_output is not None else ""
    )
    return PriceShown(
        amount,
        UNIT_LABELS[entry.kind],
        output,
        entry.valid_from.astimezone(HONG_KONG).date(),
        entry.is_assumption,
        str(entry.id),
    )


def card_rows(lines: list[CardLine], site_names: dict[str, str] | None = None) -> list[CardRow]:
    """The page's rows; ``site_names`` (site key → name shown) names a per-site price's site."""
    names = site_names or {}
    return [
        CardRow(
            KIND_LABELS[line.kind],
            line.subject,
            " / ".join(
                x
                for x in (names.get(line.site, line.site) if line.site else None, line.cluster)
                if x
            ),
            _shown(line.in_force),
            _shown(line.next),
        )
        for line in lines
    ]


def site_names(session: Session, *, zh: bool) -> dict[str, str]:
    """Every inventory site's key → its name in the reader's language (English without one)."""
    return {
        s.key: (s.name_zh if zh and s.name_zh else s.name)
        for s in session.scalars(select(CentreSite))
    }


def rate_card_rows(session: Session, at: datetime, *, zh: bool = False) -> list[CardRow]:
    return card_rows(load_rate_card(session, at), site_names(session, zh=zh))


def cost_estimate(
    session: Session, accelerator_type: str, gpu_hours: int, rate: Decimal, at: datetime
) -> CostEstimate | None:
    """What the request costs at today's rate card (None: the type has no price today)."""
    try:
        return estimate_cost(PriceBook.load(session), accelerator_type, gpu_hours, rate, at)
    except PriceNotFound:
        return None


__all__ = [
    "KIND_LABELS",
    "UNIT_LABELS",
    "CardRow",
    "PriceShown",
    "card_rows",
    "cost_estimate",
    "rate_card_rows",
    "site_names",
]
