"""The virtual cluster's accounting: each ended attempt as ``sacct`` would report it.

A preempted attempt ends as ``PREEMPTED`` and its job requeues with a new submit time, as on
Slurm, so the record key (cluster, job id, submit time) stays unique.  Records are kept in end
order with their ends beside them, so a window is two bisections.
"""

from __future__ import annotations

from bisect import bisect_left
from datetime import datetime

from computeport.backends.sim.base import SimParts
from computeport.backends.sim.reasons import job_state
from computeport.backends.types.accounting import AccountingRecord
from computeport.backends.types.jobs import JobState
from computeport.kit.clock import to_epoch_seconds
from computeport.scheduling import JobState as CoreState
from computeport.simulator import CoreRecord

__all__ = ["SimAccounting"]


class SimAccounting(SimParts):
    """Accounting part of :class:`~computeport.backends.sim.backend.SimBackend`."""

    def _add_record(self, rec: CoreRecord) -> None:
        meta = self._meta[rec.job_id]
        if rec.state is CoreState.PENDING:  # preempted: the attempt ends, the job requeues
            if (rec.job_id, rec.end_s) in self._preempted:
                return
            self._preempted.add((rec.job_id, rec.end_s))
            state = JobState.PREEMPTED
        else:
            state = job_state(rec.state, timed_out=meta.timed_out)
            meta.end_s = rec.end_s
            self._recent.append((rec.end_s, rec.job_id))
        submit_s = self._requeued_at.get(rec.job_id, rec.submit_s)
        if state is JobState.PREEMPTED:
            self._requeued_at[rec.job_id] = rec.end_s  # Slurm gives a requeue a new submit time
        elapsed = rec.end_s - rec.start_s
        self._records.append(
            AccountingRecord(
                cluster=self.cluster,
                job_id=rec.job_id,
                submit_time=self._at(submit_s),
                account=meta.account,
                user=meta.user,
                partition=meta.partition,
                gpus=rec.gpus,
                gpu_type=rec.gpu_type.lower(),
                start_time=self._at(rec.start_s),
                end_time=self._at(rec.end_s),
                state=state,
                exit_code=0,
                elapsed_seconds=elapsed,
                gpu_seconds=rec.gpus * elapsed,
                name=meta.name,
                qos=meta.account,
            )
        )
        self._record_ends.append(rec.end_s)

    def accounting(self, since: datetime, until: datetime) -> list[AccountingRecord]:
        with self._lock:
            self._sync()
            lo = bisect_left(self._record_ends, to_epoch_seconds(since) - self.origin_s)
            hi = bisect_left(self._record_ends, to_epoch_seconds(until) - self.origin_s)
            out = [r for r in self._records[lo:hi] if since <= r.end_time < until]
            out.sort(key=lambda r: (r.end_time, int(r.job_id)))
            return out
