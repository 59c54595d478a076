"""A planned virtual cluster with a commissioning date (the demo's Sandy Ridge) takes no work
before that date and, once the centre's clock passes it, is opened on the centre's clock with
its history starting at its commissioning: advanced, reconciled and ingested like the others
(both engines)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from computeport.award.shares import move_hours
from computeport.backends import JobSpec
from computeport.backends.sim import SimBackend
from computeport.db.engine import unit_of_work
from computeport.inventory.declaration import parse_inventory
from computeport.inventory.loader import load_inventory
from computeport.kit.clock import ManualClock
from computeport.models.award import Award
from computeport.models.metering import UsageRecord
from computeport.settings import Settings
from computeport.worker.loop import Deferred
from computeport.worker.runner import WorkerThread
from computeport.worker.start import build_loops
from tests.inventory.inventory_files import WTEST_AT_CYBERPORT
from tests.worker.test_loops import Centre, centre

__all__ = ["centre"]


def _inventory(commissioned: str) -> str:
    return (
        WTEST_AT_CYBERPORT
        + f"""
[sites.sandy-ridge]
name = "Sandy Ridge"
status = "planned"

[clusters.later]
site = "sandy-ridge"
backend = "sim"
status = "planned"
commissioned = {commissioned}

[clusters.later.partitions.gpu]
accelerator = "h800"
gpus_per_node = 8
nodes = 2
"""
    )


@dataclass
class State:
    settings: Settings
    sessions: sessionmaker[Session]
    clock: ManualClock
    backend: SimBackend | None


def _later(loops: Sequence[object]) -> SimBackend:
    advance = next(loop for loop in loops if getattr(loop, "name", "") == "advance-cluster@later")
    assert isinstance(advance, Deferred)
    opening = advance.inner.cluster  # type: ignore[attr-defined]
    backend, _clock = opening.registry.open("later")
    assert isinstance(backend, SimBackend)
    return backend


def test_a_planned_virtual_cluster_takes_work_from_its_commissioning(centre: Centre) -> None:
    opens = (centre.clock.now() + timedelta(days=1)).date()  # the award ends on day 2
    at = datetime(opens.year, opens.month, opens.day, tzinfo=UTC)
    with unit_of_work(centre.sessions) as session:
        decl = parse_inventory(_inventory(opens.isoformat()))
        load_inventory(session, decl, actor_id=None, at=centre.clock.now(), source="t")
        award = session.scalars(select(Award)).one()
        for target, hours, reason in (
            ("later", 400, "half to the new site"),
            ("wtest", 600, "the rest here"),
        ):
            move_hours(
                session,
                award.id,
                source="reserve",
                target=target,
                hours=hours,
                reason=reason,
                actor_id=None,
                clock=centre.clock,
            )
    loops = build_loops(State(centre.settings, centre.sessions, centre.clock, centre.backend))
    names = [loop.name for loop in loops]
    assert names[:6] == [
        "advance-cluster@wtest",
        "reconcile-awards@wtest",
        "ingest-usage@wtest",
        "advance-cluster@later",
        "reconcile-awards@later",
        "ingest-usage@later",
    ]
    deferred = [loop for loop in loops if isinstance(loop, Deferred)]
    assert {loop.name for loop in deferred} == {n for n in names if n.endswith("@later")}
    worker = WorkerThread(loops, centre.clock)

    centre.clock.advance(timedelta(hours=1))
    first = worker.run_round()
    assert not [n for n in first.done if n.endswith("@later")]
    assert not any(loop.ran for loop in deferred)  # nothing opened, nothing to close

    centre.clock.set(at + timedelta(hours=1))  # the clock passes the commissioning date
    worker.run_round()
    later = _later(loops)
    assert later.epoch == at  # its history begins at its commissioning
    assert later.now == centre.clock.now()  # on the centre's clock
    assert later.partitions()[0].gpus == 16
    job = later.submit(
        JobSpec(centre.account, centre.user, "#!/bin/sh\n", 8, 60, expected_run_seconds=1800)
    )
    centre.clock.advance(timedelta(hours=7))  # past the job's end and the ingest period
    worker.run_round()
    with centre.sessions() as session:
        rows = session.scalars(select(UsageRecord).where(UsageRecord.job_id == job)).all()
        early = session.scalars(
            select(UsageRecord).where(UsageRecord.cluster == "later", UsageRecord.end_time < at)
        ).all()
    assert [(r.cluster, r.gpu_seconds) for r in rows] == [("later", 8 * 1800)]
    assert early == []
