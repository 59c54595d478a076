"""The policy lab's use case for the portal and the API: ask, replay, save (never commits).

``ask`` turns a question ("reserve 10% for government, over the last 90 days") into a saved
study. The history comes from the deployment's cluster back end: the virtual cluster's own
call log (exact baseline), else the usage records. Everything is validated before anything is
written: a refused question leaves no row.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from computeport.backends.protocol import ClusterBackend
from computeport.backends.sim.backend import SimBackend
from computeport.kit.clock import Clock, to_epoch_seconds
from computeport.kit.errors import ValidationFailed
from computeport.lab.history import History
from computeport.lab.members import account_members, pending_applications
from computeport.lab.policy_file import parse_policy
from computeport.lab.store import save_study
from computeport.lab.study import Study, run_study
from computeport.lab.usage import history_of_usage
from computeport.lab.virtual import history_of_virtual_cluster

__all__ = ["MAX_CHANGES", "MAX_DAYS", "Question", "ask", "history_for"]

MAX_CHANGES = 8
MAX_DAYS = 366


@dataclass(frozen=True, slots=True)
class Question:
    """What an operator or the committee asks: a window and up to eight changes."""

    start: datetime
    end: datetime
    changes: tuple[str, ...]
    policy_text: str | None = None

    @staticmethod
    def last_days(
        now: datetime, days: int, changes: Sequence[str], policy_text: str | None = None
    ) -> Question:
        """The ``days`` before ``now`` (whole UTC days, ending today)."""
        if not 1 <= days <= MAX_DAYS:
            raise ValidationFailed(f"the window is 1 to {MAX_DAYS} days", field="days")
        end = now.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
        return Question(end - timedelta(days=days), end, tuple(changes), policy_text or None)


def history_for(session: Session, backend: ClusterBackend | None) -> History:
    """The cluster's history, who its accounts are, and the applications awaiting a decision."""
    members = account_members(session)
    if isinstance(backend, SimBackend):
        history = history_of_virtual_cluster(backend, members)
    else:
        history = history_of_usage(session, members)
    return replace(history, applications=pending_applications(session))


def ask(
    session: Session,
    backend: ClusterBackend | None,
    question: Question,
    *,
    clock: Clock,
    requested_by: uuid.UUID | None = None,
) -> tuple[uuid.UUID, Study]:
    """Replay the question's window and save the answer; the study's id and the study."""
    changes = [c.strip() for c in question.changes if c.strip()]
    if len(changes) > MAX_CHANGES:
        raise ValidationFailed(f"at most {MAX_CHANGES} changes at once", field="changes")
    if question.end <= question.start:
        raise ValidationFailed("the window ends before it starts", field="to")
    if question.end - question.start > timedelta(days=MAX_DAYS):
        raise ValidationFailed(f"the window is at most {MAX_DAYS} days", field="to")
    policy = None
    if question.policy_text:
        policy = parse_policy(question.policy_text, "policy")
    history = history_for(session, backend)
    from_s = to_epoch_seconds(question.start) - history.origin_s
    to_s = to_epoch_seconds(question.end) - history.origin_s
    study = run_study(history, from_s, to_s, changes, policy=policy)
    label = f"{question.start.date().isoformat()}..{question.end.date().isoformat()}"
    saved = save_study(
        session, study, label=label, changes=changes, requested_by=requested_by, clock=clock
    )
    return saved, study
