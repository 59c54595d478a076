"""The virtual cluster's engine calls, kept in order: its history, replayable exactly.

Why a call log rather than the accounting records: the scheduling core is deterministic, so the
sequence of calls the virtual cluster made on its engine (arrivals in the order they were
submitted, quota and reservation changes, cancels, and how far time was advanced between them)
*is* its history. Replaying that sequence on a fresh engine with the same cluster and policy
gives every job the very same start (the policy lab's baseline, checked by its tests); replaying
it with another cluster or policy answers "what if". Accounting records alone lose the time
limits, the budgets in force and the order of same-second arrivals.

The log is rebuilt on a restart, since the journal replay makes the same calls. Consecutive
advances collapse into one (advancing to t1 then t2 with nothing between is advancing to t2).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from computeport.scheduling import Job, ProjectQuota, Reservation
from computeport.simulator import Engine

__all__ = ["EngineCall", "LoggedEngine"]


@dataclass(frozen=True, slots=True)
class EngineCall:
    """One call on the engine: ``run`` (to ``t_s``), ``submit`` (``jobs``), ``quota``
    (``account``, ``quota``), ``reserve`` (``reservation``), ``unreserve`` (``name``) or
    ``cancel`` (``job_id``); ``at_s`` is the engine's time when it was made."""

    kind: str
    at_s: int
    t_s: int = 0
    jobs: tuple[Job, ...] = ()
    account: str = ""
    quota: ProjectQuota | None = None
    reservation: Reservation | None = None
    name: str = ""


class LoggedEngine(Engine):
    """An :class:`Engine` that keeps the calls made on it in :attr:`calls`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.calls: list[EngineCall] = []

    def submit_many(self, jobs: Any) -> None:
        batch = tuple(jobs)
        self.calls.append(EngineCall("submit", self.now_s, jobs=batch))
        super().submit_many(batch)

    def run_until(self, t_s: int) -> None:
        calls = self.calls
        if calls and calls[-1].kind == "run":
            calls[-1] = EngineCall("run", calls[-1].at_s, t_s=max(t_s, calls[-1].t_s))
        else:
            calls.append(EngineCall("run", self.now_s, t_s=t_s))
        super().run_until(t_s)

    def set_quota(self, account: str, quota: ProjectQuota) -> None:
        self.calls.append(EngineCall("quota", self.now_s, account=account, quota=quota))
        super().set_quota(account, quota)

    def add_reservation(self, reservation: Reservation) -> None:
        self.calls.append(EngineCall("reserve", self.now_s, reservation=reservation))
        super().add_reservation(reservation)

    def remove_reservation(self, name: str) -> bool:
        """Drop a reservation by name (the engine itself leaves this to its state)."""
        self.calls.append(EngineCall("unreserve", self.now_s, name=name))
        return self.state.remove_reservation(name)

    def cancel(self, job_id: str) -> bool:
        self.calls.append(EngineCall("cancel", self.now_s, name=job_id))
        return super().cancel(job_id)
