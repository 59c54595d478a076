"""A history from the usage records (a Slurm deployment): every job that started and ended.

Usage records carry no time limit, so the estimate is the real run time (Slurm's limits are in
sacct, not in the records; a replay with exact estimates is the optimistic reading of backfill —
say so beside the numbers). The cluster is the Cyberport inventory of the virtual cluster
(its partitions and nodes), until the inventory domain gives each cluster its own.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from computeport.backends.sim.inventory import cyberport_inventory
from computeport.kit.clock import to_epoch_seconds
from computeport.lab.history import History, Member, RecordedJob, history_of_records
from computeport.models.metering import UsageRecord
from computeport.scheduling import Estimates, PolicyConfig

__all__ = ["history_of_usage"]


def history_of_usage(session: Session, members: Mapping[str, Member]) -> History:
    """Every started job in the usage records, as a replayable history."""
    rows = session.execute(
        select(
            UsageRecord.job_id,
            UsageRecord.account,
            UsageRecord.submit_time,
            UsageRecord.start_time,
            UsageRecord.end_time,
            UsageRecord.gpus,
        )
        .where(UsageRecord.start_time.is_not(None), UsageRecord.gpus > 0)
        .order_by(UsageRecord.submit_time, UsageRecord.id)
    )
    records = [
        RecordedJob(
            f"{job_id}@{to_epoch_seconds(submit)}",
            account,
            to_epoch_seconds(submit),
            to_epoch_seconds(start),
            to_epoch_seconds(end),
            gpus,
        )
        for job_id, account, submit, start, end, gpus in rows
        if start is not None
    ]
    spec = cyberport_inventory().spec
    return history_of_records(records, spec, PolicyConfig(estimates=Estimates.EXACT), members)
