"""join the four branches developed side by side (reservations, adjustments, throughput, rollups)

Revision ID: 0003
Revises: 0002_award_reservations, 0002_billing_adjustments, 0002_billing_throughput,
    0002_usage_rollups
Create Date: 2026-11-25 14:45:00

No schema change: a merge point, so the history has one head again and the next migration has a
single parent.  The four branches touch disjoint tables, so their order does not matter.
"""

from collections.abc import Sequence

revision: str = "0003"
down_revision: str | Sequence[str] | None = (
    "0002_award_reservations",
    "0002_billing_adjustments",
    "0002_billing_throughput",
    "0002_usage_rollups",
)
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Nothing to do: joining the branches is the point."""


def downgrade() -> None:
    """Nothing to undo."""
