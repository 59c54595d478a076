"""Where accounting ingest stands per cluster (the worker's high-water mark)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from computeport.db.base import Base


class IngestCursorRow(Base):
    """One cluster's ingest mark and the keys already taken within the overlap before it."""

    __tablename__ = "ingest_cursor"

    cluster: Mapped[str] = mapped_column(String(64), primary_key=True)
    high_water: Mapped[datetime]
    recent: Mapped[dict[str, Any]]
    """``{"keys": [[cluster, job_id, submit ISO, end ISO], …]}``."""
