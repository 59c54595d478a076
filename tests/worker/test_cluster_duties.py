"""With an inventory, every active cluster gets its own duties; one that cannot be reached fails
alone, is marked down since its first failure, and the others' duties run (both engines)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from computeport.backends.sim import SimBackend
from computeport.db.engine import unit_of_work
from computeport.inventory.declaration import parse_inventory
from computeport.inventory.health import cluster_states
from computeport.inventory.loader import load_inventory
from computeport.kit.clock import ManualClock
from computeport.settings import Settings
from computeport.worker.runner import WorkerThread
from computeport.worker.start import build_loops
from tests.inventory.inventory_files import WTEST_AT_CYBERPORT
from tests.worker.test_loops import Centre, centre

__all__ = ["centre"]

DEAD = """\
ClusterName=gone
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=1
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
AccountingStoragePort=1
"""
"""A cluster whose controller and accounting refuse every connection (port 1): it fails fast.
(A missing slurm.conf would not: Slurm's commands retry reading it for a minute.)"""

TWO = (
    WTEST_AT_CYBERPORT
    + """
[clusters.gone]
site = "cyberport"
backend = "slurm"

[clusters.gone.slurm]
slurm_conf = "{conf}"
timeout_seconds = 5

[clusters.gone.partitions.gpu]
accelerator = "h800"
gpus_per_node = 8
nodes = 1
"""
)


@dataclass
class State:
    settings: Settings
    sessions: sessionmaker[Session]
    clock: ManualClock
    backend: SimBackend | None


def test_each_cluster_has_its_duties_and_one_down_fails_alone(
    centre: Centre, tmp_path: Path
) -> None:
    conf = tmp_path / "slurm.conf"
    conf.write_text(DEAD)
    with unit_of_work(centre.sessions) as session:
        decl = parse_inventory(TWO.replace("{conf}", str(conf)))
        load_inventory(session, decl, actor_id=None, at=centre.clock.now(), source="t")
    loops = build_loops(State(centre.settings, centre.sessions, centre.clock, centre.backend))
    assert [loop.name for loop in loops] == [
        "reconcile-awards@gone",
        "ingest-usage@gone",
        "advance-cluster@wtest",
        "reconcile-awards@wtest",
        "ingest-usage@wtest",
        "post-usage",
        "post-token-usage",
        "expire-awards",
    ]
    worker = WorkerThread(loops, centre.clock)
    centre.clock.advance(timedelta(hours=1))
    first = worker.run_round()
    assert set(first.failed) == {"reconcile-awards@gone", "ingest-usage@gone"}
    assert all("Backend" in why or "SlurmCommandFailed" in why for why in first.failed.values())
    assert "advance-cluster@wtest" in first.done  # the virtual cluster of the app, reused
    assert centre.backend.now == centre.clock.now()
    with centre.sessions() as session:
        health = {h.cluster: h for h in cluster_states(session)}
    assert health["wtest"].up
    assert not health["gone"].up
    assert health["gone"].down_since == centre.clock.now()
    assert health["gone"].failing_duties == ("ingest-usage@gone", "reconcile-awards@gone")

    # Still down an hour later: the outage began at the first failure.
    began = centre.clock.now()
    centre.clock.advance(timedelta(hours=1))
    worker.run_round()
    with centre.sessions() as session:
        gone = {h.cluster: h for h in cluster_states(session)}["gone"]
    assert (gone.state, gone.down_since) == ("down", began)
