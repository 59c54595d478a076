"""Progress reports as the API shows them."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel

from computeport.models.progress import ProgressReport, ReportStatus


class ReportRead(BaseModel):
    id: uuid.UUID
    award_id: uuid.UUID
    sequence: int
    due_at: datetime
    status: ReportStatus
    overdue: bool
    models_released: int
    papers: int
    products: int
    jobs_created: int
    narrative: str
    submitted_at: datetime | None
    reviewed_at: datetime | None
    committee_note: str

    @classmethod
    def of(cls, report: ProgressReport, overdue: bool) -> ReportRead:
        return cls(
            id=report.id,
            award_id=report.award_id,
            sequence=report.sequence,
            due_at=report.due_at,
            status=report.status,
            overdue=overdue,
            models_released=report.models_released,
            papers=report.papers,
            products=report.products,
            jobs_created=report.jobs_created,
            narrative=report.narrative,
            submitted_at=report.submitted_at,
            reviewed_at=report.reviewed_at,
            committee_note=report.committee_note,
        )


__all__ = ["ReportRead"]
