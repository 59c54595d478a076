"""Loading the inventory: an idempotent, audited upsert that never drops a cluster with history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from computeport.backends.types.connection import PartitionShape
from computeport.inventory.connections import connection_of, connections
from computeport.inventory.declaration import parse_inventory
from computeport.inventory.errors import ClusterHasHistory
from computeport.inventory.loader import load_inventory
from computeport.inventory.repository import all_clusters, all_sites
from computeport.kit.clock import ManualClock
from computeport.metering.ingest import ingest_usage
from computeport.models.audit import AuditRecord
from computeport.models.centre import AcceleratorType, CentreCluster, CentrePartition, CentreSite
from computeport.settings import Settings
from tests.factories.metering import record
from tests.inventory.inventory_files import BETA, SMALL, cyberport_text

AT = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)


def load(session: Session, text: str) -> tuple[list[str], list[str], list[str]]:
    report = load_inventory(
        session, parse_inventory(text), actor_id=None, at=AT, source="centre.toml"
    )
    return report.created, report.updated, report.removed


def counts(session: Session) -> tuple[int, ...]:
    tables = (AcceleratorType, CentreSite, CentreCluster, CentrePartition, AuditRecord)
    return tuple(session.scalar(select(func.count()).select_from(t)) or 0 for t in tables)


def test_loading_cyberport_twice_writes_once(session: Session) -> None:
    created, _, _ = load(session, cyberport_text())
    assert "cluster cyberport-h800" in created
    assert len(created) == 9  # 2 accelerator types, 2 sites, 2 clusters, 3 partitions
    before = counts(session)
    assert before == (2, 2, 2, 3, 9)  # one audit record per row written

    assert load(session, cyberport_text()) == ([], [], [])
    assert counts(session) == before

    [cyberport, sandy] = all_sites(session)
    assert (cyberport.key, sandy.key, sandy.name_zh) == ("cyberport", "sandy-ridge", "沙嶺")
    h800 = cyberport.clusters[0]
    assert sum(p.gpus for p in h800.partitions) == 3040
    assert sum((p.pflops for p in h800.partitions), Decimal(0)) == Decimal("3009.6")


def test_a_changed_field_is_updated_and_audited_with_old_and_new(session: Session) -> None:
    load(session, SMALL)
    created, updated, removed = load(session, SMALL.replace("nodes = 4", "nodes = 6"))
    assert (created, updated, removed) == ([], ["partition alpha/gpu"], [])
    audit = session.scalars(
        select(AuditRecord).where(AuditRecord.action == "inventory_updated")
    ).one()
    assert audit.entity_type == "centre_partition"
    assert audit.reason == "centre.toml: partition alpha/gpu (nodes: 4 → 6)"
    [alpha] = all_clusters(session)
    assert alpha.partitions[0].gpus == 48


def test_a_cluster_without_history_is_removed_with_its_partitions(session: Session) -> None:
    load(session, SMALL + BETA)
    _, _, removed = load(session, SMALL)
    assert removed == ["partition beta/gpu", "cluster beta"]
    assert [c.name for c in all_clusters(session)] == ["alpha"]


def test_a_cluster_with_history_is_never_dropped_and_nothing_is_written(
    session: Session,
) -> None:
    load(session, SMALL + BETA)
    # A job record from beta arrives for an account nobody knows: quarantined, but history.
    clock = ManualClock(AT)
    ingest_usage(session, clock, [record(1, "nobody", end=AT - timedelta(hours=1), cluster="beta")])
    before = counts(session)
    changed = SMALL.replace("nodes = 4", "nodes = 5")
    with pytest.raises(ClusterHasHistory) as refused:
        load(session, changed)
    assert "cluster 'beta'" in refused.value.message
    assert "1 quarantined records" in refused.value.message
    assert 'status = "retired"' in refused.value.message
    assert counts(session) == before  # the change to alpha was not made either

    # Retiring it instead is allowed (and then no back end is opened for it).
    _, updated, _ = load(
        session,
        SMALL.replace("nodes = 4", "nodes = 5")
        + BETA.replace('backend = "slurm"', 'backend = "slurm"\nstatus = "retired"'),
    )
    assert sorted(updated) == ["cluster beta", "partition alpha/gpu"]
    assert [c.name for c in connections(session, Settings())] == ["alpha"]


def test_connections_come_from_the_inventory_or_else_from_the_settings(session: Session) -> None:
    [default] = connections(session, Settings(backend="slurm", slurm_cluster="hpc1"))
    assert (default.name, default.backend) == ("hpc1", "slurm")

    load(session, SMALL + BETA)
    [alpha, beta] = [connection_of(c) for c in all_clusters(session)]
    assert alpha.backend == "sim"
    assert alpha.partitions == (PartitionShape("gpu", "h800", 8, 4, 0.99, "fp16-dense"),)
    assert beta.settings["slurm_conf"] == "/etc/slurm-beta/slurm.conf"
