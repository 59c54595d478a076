"""An organisation's data policy: set (by an operator, audited) and read.

Why operators only: redaction and residency are promises the centre makes to a department about
where its prompts go; the department asks, the centre's operator records it, and the audit log
keeps who changed it when.  Site keys are checked against the inventory (``centre_site.key``),
so a policy never names a site that does not exist.  Services never commit: the caller's unit
of work does.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from computeport.audit.service import record_event
from computeport.gateway.repository import policy_of
from computeport.kit.clock import Clock
from computeport.kit.errors import NotFound, ValidationFailed
from computeport.models.centre import CentreSite
from computeport.models.data_policy import DataPolicy
from computeport.models.identity import Organisation


def known_sites(session: Session, keys: Sequence[str], field: str) -> tuple[str, ...]:
    """``keys`` stripped and de-duplicated, each one an inventory site's key (else a
    :class:`ValidationFailed` naming ``field`` and the unknown key)."""
    cleaned = tuple(dict.fromkeys(k.strip() for k in keys))
    if any(not k for k in cleaned):
        raise ValidationFailed(f"{field}: a site key must not be empty", field=field)
    found = set(session.scalars(select(CentreSite.key).where(CentreSite.key.in_(cleaned))))
    unknown = [k for k in cleaned if k not in found]
    if unknown:
        raise ValidationFailed(
            f"{field}: no site {unknown[0]!r} in the inventory (computeport clusters sites)",
            field=field,
        )
    return cleaned


def set_policy(
    session: Session,
    clock: Clock,
    organisation_id: uuid.UUID,
    *,
    redact: bool,
    allowed_sites: Sequence[str] | None,
    actor_id: uuid.UUID | None,
) -> DataPolicy:
    """Replace the organisation's policy (``allowed_sites`` None: any site; else a non-empty
    list of inventory site keys) and audit the change."""
    if session.get(Organisation, organisation_id) is None:
        raise NotFound(f"organisation {organisation_id} not found", field="organisation_id")
    sites: tuple[str, ...] | None = None
    if allowed_sites is not None:
        if not allowed_sites:
            raise ValidationFailed(
                "allowed_sites: name at least one site, or null for any site",
                field="allowed_sites",
            )
        sites = known_sites(session, allowed_sites, "allowed_sites")
    row = policy_of(session, organisation_id)
    if row is None:
        row = DataPolicy(organisation_id=organisation_id, created_at=clock.now())
        session.add(row)
    row.redact = redact
    row.allowed_sites = ",".join(sites) if sites is not None else None
    session.flush()
    where = ", ".join(sites) if sites is not None else "any site"
    record_event(
        session,
        row,
        "data_policy_set",
        actor_id,
        f"redaction {'on' if redact else 'off'}; sites: {where}",
        clock.now(),
    )
    return row


__all__ = ["known_sites", "set_policy"]
