"""The application workflow's transition table (issue 2).

    draft → submitted → under_review ⇄ revision_requested
    under_review → recommended / not_recommended
    recommended → approved / rejected;  not_recommended → rejected
    withdrawn from any open state (everything before a decision)

The committee approves only a recommended application and may reject either kind (the award
domain's decision service relies on this).  Asking for a revision, rejecting and withdrawing
need a reason: the applicant must be told why.
"""

from __future__ import annotations

from computeport.kit.workflow import TransitionTable
from computeport.models.application import ApplicationStatus as S

OPEN_STATES = frozenset(
    {
        S.DRAFT,
        S.SUBMITTED,
        S.UNDER_REVIEW,
        S.REVISION_REQUESTED,
        S.RECOMMENDED,
        S.NOT_RECOMMENDED,
    }
)
"""States in which the application is still in play (and may be withdrawn)."""

EDITABLE_STATES = frozenset({S.DRAFT, S.REVISION_REQUESTED})
"""States in which the applicant may change the content."""

APPLICATION_WORKFLOW: TransitionTable[S] = TransitionTable.of(
    "application",
    {
        S.DRAFT: [S.SUBMITTED, S.WITHDRAWN],
        S.SUBMITTED: [S.UNDER_REVIEW, S.WITHDRAWN],
        S.UNDER_REVIEW: [S.REVISION_REQUESTED, S.RECOMMENDED, S.NOT_RECOMMENDED, S.WITHDRAWN],
        S.REVISION_REQUESTED: [S.UNDER_REVIEW, S.WITHDRAWN],
        S.RECOMMENDED: [S.APPROVED, S.REJECTED, S.WITHDRAWN],
        S.NOT_RECOMMENDED: [S.REJECTED, S.WITHDRAWN],
    },
    reason_required=[
        (S.UNDER_REVIEW, S.REVISION_REQUESTED),
        (S.RECOMMENDED, S.REJECTED),
        (S.NOT_RECOMMENDED, S.REJECTED),
        *((s, S.WITHDRAWN) for s in OPEN_STATES),
    ],
)
