"""Who a Slurm account belongs to: an award (subsidised) or an organisation (pay-as-you-go).

Loaded once per ingest or posting batch: the tables are small and the lookups are hot.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from computeport.models.award import Award, OverCapPolicy
from computeport.models.identity import Organisation


@dataclass(frozen=True, slots=True)
class AwardTerms:
    """What rating needs to know about an award."""

    id: uuid.UUID
    reference: str
    organisation_id: uuid.UUID
    scheme_id: uuid.UUID
    subsidy_rate: Decimal
    cap_minor: int
    starts_epoch: float
    ends_epoch: float
    over_cap_policy: OverCapPolicy


@dataclass(frozen=True)
class AccountDirectory:
    """Slurm account → award terms, and Slurm account → organisation id."""

    awards: dict[str, AwardTerms]
    organisations: dict[str, uuid.UUID]
    award_by_id: dict[uuid.UUID, AwardTerms]

    @classmethod
    def load(cls, session: Session) -> AccountDirectory:
        awards: dict[str, AwardTerms] = {}
        for a in session.scalars(select(Award)).all():
            awards[a.slurm_account] = AwardTerms(
                id=a.id,
                reference=a.reference,
                organisation_id=a.organisation_id,
                scheme_id=a.scheme_id,
                subsidy_rate=a.subsidy_rate,
                cap_minor=a.cap_minor,
                starts_epoch=a.starts_at.timestamp(),
                ends_epoch=a.ends_at.timestamp(),
                over_cap_policy=OverCapPolicy(a.over_cap_policy),
            )
        orgs = {
            o.slurm_account: o.id
            for o in session.scalars(
                select(Organisation).where(Organisation.slurm_account.is_not(None))
            ).all()
            if o.slurm_account
        }
        return cls(awards, orgs, {t.id: t for t in awards.values()})

    def knows(self, account: str) -> bool:
        return account in self.awards or account in self.organisations


__all__ = ["AccountDirectory", "AwardTerms"]
