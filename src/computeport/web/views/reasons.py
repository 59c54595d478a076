"""The scheduler's normalised pending reasons (``PendingReason``) in words.

Shared by every page that lists pending jobs (operations, the applicant's jobs), so it lives
with the read models rather than in one page's routes: routes never import routes.
"""

from __future__ import annotations

from typing import Final

REASON_LABELS: Final[dict[str, str]] = {
    "none": "Not waiting",
    "budget": "Award budget used up",
    "resources": "Waiting for free GPUs",
    "priority": "Others ahead in the queue",
    "limit": "Award GPU cap reached",
    "paused": "Award paused or job held",
    "dependency": "Waiting on another job",
    "other": "Other",
}
"""Reason code → English message (translated in the template with ``_``)."""
