"""Opening a deployment's cluster: the first start with history, a restart that resumes."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from computeport.api.app import open_app_state
from computeport.backends import DesiredState
from computeport.backends.sim import BUILTIN_MODEL, MemoryJournal, SimBackend
from computeport.backends.sim.factory import open_virtual_cluster
from computeport.backends.slurm import SlurmBackend
from computeport.db.engine import make_engine
from computeport.db.schema import create_schema
from computeport.kit.clock import ManualClock, SystemClock
from computeport.settings import Settings
from tests.backends.sim.support import T0, award


def test_a_new_cluster_starts_with_history_and_a_restart_resumes_where_it_stopped(
    tmp_path: Path,
) -> None:
    wall = ManualClock(T0)
    journal = MemoryJournal()
    asked: list[object] = []

    def desired(now: object) -> DesiredState:
        asked.append(now)
        return DesiredState((award(gpu_minutes=10**9),))

    first = open_virtual_cluster(
        journal,
        speed=1440,
        desired=desired,
        history=timedelta(days=2),
        traces_dir=tmp_path,  # no philly.csv here: the built-in fit
        start=T0,
        monotonic=wall,
    )
    assert asked == [T0 - timedelta(days=2), T0]  # as the history began (no first of a month
    # between), and now: both the same state, provisioned once
    assert first.background is not None
    assert first.background.model == BUILTIN_MODEL
    assert first.epoch == T0 - timedelta(days=2)
    assert first.advance() == T0  # the two days of history are replayed
    assert first.accounting(first.epoch, T0)
    wall.advance(timedelta(seconds=30))  # half a simulated day
    assert first.advance() == T0 + timedelta(hours=12)

    later = ManualClock(T0 + timedelta(days=5))  # the process was down for five wall days
    again = open_virtual_cluster(journal, speed=1440, monotonic=later, desired=desired)
    assert len(asked) == 2  # an existing cluster is not provisioned again
    assert again.now == T0 + timedelta(hours=12)
    assert again.clock.now() == T0 + timedelta(hours=12)  # time resumes, it does not jump
    assert again.accounting(again.epoch, again.now) == first.accounting(first.epoch, first.now)


def test_an_award_that_starts_during_the_history_runs_only_from_its_start(
    tmp_path: Path,
) -> None:
    """The history is provisioned as it was at each first of a month: work is charged to an
    award only from the month it started (the demo's year of awards arriving and ending)."""
    late = T0 - timedelta(days=28)  # 2026-02-01: the first of a month inside the history
    asked: list[datetime] = []

    def desired(now: datetime) -> DesiredState:
        asked.append(now)
        early = award("early", gpu_minutes=10**9)
        if now < late:
            return DesiredState((early,))
        return DesiredState((early, award("late", gpu_minutes=10**9)))

    journal = MemoryJournal()
    cluster = open_virtual_cluster(
        journal,
        speed=1440,
        desired=desired,
        history=timedelta(days=45),
        traces_dir=tmp_path,
        start=T0,
        monotonic=ManualClock(T0),
    )
    assert asked == [T0 - timedelta(days=45), late, T0]
    cluster.advance()
    records = cluster.accounting(cluster.epoch, T0)
    late_starts = [r.submit_time for r in records if r.account == "late"]
    assert late_starts
    assert min(late_starts) >= late
    assert any(r.account == "early" and r.submit_time < late for r in records)
    again = open_virtual_cluster(journal, speed=1440, monotonic=ManualClock(T0), desired=desired)
    assert again.accounting(again.epoch, T0) == records  # the restart replays the same history


def test_settings_choose_the_back_end(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cp.sqlite3'}"
    slurm = open_app_state(Settings(database_url=url, backend="slurm"))
    assert isinstance(slurm.backend, SlurmBackend)
    assert isinstance(slurm.clock, SystemClock)
    slurm.engine.dispose()


@pytest.mark.slow  # fits the Philly trace when the traces folder is beside the repository
def test_the_virtual_cluster_is_the_default_back_end(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cp.sqlite3'}"
    engine = make_engine(url)
    create_schema(engine)
    engine.dispose()
    state = open_app_state(Settings(database_url=url), ManualClock(T0))
    assert isinstance(state.backend, SimBackend)
    assert state.clock is state.backend.clock
    assert state.backend.epoch == T0 - timedelta(days=90)
    state.engine.dispose()
