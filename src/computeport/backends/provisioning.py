"""The one desired state both back ends reconcile to, built from the award rows.

The adapter lives with the Slurm back end (:mod:`computeport.backends.slurm.desired`, written
first); this module is its back-end-neutral name, so the virtual cluster, the worker and the
CLI all call the same function and the two back ends cannot drift apart.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from computeport.backends.protocol import DesiredState
from computeport.backends.slurm.desired import (
    award_state,
    desired_state_from_awards,
    organisation_account,
)

__all__ = ["award_state", "desired_state", "desired_state_from_awards", "organisation_account"]


def desired_state(session: Session, now: datetime) -> DesiredState:
    """Every award as the cluster should see it at ``now``."""
    return desired_state_from_awards(session, now)
