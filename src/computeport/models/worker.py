"""The worker processes, the duty leases they hold, and each duty run's history.

``duty_lease`` is the one row per duty that decides which worker may run it: ``holder`` and
``expires_at`` say who holds it and until when, ``token`` is the fencing token (incremented at
every acquisition, never reused), checked in the duty's own unit of work before it commits.
``worker_process`` is each worker's heartbeat (for ``computeport worker status`` and for
SQLite's one-worker rule); ``worker_duty_run`` records every run's start and end, so "no duty
ever ran on two workers at once" can be checked after the fact.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from computeport.db.base import Base

__all__ = ["DutyLease", "DutyRun", "WorkerProcess"]

SERIAL = BigInteger().with_variant(Integer(), "sqlite")


class WorkerProcess(Base):
    """One ``computeport worker run`` process, alive while its heartbeat is recent."""

    __tablename__ = "worker_process"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime]
    heartbeat_at: Mapped[datetime]
    stopped_at: Mapped[datetime | None] = mapped_column(default=None)


class DutyLease(Base):
    """Who may run a duty, until when, under which fencing token."""

    __tablename__ = "duty_lease"

    duty: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(64), default=None)
    token: Mapped[int] = mapped_column(BigInteger, default=0)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    last_run_at: Mapped[datetime | None] = mapped_column(default=None)
    last_ok_at: Mapped[datetime | None] = mapped_column(default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)


class DutyRun(Base):
    """One run of a duty by one worker under one token; ``ended_at`` is unset if it died."""

    __tablename__ = "worker_duty_run"

    id: Mapped[int] = mapped_column(SERIAL, primary_key=True, autoincrement=True)
    duty: Mapped[str] = mapped_column(String(64), index=True)
    worker_id: Mapped[str] = mapped_column(String(64), ForeignKey("worker_process.id"))
    token: Mapped[int] = mapped_column(BigInteger)
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None] = mapped_column(default=None)
    outcome: Mapped[str | None] = mapped_column(String(16), default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
