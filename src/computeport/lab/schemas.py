"""The policy lab's API bodies."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["LabStudyIn", "LabStudyRead", "LabStudySummary"]


class LabStudyIn(BaseModel):
    """A question: a window (UTC days, ``to`` exclusive) and the changes to try."""

    model_config = ConfigDict(extra="forbid")

    from_date: date = Field(alias="from")
    to_date: date = Field(alias="to")
    changes: list[str] = Field(default_factory=list, max_length=8)
    policy: str | None = Field(default=None, max_length=20000)
    """The policy as configured today (TOML text); absent: the cluster's own."""


class LabStudySummary(BaseModel):
    id: uuid.UUID
    label: str
    created_at: datetime
    changes: list[str]


class LabStudyRead(LabStudySummary):
    result: dict[str, Any]
