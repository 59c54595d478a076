"""The reviewer-assignment workflow.

awaiting_declaration → active (no conflict) | recused (conflict) | withdrawn (unassigned)
active → submitted (scores final) | recused (a conflict found later) | withdrawn
"""

from __future__ import annotations

from computeport.kit.workflow import TransitionTable
from computeport.models.review import AssignmentStatus as A

ASSIGNMENT_WORKFLOW: TransitionTable[A] = TransitionTable.of(
    "review assignment",
    {
        A.AWAITING_DECLARATION: [A.ACTIVE, A.RECUSED, A.WITHDRAWN],
        A.ACTIVE: [A.SUBMITTED, A.RECUSED, A.WITHDRAWN],
    },
    reason_required=[(A.AWAITING_DECLARATION, A.RECUSED), (A.ACTIVE, A.RECUSED)],
)
