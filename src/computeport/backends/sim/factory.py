"""Open the embedded virtual cluster of a deployment: journal, clock, inventory, workload.

``open_virtual_cluster`` is what ``computeport serve`` / ``demo`` call (through
:func:`computeport.backends.factory.open_backend`).  On the first start it creates the journal
with the engine's time 0 ``history`` before now (the history replays at full speed, so the
charts are full) and provisions the awards as they were at each month's start over that history
(:func:`history_schedule`: an award that started or ended during the history runs only while it
ran), then as they are now; on a later start it
replays the journal and the clock resumes where the cluster stopped.  The returned backend's
``clock`` is the centre's clock: the whole application should run on it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from computeport.backends.sim.backend import SimBackend
from computeport.backends.sim.inventory import SimInventory, cyberport_inventory
from computeport.backends.sim.journal import Journal
from computeport.backends.sim.workload import BackgroundConfig, workload_model
from computeport.backends.types.desired import DesiredState
from computeport.kit.clock import AcceleratedClock, Clock, from_epoch_seconds, utc_now

__all__ = ["DEFAULT_HISTORY", "default_traces_dir", "history_schedule", "open_virtual_cluster"]

DEFAULT_HISTORY = timedelta(days=90)


def default_traces_dir() -> Path:
    """``../shared/traces`` beside the repository (absent in an installed deployment)."""
    return Path(__file__).resolve().parents[4] / ".." / "shared" / "traces"


def open_virtual_cluster(
    journal: Journal,
    *,
    speed: float,
    desired: Callable[[datetime], DesiredState] | None = None,
    history: timedelta = DEFAULT_HISTORY,
    inventory: SimInventory | None = None,
    traces_dir: Path | None = None,
    load: float = 0.95,
    seed: int = 2024,
    start: datetime | None = None,
    monotonic: Clock | None = None,
    follow: Clock | None = None,
) -> SimBackend:
    """The deployment's virtual cluster on an :class:`AcceleratedClock` of ``speed``.

    Args:
        journal: where it keeps its history (:class:`~computeport.backends.sim.store.SqlJournal`).
        speed: simulated seconds per wall second (``Settings.sim_speed``; 1440 = a day a minute).
        desired: the awards' desired state at a time (provisioned at time 0 of a new cluster).
        history: how much simulated past a new cluster starts with.
        traces_dir: where ``philly.csv`` is (fitted when present; built-in parameters if not).
        start: the centre's "now" for a new cluster (default: the wall clock).
        monotonic: the wall-time source of the accelerated clock (tests: a ManualClock).
        follow: the centre's clock, for a further virtual cluster of a centre that already
            runs one: it follows that clock instead of keeping its own, so all the centre's
            virtual clusters live at one simulated time (a new one's epoch: ``follow``'s now
            less ``history``).
    """
    inventory = inventory or cyberport_inventory()
    state = journal.load(inventory.cluster)
    if state is not None:
        if follow is not None:
            return SimBackend(inventory, follow, journal=journal)
        resume = from_epoch_seconds(int(state.meta["origin_s"]) + state.position_s)
        clock: Clock = AcceleratedClock(resume, speed, monotonic)
        return SimBackend(inventory, clock, journal=journal)
    now = (start or (follow.now() if follow is not None else utc_now())).replace(microsecond=0)
    model, _source = workload_model(traces_dir if traces_dir is not None else default_traces_dir())
    clock = follow if follow is not None else AcceleratedClock(now, speed, monotonic)
    epoch = now - history
    schedule = history_schedule(desired, epoch, now) if desired is not None else []
    return SimBackend(
        inventory,
        clock,
        epoch=epoch,
        background=BackgroundConfig(model=model, load=load, seed=seed),
        journal=journal,
        initial=schedule[0][1] if schedule else None,
        schedule=schedule[1:],
    )


def history_schedule(
    desired: Callable[[datetime], DesiredState], epoch: datetime, now: datetime
) -> list[tuple[int, DesiredState]]:
    """The awards' desired state at ``epoch``, at each first of a month after it, and at
    ``now``, as (engine seconds, state), each only where it changed.

    Why monthly: the scheme's awards start on the first of a month (a decision starts the
    award the month after), so the first of each month catches every start and end the
    committee makes; an award dated mid-month is provisioned at the next first (the replayed
    history only: the worker reconciles live time exactly). Reading the state a dozen times
    costs far less than the replay itself.
    """
    times = [epoch]
    first = datetime(epoch.year, epoch.month, 1, tzinfo=epoch.tzinfo)
    while True:
        first = datetime(
            first.year + first.month // 12, first.month % 12 + 1, 1, tzinfo=first.tzinfo
        )
        if first >= now:
            break
        times.append(first)
    if now > epoch:
        times.append(now)
    out: list[tuple[int, DesiredState]] = []
    for t in times:
        state = desired(t)
        if not out or state != out[-1][1]:
            out.append((int((t - epoch).total_seconds()), state))
    return out
