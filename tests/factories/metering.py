"""Accounting records as a back end reports them (the input of ingest and posting)."""

from __future__ import annotations

from datetime import datetime, timedelta

from computeport.backends import AccountingRecord, JobState


def record(
    job_id: int | str,
    account: str,
    *,
    end: datetime,
    gpus: int = 8,
    seconds: int = 3600,
    cluster: str = "aisc",
    state: JobState = JobState.COMPLETED,
    chargeable: bool = True,
    gpu_type: str | None = "h800",
    qos: str = "subsidised",
    submit: datetime | None = None,
) -> AccountingRecord:
    """A finished job of ``gpus`` H800s that ran ``seconds`` up to ``end`` on partition gpu."""
    start = end - timedelta(seconds=seconds)
    return AccountingRecord(
        cluster=cluster,
        job_id=str(job_id),
        submit_time=submit or start - timedelta(minutes=5),
        account=account,
        user="alice",
        partition="gpu",
        gpus=gpus,
        gpu_type=gpu_type,
        start_time=start,
        end_time=end,
        state=state,
        exit_code=0,
        elapsed_seconds=seconds,
        gpu_seconds=gpus * seconds,
        chargeable=chargeable,
        qos=qos,
    )
