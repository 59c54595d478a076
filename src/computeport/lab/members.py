"""Who each Slurm account belongs to, from the centre's tables: awards and organisations.

An award's account belongs to the award's organisation; an organisation's own account (work
paid at the list price) to the organisation. The category is the organisation's
(university, R&D centre, enterprise, government).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from computeport.lab.history import Member
from computeport.models.award import Award
from computeport.models.identity import Organisation

__all__ = ["account_members"]


def account_members(session: Session) -> dict[str, Member]:
    """Account name → organisation name and category."""
    out: dict[str, Member] = {}
    for org in session.scalars(select(Organisation)):
        out[org.slurm_account] = Member(org.name, org.category.value)
    rows = session.execute(
        select(Award.slurm_account, Organisation.name, Organisation.category).join(
            Organisation, Organisation.id == Award.organisation_id
        )
    )
    for account, name, category in rows:
        out[account] = Member(name, category.value)
    return out
