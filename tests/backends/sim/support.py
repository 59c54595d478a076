"""A small virtual cluster on a manual clock, and a ``settle`` that moves the clock."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from computeport.backends import AwardAllocation, DesiredState, JobSpec, reconcile
from computeport.backends.sim import SimBackend, cyberport_inventory
from computeport.backends.sim.journal import Journal
from computeport.backends.sim.workload import BackgroundConfig
from computeport.kit.clock import ManualClock
from tests.support.databases import own_database

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def small_cluster(
    clock: ManualClock,
    *,
    nodes: int = 4,
    journal: Journal | None = None,
    background: BackgroundConfig | None = None,
    epoch: datetime | None = None,
    initial: DesiredState | None = None,
) -> SimBackend:
    return SimBackend(
        cyberport_inventory(nodes, cluster="simtest"),
        clock,
        journal=journal,
        background=background,
        epoch=epoch,
        initial=initial,
    )


def settler(clock: ManualClock, step: float = 1.0) -> Callable[[Callable[[], bool], float], bool]:
    """Advance the manual clock ``step`` seconds at a time until ``done()`` or ``seconds``."""

    def settle(done: Callable[[], bool], seconds: float) -> bool:
        waited = 0.0
        while not done():
            if waited >= seconds:
                return False
            clock.advance(timedelta(seconds=step))
            waited += step
        return True

    return settle


def award(
    name: str = "aw1", *, gpu_minutes: int = 6000, members: tuple[str, ...] = ("alice",)
) -> AwardAllocation:
    return AwardAllocation(name, "orga", frozenset(members), gpu_minutes)


def provision(backend: SimBackend, *allocs: AwardAllocation) -> None:
    reconcile(backend, DesiredState(tuple(allocs)))


def spec(
    account: str = "aw1",
    *,
    gpus: int = 8,
    minutes: int = 60,
    run_s: int | None = 600,
    user: str = "alice",
    partition: str | None = None,
    gpu_type: str | None = None,
) -> JobSpec:
    return JobSpec(
        account=account,
        user=user,
        script="#!/bin/bash\ntrain\n",
        gpus=gpus,
        time_limit_minutes=minutes,
        expected_run_seconds=run_s,
        partition=partition,
        gpu_type=gpu_type,
    )


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def committed_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A fresh database whose commits are real (journals and worker loops commit), on both
    engines: SQLite in a file, PostgreSQL in a database made for the test."""
    with own_database(request.param, "cp_sim", tmp_path=tmp_path) as engine:
        yield engine
