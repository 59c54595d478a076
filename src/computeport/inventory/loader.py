"""Load the inventory file into the database: an idempotent, audited upsert.

``computeport clusters load FILE`` calls :func:`load_inventory` inside one unit of work.  Rows are
matched by name (accelerator type, site key, cluster name, partition name within its cluster);
a field that differs is updated, a name the file no longer declares is removed — unless it
carries history: a cluster whose name appears in usage, ratings, bookings or an ingest mark, or
an accelerator type usage records carry, is never dropped (the refusal comes before any write,
so nothing is half-loaded).  Every created, changed or removed row gets an audit record saying
what changed and from which file; loading the same file again changes and audits nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from computeport.audit.service import Audited, record_event
from computeport.inventory.declaration import ClusterDecl, InventoryDecl
from computeport.inventory.errors import ClusterHasHistory
from computeport.inventory.repository import accelerator_history, cluster_history
from computeport.models.centre import AcceleratorType, CentreCluster, CentrePartition, CentreSite

__all__ = ["LoadReport", "load_inventory"]


@dataclass
class LoadReport:
    """What one load did, as ``kind name`` lines."""

    source: str
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.removed)


@dataclass
class _Writer:
    """Applies changes and writes their audit records (one per row touched)."""

    session: Session
    actor_id: uuid.UUID | None
    at: datetime
    report: LoadReport

    def audit(self, row: Audited, action: str, label: str, detail: str) -> None:
        reason = f"{self.report.source}: {label}" + (f" ({detail})" if detail else "")
        record_event(self.session, row, f"inventory_{action}", self.actor_id, reason, self.at)

    def create(self, row: Any, label: str) -> None:
        self.session.add(row)
        self.session.flush()
        self.report.created.append(label)
        self.audit(row, "created", label, "")

    def update(self, row: Any, values: dict[str, Any], label: str) -> None:
        changes = []
        for name, value in values.items():
            old = getattr(row, name)
            if old != value:
                changes.append(f"{name}: {old!r} → {value!r}")
                setattr(row, name, value)
        if changes:
            self.session.flush()
            self.report.updated.append(label)
            self.audit(row, "updated", label, "; ".join(changes))

    def remove(self, row: Any, label: str, collection: list[Any] | None = None) -> None:
        """Delete ``row`` (through ``collection`` when a parent holds it: delete-orphan)."""
        self.audit(row, "removed", label, "")
        if collection is not None:
            collection.remove(row)
        else:
            self.session.delete(row)
        self.session.flush()
        self.report.removed.append(label)


def _refuse_drops_with_history(session: Session, decl: InventoryDecl) -> None:
    """Step 1: nothing is written if the file would drop something history points at."""
    refusals: list[str] = []
    for cluster in session.scalars(select(CentreCluster).order_by(CentreCluster.name)):
        if cluster.name in decl.clusters:
            continue
        held = cluster_history(session, cluster.name)
        if held:
            refusals.append(
                f"cluster '{cluster.name}' is not in the file but has history "
                f'({", ".join(held)}); keep it and set status = "retired" instead'
            )
    for kind in session.scalars(select(AcceleratorType).order_by(AcceleratorType.name)):
        if kind.name not in decl.accelerators and accelerator_history(session, kind.name):
            refusals.append(
                f"accelerator type '{kind.name}' is not in the file but usage records carry it; "
                "keep it declared"
            )
    if refusals:
        raise ClusterHasHistory("; ".join(refusals), field="clusters")


def _accelerators(w: _Writer, decl: InventoryDecl) -> dict[str, AcceleratorType]:
    rows = {r.name: r for r in w.session.scalars(select(AcceleratorType))}
    for name, spec in decl.accelerators.items():
        values = spec.model_dump()
        if name in rows:
            w.update(rows[name], values, f"accelerator {name}")
        else:
            rows[name] = AcceleratorType(name=name, **values)
            w.create(rows[name], f"accelerator {name}")
    return rows


def _sites(w: _Writer, decl: InventoryDecl) -> dict[str, CentreSite]:
    rows = {r.key: r for r in w.session.scalars(select(CentreSite))}
    for key, spec in decl.sites.items():
        values = {**spec.model_dump(), "status": spec.status.value}
        if key in rows:
            w.update(rows[key], values, f"site {key}")
        else:
            rows[key] = CentreSite(key=key, **values)
            w.create(rows[key], f"site {key}")
    return rows


def _cluster_values(spec: ClusterDecl, site: CentreSite) -> dict[str, Any]:
    return {
        "site_id": site.id,
        "backend": spec.backend,
        "status": spec.status.value,
        "commissioned": spec.commissioned,
        "connection": spec.connection(),
        "assumption": spec.assumption,
    }


def _partitions(
    w: _Writer, cluster: CentreCluster, spec: ClusterDecl, kinds: dict[str, AcceleratorType]
) -> None:
    rows = {p.name: p for p in cluster.partitions}
    for name, part in spec.partitions.items():
        label = f"partition {cluster.name}/{name}"
        values = {
            "accelerator_id": kinds[part.accelerator].id,
            "gpus_per_node": part.gpus_per_node,
            "nodes": part.nodes,
        }
        if name in rows:
            w.update(rows[name], values, label)
        else:
            w.create(CentrePartition(cluster_id=cluster.id, name=name, **values), label)
    for name, row in rows.items():
        if name not in spec.partitions:
            w.remove(row, f"partition {cluster.name}/{name}", cluster.partitions)


def _clusters(
    w: _Writer,
    decl: InventoryDecl,
    sites: dict[str, CentreSite],
    kinds: dict[str, AcceleratorType],
) -> None:
    stmt = select(CentreCluster).options(selectinload(CentreCluster.partitions))
    rows = {r.name: r for r in w.session.scalars(stmt)}
    for name, spec in decl.clusters.items():
        values = _cluster_values(spec, sites[spec.site])
        if name in rows:
            w.update(rows[name], values, f"cluster {name}")
        else:
            rows[name] = CentreCluster(name=name, **values)
            w.create(rows[name], f"cluster {name}")
        _partitions(w, rows[name], spec, kinds)
    for name, row in rows.items():
        if name not in decl.clusters:
            for part in list(row.partitions):
                w.remove(part, f"partition {name}/{part.name}", row.partitions)
            w.remove(row, f"cluster {name}")


def _remove_undeclared(w: _Writer, decl: InventoryDecl) -> None:
    for site in w.session.scalars(select(CentreSite)):
        if site.key not in decl.sites:
            w.remove(site, f"site {site.key}")
    for kind in w.session.scalars(select(AcceleratorType)):
        if kind.name not in decl.accelerators:
            w.remove(kind, f"accelerator {kind.name}")


def load_inventory(
    session: Session,
    decl: InventoryDecl,
    *,
    actor_id: uuid.UUID | None,
    at: datetime,
    source: str,
) -> LoadReport:
    """Make the tables say what ``decl`` says; the caller commits (or rolls back on error)."""
    _refuse_drops_with_history(session, decl)
    writer = _Writer(session, actor_id, at, LoadReport(source))
    kinds = _accelerators(writer, decl)
    sites = _sites(writer, decl)
    _clusters(writer, decl, sites, kinds)
    _remove_undeclared(writer, decl)
    return writer.report
