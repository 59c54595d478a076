"""``computeport slurm``: provision awards on Slurm, ingest its accounting, show the cluster.

* ``reconcile [--dry-run] [--desired FILE]`` — the desired state comes from the awards in the
  database, or from a YAML/JSON file (``awards: [{account, organisation, members, gpu_minutes,
  gpu_cap?, state?}]``); the typed diff is printed; without ``--dry-run`` it is applied.
* ``ingest [--since …] [--out FILE]`` — ``sacct`` from the stored high-water mark (minus the
  overlap) to now, handed to billing (committed before the mark moves), or appended to a JSON
  lines file with ``--out``.
* ``status`` — partitions, nodes and the queue.

The cluster is named by ``--conf`` (else ``COMPUTEPORT_SLURM_CONF``, else ``$SLURM_CONF``) and
``--cluster`` (else ``ClusterName`` in that file, else ``COMPUTEPORT_SLURM_CLUSTER``).
"""

from __future__ import annotations

import json
import os
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.table import Table

from computeport.backends import AwardAllocation, AwardState, DesiredState
from computeport.backends.slurm import SlurmBackend, SlurmConfig
from computeport.cli.common import command_session, console, domain_errors, fail
from computeport.kit.clock import SystemClock, ensure_aware
from computeport.kit.errors import DomainError, ValidationFailed
from computeport.metering.accounting import (
    FileCursorStore,
    IngestResult,
    InMemoryCursorStore,
    JsonLinesUsageSink,
    ingest_accounting,
)
from computeport.settings import Settings

app = typer.Typer(
    help="The Slurm back end: provision awards, ingest accounting, show the cluster.",
    no_args_is_help=True,
)

ConfOption = Annotated[
    Path | None, typer.Option("--conf", help="slurm.conf of the cluster (else $SLURM_CONF).")
]
ClusterOption = Annotated[
    str | None, typer.Option("--cluster", help="Cluster name (else ClusterName in slurm.conf).")
]
TimeoutOption = Annotated[
    float, typer.Option("--timeout", help="Seconds each Slurm command may take.")
]


def slurm_backend(conf: Path | None, cluster: str | None, timeout: float) -> SlurmBackend:
    """The Slurm back end of ``--conf`` (else the settings, else $SLURM_CONF)."""
    settings = Settings()
    conf = conf or settings.slurm_conf
    if conf is None and os.environ.get("SLURM_CONF"):
        conf = Path(os.environ["SLURM_CONF"])
    if conf is not None and not conf.exists():
        raise ValidationFailed(f"{conf} does not exist", field="--conf")
    name = cluster or (_cluster_name(conf) if conf else None) or settings.slurm_cluster
    return SlurmBackend(SlurmConfig(cluster=name, slurm_conf=conf, timeout_seconds=timeout))


def _cluster_name(conf: Path) -> str | None:
    for line in conf.read_text(encoding="utf-8").splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip().lower() == "clustername":
            return value.split("#")[0].strip()
    return None


def load_desired_file(path: Path) -> DesiredState:
    """Read a desired state file; a bad entry names its position and field."""
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ValidationFailed(f"{path}: {exc}", field="--desired") from None
    entries = data.get("awards") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise ValidationFailed(f"{path}: expected a mapping with an 'awards' list", field="awards")
    allocations = []
    for index, entry in enumerate(entries):
        where = f"awards[{index}]"
        if not isinstance(entry, dict):
            raise ValidationFailed(f"{path}: {where} is not a mapping", field=where)
        try:
            members = entry.get("members", [])
            if not isinstance(members, list):
                raise ValidationFailed("members is not a list", field="members")
            allocations.append(
                AwardAllocation(
                    account_name=str(entry["account"]),
                    org_account=str(entry["organisation"]),
                    members=frozenset(str(m) for m in members),
                    gpu_minutes=int(entry["gpu_minutes"]),
                    gpu_cap=None if entry.get("gpu_cap") is None else int(entry["gpu_cap"]),
                    state=AwardState(str(entry.get("state", "active"))),
                )
            )
        except KeyError as exc:
            raise ValidationFailed(
                f"{path}: {where} lacks {exc.args[0]!r}", field=f"{where}.{exc.args[0]}"
            ) from None
        except (TypeError, ValueError) as exc:
            raise ValidationFailed(f"{path}: {where}: {exc}", field=where) from None
        except ValidationFailed as exc:
            raise ValidationFailed(
                f"{path}: {where}: {exc.message}", field=f"{where}.{exc.field}"
            ) from None
    return DesiredState(tuple(allocations))


@app.command()
def reconcile(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the changes only.")] = False,
    desired: Annotated[
        Path | None, typer.Option("--desired", help="YAML/JSON desired state (else the awards).")
    ] = None,
    conf: ConfOption = None,
    cluster: ClusterOption = None,
    timeout: TimeoutOption = 30.0,
) -> None:
    """Make Slurm's accounts, QOS and users match the awards (or show what would change)."""
    with domain_errors():
        backend = slurm_backend(conf, cluster, timeout)
        if desired is not None:
            state = load_desired_file(desired)
        else:
            from computeport.award.desired import desired_state_from_awards

            with command_session() as session:
                state = desired_state_from_awards(session, SystemClock().now())
        plan = backend.plan(state)
        for line in plan.lines():
            console.print(line, highlight=False)
        if dry_run or plan.empty:
            if dry_run and not plan.empty:
                console.print(f"dry run: {len(plan.changes)} change(s) not applied")
            return
        backend.apply(plan)
        console.print(f"applied {len(plan.changes)} change(s) on cluster {backend.cluster}")
        if desired is None:  # the awards' plan: organisation moves go into the audit trail
            from computeport.award.cluster_audit import audit_applied_plan

            with command_session() as session:
                audit_applied_plan(session, plan, SystemClock().now())


def _parse_since(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return ensure_aware(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        raise fail(f"--since: not an ISO 8601 UTC time: {value!r}") from None


def _report(result: IngestResult, cluster: str) -> None:
    console.print(
        f"cluster {cluster}: {result.since:%Y-%m-%dT%H:%M:%SZ} → {result.until:%Y-%m-%dT%H:%M:%SZ}"
        f" in {result.windows} window(s): read {result.read}, already seen {result.skipped},"
        f" new {result.accepted}",
        highlight=False,
    )


@app.command()
def ingest(
    since: Annotated[
        str | None, typer.Option("--since", help="Re-read from this time (ISO 8601 UTC).")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Append to this JSON-lines file, not billing.")
    ] = None,
    cursor: Annotated[
        Path, typer.Option("--cursor", help="Where the high-water mark is kept.")
    ] = Path("var/slurm-ingest-cursor.json"),
    overlap_minutes: Annotated[
        int, typer.Option("--overlap-minutes", help="Re-read this much before the mark.")
    ] = 60,
    conf: ConfOption = None,
    cluster: ClusterOption = None,
    timeout: TimeoutOption = 60.0,
) -> None:
    """Read finished jobs from sacct and hand them to billing, exactly once."""
    start = _parse_since(since)
    clock = SystemClock()
    overlap = timedelta(minutes=overlap_minutes)
    with domain_errors():
        backend = slurm_backend(conf, cluster, timeout)
        store = FileCursorStore(cursor)
        if out is not None:
            result = ingest_accounting(
                backend, JsonLinesUsageSink(out), store, clock, since=start, overlap=overlap
            )
        else:
            from computeport.metering.ingest import BillingUsageSink

            # The mark moves only after billing's unit of work has committed the records.
            staged = InMemoryCursorStore()
            previous = store.load(backend.cluster)
            if previous is not None:
                staged.save(backend.cluster, previous)
            with command_session() as session:
                result = ingest_accounting(
                    backend,
                    BillingUsageSink(session, clock),
                    staged,
                    clock,
                    since=start,
                    overlap=overlap,
                )
            mark = staged.load(backend.cluster)
            if mark is not None:
                store.save(backend.cluster, mark)
        _report(result, backend.cluster)


@app.command()
def status(
    conf: ConfOption = None,
    cluster: ClusterOption = None,
    timeout: TimeoutOption = 15.0,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Partitions, nodes and the queue of the cluster."""
    with domain_errors():
        backend = slurm_backend(conf, cluster, timeout)
        try:
            nodes = backend.nodes()
            partitions = backend.partitions()
            jobs = backend.jobs()
        except DomainError as exc:
            raise fail(f"cluster {backend.cluster}: {exc.message}") from None
    states = Counter(j.state.value for j in jobs)
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "cluster": backend.cluster,
                    "partitions": [
                        {"name": p.name, "up": p.up, "gpus": p.gpus, "gpus_used": p.gpus_used}
                        for p in partitions
                    ],
                    "nodes": [
                        {
                            "name": n.name,
                            "state": n.state.value,
                            "gpus": n.gpus,
                            "gpus_used": n.gpus_used,
                        }
                        for n in nodes
                    ],
                    "jobs": dict(states),
                },
                sort_keys=True,
            )
        )
        return
    table = Table(title=f"cluster {backend.cluster}")
    for col in ("partition", "state", "nodes", "GPUs used / total", "types"):
        table.add_column(col)
    for p in partitions:
        table.add_row(
            p.name + (" (default)" if p.default else ""),
            "up" if p.up else "down",
            str(len(p.nodes)),
            f"{p.gpus_used} / {p.gpus}",
            ",".join(p.gpu_types),
        )
    console.print(table)
    down = [n.name for n in nodes if n.state.value in ("down", "drained")]
    console.print(
        f"nodes: {len(nodes)} ({len(down)} down/drained{': ' + ', '.join(down) if down else ''})"
    )
    console.print(
        "jobs: " + (", ".join(f"{k.lower()} {v}" for k, v in sorted(states.items())) or "none")
    )
