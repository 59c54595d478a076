"""The trace-fitted background load, charged to awards an hour at a time.

Background arrivals come from :class:`~computeport.backends.sim.workload.BackgroundStream`;
each is charged to an active award with room left in its budget (``choose_account``), so the
charts and bills of a demo look like a busy centre's.  Arrivals no award has room for are
dropped and counted (``background_dropped``).
"""

from __future__ import annotations

from dataclasses import replace

from computeport.backends.plan import AWARD_DESCRIPTION
from computeport.backends.sim.base import SimParts
from computeport.backends.sim.workload import (
    Candidate,
    choose_account,
)
from computeport.scheduling import Job as CoreJob

__all__ = ["SimBackground"]


class SimBackground(SimParts):
    """Background-load part of :class:`~computeport.backends.sim.backend.SimBackend`."""

    def _background_chunk(self, start_s: int, end_s: int) -> None:
        """Charge the background arrivals of [start, end) to awards, as of ``start``.

        Deciding a whole hour at its start (rooms shrink as jobs are assigned) keeps the
        engine running in long strides; live and replay both decide at the same boundaries,
        so they agree.
        """
        stream = self._stream
        assert stream is not None
        candidates = self._candidates()
        largest = self.inventory.partition(self.inventory.default).gpus
        batch: list[CoreJob] = []
        while stream.peek_s() < end_s:
            job = stream.pop()
            draw = stream.rng.random()
            need = job.gpus * job.time_limit_s
            pick = choose_account(candidates, need, draw) if job.gpus <= largest else None
            if pick is None:
                self.background_dropped += 1
                continue
            chosen = candidates[pick]
            candidates[pick] = replace(chosen, room_gpu_s=chosen.room_gpu_s - need)
            data = {
                "account": chosen.account,
                "user": chosen.users[int(draw * 1_000_003) % len(chosen.users)],
                "name": "train",
                "partition": self.inventory.default,
                "base": self.inventory.default,
                "gpus": job.gpus,
                "limit_min": max(1, -(-job.time_limit_s // 60)),
                "run_s": job.run_s,
            }
            batch.append(self._register(str(self._next_id), data, max(job.submit_s, start_s)))
        if batch:
            self.engine.submit_many(batch)

    def _candidates(self) -> list[Candidate]:
        use = self.engine.state.quota_use
        return [
            Candidate(name, users, budget, budget - use(name).committed_gpu_s)
            for name, users, budget in self._awardees
        ]

    def _list_awardees(self) -> list[tuple[str, tuple[str, ...], int]]:
        """Active award accounts with members: who background jobs may be charged to."""
        users: dict[str, list[str]] = {}
        for account, user in sorted(self.book.members):
            users.setdefault(account, []).append(user)
        out: list[tuple[str, tuple[str, ...], int]] = []
        for name, row in sorted(self.book.accounts.items()):
            limits = self.book.limits_of(name)
            if row.description != AWARD_DESCRIPTION or limits is None or limits.paused:
                continue
            if users.get(name):
                out.append((name, tuple(users[name]), limits.gpu_minutes * 60))
        return out
