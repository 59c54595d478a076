"""The envelope as the API shows it (cents, with the currency)."""

from __future__ import annotations

import uuid

from pydantic import BaseModel

from computeport.envelope.service import EnvelopeFigures


class CategoryRead(BaseModel):
    category: str
    awards: int
    committed_minor: int
    consumed_minor: int


class EnvelopeRead(BaseModel):
    scheme_id: uuid.UUID
    scheme_code: str
    currency: str
    total_minor: int
    committed_minor: int
    consumed_minor: int
    remaining_minor: int
    """Envelope − committed: what new decisions may still commit."""
    by_category: list[CategoryRead]

    @classmethod
    def of(cls, figures: EnvelopeFigures) -> EnvelopeRead:
        return cls(
            scheme_id=figures.scheme_id,
            scheme_code=figures.scheme_code,
            currency=figures.currency,
            total_minor=figures.total_minor,
            committed_minor=figures.committed_minor,
            consumed_minor=figures.consumed_minor,
            remaining_minor=figures.remaining_minor,
            by_category=[
                CategoryRead(
                    category=c.category.value,
                    awards=c.awards,
                    committed_minor=c.committed_minor,
                    consumed_minor=c.consumed_minor,
                )
                for c in figures.by_category
            ],
        )


__all__ = ["CategoryRead", "EnvelopeRead"]
