"""Two real Slurm clusters at once: reconcile and ingest per cluster, one controller down.

CI (scripts/test) starts a second, independent local cluster beside the default one (its own
ports, munge key and accounting database) and exports ``COMPUTEPORT_TEST_SLURM_DIR_B``; without
both, these tests skip locally and fail in CI.  By hand::

    SLURM_CI_DIR=/tmp/cpa scripts/slurm-cluster start
    SLURM_CI_DIR=/tmp/cpb SLURM_CI_CLUSTER=cpcib SLURM_CI_NODES=1 SLURM_CI_DB_PORT=13316 \\
      SLURM_CI_DBD_PORT=16839 SLURM_CI_CTLD_PORT=16837 SLURM_CI_SLURMD_PORT=17101 \\
      scripts/slurm-cluster start
    COMPUTEPORT_TEST_SLURM_DIR=/tmp/cpa COMPUTEPORT_TEST_SLURM_DIR_B=/tmp/cpb \\
      .venv/bin/pytest -m slurm tests/integration/test_two_clusters.py

The scenario runs the worker's own per-cluster duties (``reconcile-awards@<cluster>``,
``ingest-usage@<cluster>``) against an inventory naming both clusters: an award limited to the
first runs there and is refused on the second; an open award runs on both; usage from both is
ingested once each; with the second controller stopped the first's reconcile and ingest go on,
the second is marked down since the failure, and after its restart its ingest resumes from its
mark and finds the job that ended while it was down.  It leaves both clusters as it found them.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from computeport.award.places import set_places
from computeport.award.shares import RESERVE, move_hours
from computeport.backends import BackendError, DesiredState, JobRejected, JobSpec, reconcile
from computeport.backends.slurm import RetryPolicy, SlurmBackend, SlurmConfig
from computeport.db.engine import make_session_factory, unit_of_work
from computeport.identity import service as identity
from computeport.inventory.declaration import parse_inventory
from computeport.inventory.health import ClusterHealthView, cluster_states
from computeport.inventory.loader import load_inventory
from computeport.kit.clock import ManualClock, SystemClock
from computeport.models.identity import Organisation, Role
from computeport.models.metering import UsageQuarantine, UsageRecord
from computeport.worker.clusters import cluster_loops, inventory_connections
from computeport.worker.duties import IngestUsage, ReconcileAwards
from computeport.worker.loop import Loop
from tests.backends.sim.support import committed_engine
from tests.factories import award as fw
from tests.factories import pricing
from tests.inventory.inventory_files import H800_AT_CYBERPORT
from tests.support.databases import require
from tests.support.processes import poll

__all__ = ["committed_engine"]  # the fixture, on both engines

pytestmark = [pytest.mark.slurm, pytest.mark.slow, pytest.mark.xdist_group("slurm")]

REPO = Path(__file__).resolve().parents[2]
MEMBER = "nobody"  # exists on every Debian machine; jobs run as it via sbatch --uid


@dataclass
class Site:
    """One local cluster started by scripts/slurm-cluster."""

    root: Path
    name: str
    backend: SlurmBackend

    def script(self, command: str) -> None:
        subprocess.run(
            [str(REPO / "scripts" / "slurm-cluster"), command],
            env={**os.environ, "SLURM_CI_DIR": str(self.root)},
            check=True,
            capture_output=True,
            timeout=120,
        )

    def job(self, account: str, *, user: str = MEMBER) -> JobSpec:
        return JobSpec(
            account=account,
            user=user,
            script="#!/bin/bash\ntrue\n",
            gpus=1,
            time_limit_minutes=1,
            workdir=str(self.root / "work"),
            gpu_type="h800",
        )

    def submit(self, account: str) -> str:
        return self.backend.submit(self.job(account))

    def ended(self, *job_ids: str) -> bool:
        """Whether every job ended within a minute (a bounded poll of squeue)."""

        def done() -> bool:
            jobs = {j.job_id: j for j in self.backend.jobs()}
            return all(i in jobs and jobs[i].state.finished for i in job_ids)

        return poll(done, 60)


def _site(variable: str) -> Site:
    raw = os.environ.get(variable, "")
    conf = Path(raw) / "etc" / "slurm.conf" if raw else None
    require(conf is not None and conf.exists(), f"a local Slurm test cluster in ${variable}")
    assert conf is not None
    name = next(
        line.split("=", 1)[1].strip()
        for line in conf.read_text().splitlines()
        if line.startswith("ClusterName=")
    )
    # No retry: a command to a stopped controller takes ~9 s to give up by itself.
    config = SlurmConfig(
        cluster=name, slurm_conf=conf, timeout_seconds=15, retry=RetryPolicy(1, 0.2)
    )
    return Site(conf.parent.parent, name, SlurmBackend(config))


@pytest.fixture(scope="module")
def sites() -> tuple[Site, Site]:
    return _site("COMPUTEPORT_TEST_SLURM_DIR"), _site("COMPUTEPORT_TEST_SLURM_DIR_B")


def inventory(a: Site, b: Site) -> str:
    def cluster(site_key: str, s: Site) -> str:
        return f"""
[clusters.{s.name}]
site = "{site_key}"
backend = "slurm"

[clusters.{s.name}.slurm]
slurm_conf = "{s.backend.config.slurm_conf}"
timeout_seconds = 15

[clusters.{s.name}.partitions.gpu]
accelerator = "h800"
gpus_per_node = 8
nodes = 1
"""

    second_site = '\n[sites.sandy-ridge]\nname = "Sandy Ridge"\n'
    return H800_AT_CYBERPORT + second_site + cluster("cyberport", a) + cluster("sandy-ridge", b)


@dataclass
class Centre:
    sessions: sessionmaker[Session]
    limited: str
    """The account of an award limited to the first cluster (all its hours there)."""
    open: str
    """The account of an open award with hours on both clusters."""
    loops: dict[str, Loop]


def _setup(engine: Engine, a: Site, b: Site) -> Centre:
    sessions = make_session_factory(engine)
    clock = ManualClock(fw.START + timedelta(days=1))
    with unit_of_work(sessions) as session:
        load_inventory(
            session, parse_inventory(inventory(a, b)), actor_id=None, at=clock.now(), source="t"
        )
        pricing.prices(session, clock)
        the_scheme = fw.scheme(session)
        limited = fw.approved_award(session, clock, the_scheme, gpu_hours=10)
        org_id = limited.organisation_id
        person = identity.create_user(
            session, email="nobody@example.org", display_name="Nobody",
            posix_username=MEMBER, at=clock.now(),
        )  # fmt: skip
        identity.grant_role(
            session, user_id=person.id, role=Role.MEMBER, organisation_id=org_id, at=clock.now()
        )
        org = session.get(Organisation, org_id)
        opened = fw.approved_award(session, clock, the_scheme, gpu_hours=10, organisation=org)
        set_places(session, limited.id, clusters=[a.name], reason="r", actor_id=None, clock=clock)
        for award, target, hours in (
            (limited, a.name, 10),
            (opened, a.name, 5),
            (opened, b.name, 5),
        ):
            move_hours(
                session, award.id, source=RESERVE, target=target, hours=hours,
                reason="placing", actor_id=None, clock=clock,
            )  # fmt: skip
        accounts = (limited.slurm_account, opened.slurm_account)
    loops = cluster_loops(
        inventory_connections(sessions),
        sessions,
        None,
        SystemClock(),
        lambda _duty: sessions,
        usage_every=timedelta(hours=1),
    )
    return Centre(sessions, *accounts, {loop.name: loop for loop in loops})


def _run(centre: Centre, duty: str) -> str | None:
    loop = centre.loops[duty]
    assert isinstance(loop, ReconcileAwards | IngestUsage)
    return loop.run(SystemClock().now())


def _records(centre: Centre, cluster: str) -> set[tuple[str, str]]:
    """The (account, job id) of every usage record from ``cluster``; each is there once.

    Account names repeat across test runs (a fresh database numbers its awards from 1) and a
    local cluster keeps its accounting, so earlier runs' jobs of the same account are ingested
    too: the assertions look for this run's jobs among them.
    """
    with centre.sessions() as session:
        rows = session.execute(
            select(UsageRecord.account, UsageRecord.job_id).where(UsageRecord.cluster == cluster)
        ).all()
    keys = [(r.account, r.job_id) for r in rows]
    assert len(keys) == len(set(keys)), "a job was ingested twice"
    return set(keys)


def _ingested(centre: Centre, cluster: str, wanted: set[tuple[str, str]]) -> bool:
    """Run the cluster's ingest until ``wanted`` are in (sacct sees a job a moment after it
    ends): a bounded poll of the real duty."""

    def done() -> bool:
        _run(centre, f"ingest-usage@{cluster}")
        return wanted <= _records(centre, cluster)

    return poll(done, 60, every=0.5)


def _emptied(backend: SlurmBackend) -> Callable[[], bool]:
    def empty() -> bool:
        return not reconcile(backend, DesiredState()).deferred

    return empty


@pytest.fixture
def centre(committed_engine: Engine, sites: tuple[Site, Site]) -> Iterator[Centre]:
    a, b = sites
    made = _setup(committed_engine, a, b)
    try:
        yield made
    finally:
        b.script("start")  # the controller comes back whatever the test did
        for site in sites:  # what the test made goes again (deferred removals retried)
            assert poll(_emptied(site.backend), 60)


def test_two_clusters_each_reconciled_and_ingested_on_its_own(
    centre: Centre, sites: tuple[Site, Site]
) -> None:
    a, b = sites
    for site in sites:
        _run(centre, f"reconcile-awards@{site.name}")

    # An award limited to the first cluster runs there and is refused on the second
    # (no account there); an open award runs on both.
    with pytest.raises(JobRejected):
        b.backend.submit(b.job(centre.limited))
    limited_job = a.submit(centre.limited)
    open_a = a.submit(centre.open)
    open_b = b.submit(centre.open)
    assert a.ended(limited_job, open_a)
    assert b.ended(open_b)

    # Usage from both, ingested once each, every record under its own cluster.
    assert _ingested(centre, a.name, {(centre.limited, limited_job), (centre.open, open_a)})
    assert _ingested(centre, b.name, {(centre.open, open_b)})
    before = {s.name: _records(centre, s.name) for s in sites}
    for site in sites:
        assert _run(centre, f"ingest-usage@{site.name}") is None  # nothing new
    assert {s.name: _records(centre, s.name) for s in sites} == before
    with centre.sessions() as session:  # none of this run's jobs was set aside
        held = set(session.execute(select(UsageQuarantine.cluster, UsageQuarantine.job_id)).all())
    ours = {(a.name, limited_job), (a.name, open_a), (b.name, open_b)}
    assert not ours & {(c, j) for c, j in held}

    # A job ends on the second cluster, then its controller stops.
    late_b = b.submit(centre.open)
    assert b.ended(late_b)
    b.script("stop-controller")
    with pytest.raises(BackendError):
        _run(centre, f"reconcile-awards@{b.name}")
    # The first cluster's duties go on: reconcile, a new job, its ingest.
    _run(centre, f"reconcile-awards@{a.name}")
    more_a = a.submit(centre.open)
    assert a.ended(more_a)
    assert _ingested(centre, a.name, {(centre.open, more_a)})
    # The second's ingest reads its slurmdbd, which still answers (the late job's record may
    # reach it only when the controller is back: the controller sends it).
    _run(centre, f"ingest-usage@{b.name}")
    health = _health(centre)
    assert health[a.name].up
    assert not health[b.name].up  # its reconcile still fails
    assert health[b.name].down_since is not None
    assert health[b.name].failing_duties == (f"reconcile-awards@{b.name}",)

    # The controller returns: its reconcile resumes, the cluster is up, and its ingest, from
    # its own mark, finds the late job: each record once.
    b.script("start")
    _run(centre, f"reconcile-awards@{b.name}")
    assert _health(centre)[b.name].up
    assert _ingested(centre, b.name, {(centre.open, late_b)})
    assert {(centre.open, open_b), (centre.open, late_b)} <= _records(centre, b.name)
    assert (centre.limited, limited_job) in _records(centre, a.name)
    # Nothing of the limited award on the second cluster, ever.
    assert not any(account == centre.limited for account, _ in _records(centre, b.name))


def _health(centre: Centre) -> dict[str, ClusterHealthView]:
    with centre.sessions() as session:
        return {h.cluster: h for h in cluster_states(session)}
