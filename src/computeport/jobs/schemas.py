"""What the jobs API reads and returns."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from computeport.backends import JobState, NodeState, PendingReason
from computeport.kit.inputs import InputModel

__all__ = ["JobIn", "JobRead", "NodeRead", "PartitionRead"]

MAX_TIME_LIMIT_MINUTES = 14 * 24 * 60
"""The centre's maximum wall time (an assumption, as in the virtual cluster's workload)."""


class JobIn(InputModel):
    """A batch job on one of the caller's organisation's awards."""

    model_config = ConfigDict(extra="forbid")

    award_id: uuid.UUID
    name: str = Field(default="job", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    script: str = Field(
        default="#!/bin/bash\nsrun python train.py\n", min_length=3, max_length=64 * 1024
    )
    gpus: int = Field(ge=1, le=4096)
    time_limit_minutes: int = Field(ge=1, le=MAX_TIME_LIMIT_MINUTES)
    partition: str | None = Field(default=None, max_length=64)
    gpu_type: str | None = Field(default=None, max_length=32)
    expected_run_seconds: int | None = Field(
        default=None,
        ge=1,
        le=10**9,
        description="Run time on the virtual cluster (Slurm ignores it).",
    )


class JobRead(BaseModel):
    job_id: str
    name: str
    award_id: uuid.UUID | None
    award_reference: str | None
    account: str
    user: str
    partition: str
    state: JobState
    reason: str
    """The scheduler's own words while pending (e.g. ``QOSGrpGRESMinutes``), else ``None``."""
    pending_reason: PendingReason
    gpus: int
    gpu_type: str | None
    submit_time: datetime
    start_time: datetime | None
    end_time: datetime | None
    time_limit_minutes: int | None
    nodes: list[str]
    exit_code: int | None


class NodeRead(BaseModel):
    name: str
    state: NodeState
    raw_state: str
    partitions: list[str]
    gpus: int
    gpus_used: int
    gpu_type: str | None
    cpus: int
    reason: str


class PartitionRead(BaseModel):
    name: str
    up: bool
    default: bool
    nodes: int
    gpus: int
    gpus_used: int
    gpu_types: list[str]
