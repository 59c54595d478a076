"""Outside actions are journalled, then done; a restart replays the journal to the same state.

Every provisioning, submission and cancellation goes through ``_record`` (journal first, then
``_apply_event``), and ``_replay`` runs the same events at the times they happened, so the
replayed cluster agrees with the live one (see :mod:`computeport.backends.sim.journal`).
"""

from __future__ import annotations

from typing import Any

from computeport.backends.sim.accounts import SimAccountBook
from computeport.backends.sim.base import SimParts
from computeport.backends.sim.journal import Event

__all__ = ["SimReplay"]


class SimReplay(SimParts):
    """Journal and replay part of :class:`~computeport.backends.sim.backend.SimBackend`."""

    def _record(self, kind: str, data: dict[str, Any]) -> None:
        """Do one outside action now and journal it (the journal first: replay must agree)."""
        event = Event(self.engine.now_s, kind, data)
        if not self._replaying:
            self.journal.append(self.cluster, event)
        self._apply_event(event)

    def _apply_event(self, event: Event) -> None:
        self._events += 1
        if event.kind == "provision":
            self.book = SimAccountBook.from_json(event.data["book"])
            self._refresh_quotas()
        elif event.kind == "submit":
            self._enqueue(str(event.data["job_id"]), event.data, event.t_s)
        elif event.kind == "cancel":
            self._cancel(str(event.data["job_id"]))

    def _replay(self, events: list[Event], position_s: int) -> None:
        self._replaying = True
        try:
            for event in events:
                if not event.data.get("initial"):  # the initial state precedes time itself
                    self._advance_to(event.t_s)
                self._apply_event(event)
            self._advance_to(max(position_s, self.engine.now_s))
        finally:
            self._replaying = False
