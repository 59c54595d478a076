"""API shapes of the rate card: lines of the card, versions, drafted changes, cost estimates."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from pydantic import AwareDatetime, BaseModel, Field

from computeport.kit.inputs import InputModel
from computeport.models.pricing import PriceChange, PriceChangeStatus, PriceKind
from computeport.pricing.approval import PriceChangeRequest
from computeport.pricing.book import PriceEntry
from computeport.pricing.card import CardLine, CostEstimate


class PriceVersionRead(BaseModel):
    """One version: its price, from when, who drafted and approved it."""

    id: uuid.UUID
    kind: PriceKind
    subject: str
    site: str | None
    cluster: str | None
    unit_price: Decimal = Field(description="HK$ per unit, or the QOS factor.")
    unit_price_output: Decimal | None = Field(description="Tokens: HK$ per million output.")
    currency: str
    valid_from: datetime
    valid_to: datetime | None = Field(description="Where the key's next version starts.")
    is_assumption: bool
    note: str

    @classmethod
    def of(cls, e: PriceEntry) -> PriceVersionRead:
        return cls(
            id=e.id,
            kind=e.kind,
            subject=e.subject,
            site=e.site,
            cluster=e.cluster,
            unit_price=e.unit_price,
            unit_price_output=e.unit_price_output,
            currency="HKD",
            valid_from=e.valid_from,
            valid_to=e.valid_to,
            is_assumption=e.is_assumption,
            note=e.note,
        )


class CardLineRead(BaseModel):
    kind: PriceKind
    subject: str
    site: str | None
    cluster: str | None
    in_force: PriceVersionRead | None
    next: PriceVersionRead | None = Field(description="The next announced change, if any.")

    @classmethod
    def of(cls, line: CardLine) -> CardLineRead:
        return cls(
            kind=line.kind,
            subject=line.subject,
            site=line.site,
            cluster=line.cluster,
            in_force=PriceVersionRead.of(line.in_force) if line.in_force else None,
            next=PriceVersionRead.of(line.next) if line.next else None,
        )


class RateCardRead(BaseModel):
    at: datetime
    currency: str = "HKD"
    lines: list[CardLineRead]


class PriceChangeIn(InputModel):
    """A price change an operator drafts; approved by a scheme officer before it counts."""

    kind: PriceKind
    subject: str = Field(max_length=64, description="Accelerator type, QOS or model name.")
    unit_price: Decimal = Field(description="HK$ per unit (> 0), or the QOS factor.")
    unit_price_output: Decimal | None = Field(
        default=None, description="Tokens only: HK$ per million output tokens."
    )
    valid_from: AwareDatetime = Field(description="When it takes effect; in the future.")
    currency: str = Field(default="HKD", max_length=8, description="Only HKD, the scheme's.")
    site: str | None = Field(default=None, max_length=64)
    cluster: str | None = Field(default=None, max_length=64)
    reason: str = Field(max_length=2000, description="Why the price changes (audited).")

    def request(self) -> PriceChangeRequest:
        return PriceChangeRequest(
            kind=self.kind,
            subject=self.subject,
            unit_price=self.unit_price,
            valid_from=self.valid_from,
            reason=self.reason,
            unit_price_output=self.unit_price_output,
            currency=self.currency,
            site=self.site,
            cluster=self.cluster,
        )


class PriceDecisionIn(InputModel):
    reason: str = Field(default="", max_length=2000, description="A note (needed to reject).")


class PriceChangeRead(BaseModel):
    id: uuid.UUID
    kind: PriceKind
    subject: str
    site: str | None
    cluster: str | None
    unit_price: Decimal
    unit_price_output: Decimal | None
    currency: str
    valid_from: datetime
    reason: str
    status: PriceChangeStatus
    drafted_by: uuid.UUID
    decided_by: uuid.UUID | None
    decided_at: datetime | None
    version_id: uuid.UUID | None

    @classmethod
    def of(cls, c: PriceChange) -> PriceChangeRead:
        return cls(
            id=c.id,
            kind=c.kind,
            subject=c.subject,
            site=c.site,
            cluster=c.cluster,
            unit_price=c.unit_price,
            unit_price_output=c.unit_price_output,
            currency=c.currency,
            valid_from=c.valid_from,
            reason=c.reason,
            status=c.status,
            drafted_by=c.drafted_by,
            decided_by=c.decided_by,
            decided_at=c.decided_at,
            version_id=c.version_id,
        )


class CostEstimateRead(BaseModel):
    """What GPU-hours cost at today's rate card: list price, subsidy, co-payment (HK cents)."""

    accelerator_type: str
    gpu_hours: int
    unit_price: Decimal
    version_id: uuid.UUID
    is_assumption: bool
    subsidy_rate: Decimal
    list_minor: int
    subsidy_minor: int
    copay_minor: int

    @classmethod
    def of(cls, e: CostEstimate) -> CostEstimateRead:
        return cls(
            accelerator_type=e.accelerator_type,
            gpu_hours=e.gpu_hours,
            unit_price=e.unit_price,
            version_id=e.version_id,
            is_assumption=e.is_assumption,
            subsidy_rate=e.subsidy_rate,
            list_minor=e.list_minor,
            subsidy_minor=e.subsidy_minor,
            copay_minor=e.copay_minor,
        )


__all__ = [
    "CardLineRead",
    "CostEstimateRead",
    "PriceChangeIn",
    "PriceChangeRead",
    "PriceDecisionIn",
    "PriceVersionRead",
    "RateCardRead",
]
