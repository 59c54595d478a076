"""Finished job allocations as metering rates them, keyed for ever by (cluster, job id, submit)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from computeport.backends.types.jobs import JobState

__all__ = ["AccountingRecord", "RecordKey"]


class RecordKey(NamedTuple):
    """Identifies one job allocation for ever: Slurm reuses job ids (requeue, id wrap)."""

    cluster: str
    job_id: str
    submit_time: datetime


@dataclass(frozen=True, slots=True)
class AccountingRecord:
    """One finished job allocation (never a step), as metering rates it.

    ``gpus`` counts the typed GPU TRES where the job had one (``gres/gpu:h800=8``), else the
    untyped one, never both.  ``gpu_seconds`` = gpus × ``elapsed_seconds`` (raw; whether it is
    charged is billing's business).  ``chargeable`` is False for jobs the centre ended — a node
    failure, or a cancel by one of the configured operator users (``cancelled_by``).
    """

    cluster: str
    job_id: str
    submit_time: datetime
    account: str
    user: str
    partition: str
    gpus: int
    gpu_type: str | None
    start_time: datetime | None
    end_time: datetime
    state: JobState
    exit_code: int
    elapsed_seconds: int
    gpu_seconds: int
    chargeable: bool = True
    cancelled_by: str | None = None
    name: str = ""
    qos: str = ""
    unreadable: str = ""
    """Set when the back end could read only the key of this record: which field failed and
    why.  Metering quarantines such a record instead of billing it (and never drops it)."""

    @property
    def key(self) -> RecordKey:
        return RecordKey(self.cluster, self.job_id, self.submit_time)
