"""Reading metered usage: the one home of metering's organisation filters.

The rating sub-ledger (``usage_charge``) and its rollup hold one organisation's usage per row;
``charges_readable_by(subject)`` is what the API lists, and :func:`rollups_of` is the condition a
page uses once it has checked the viewer may read that organisation.
"""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, Select, select

from computeport.identity.subject import Subject
from computeport.models.metering import UsageCharge
from computeport.models.rollup import ClusterUsageRollup, UsageRollup


def charges_readable_by(subject: Subject) -> Select[UsageCharge]:
    """Rating rows the subject may read: all for overseers, else their organisations' only."""
    stmt = select(UsageCharge)
    if not subject.sees_all_organisations:
        stmt = stmt.where(UsageCharge.organisation_id.in_(list(subject.organisation_ids)))
    return stmt


def rollups_of(organisation_id: uuid.UUID) -> ColumnElement[bool]:
    """The condition "usage of this organisation" over the rollup."""
    return UsageRollup.organisation_id == organisation_id


def cluster_rollups_of(organisation_id: uuid.UUID) -> ColumnElement[bool]:
    """The condition "usage of this organisation" over the per-cluster rollup."""
    return ClusterUsageRollup.organisation_id == organisation_id
