"""The audit trail of what a reconcile did to an organisation's place in the cluster.

A reconcile that moves an organisation's award accounts to a new parent
(:class:`~computeport.backends.MoveOrganisation`: the organisation got its own stored
Slurm name, e.g. by migration 0004 after organisations had shared a parent) changes whose
fair-share, limits and reports the awards' usage counts towards, so each move is recorded on
the organisation (``slurm_parent_moved``), with the plan line as the reason.  The edges that
apply plans (``computeport slurm reconcile``, the worker's reconcile duty) call
:func:`audit_applied_plan` after the plan was applied.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from computeport.audit.service import record_event
from computeport.backends import MoveOrganisation, ProvisioningPlan
from computeport.models.identity import Organisation

__all__ = ["PARENT_MOVED", "audit_applied_plan"]

PARENT_MOVED = "slurm_parent_moved"
"""The audit action of an organisation whose award accounts moved to its new parent."""


def audit_applied_plan(
    session: Session, plan: ProvisioningPlan, at: datetime, actor_id: uuid.UUID | None = None
) -> int:
    """Record every organisation move of an applied ``plan``; the number recorded."""
    recorded = 0
    for change in plan.changes:
        if not isinstance(change, MoveOrganisation):
            continue
        org = session.scalar(
            select(Organisation).where(Organisation.slurm_account == change.parent)
        )
        if org is None:  # a desired-state file, not the awards: nothing of ours to audit
            continue
        record_event(session, org, PARENT_MOVED, actor_id, change.describe(), at)
        recorded += 1
    return recorded
