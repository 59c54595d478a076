"""Slurm accounting ingest throughput (records/s): synthetic sacct JSON, and the real cluster.

Two measurements, printed as one table:

* ``parse``: a synthetic ``sacct --json`` document of N jobs (built from a job recorded on the
  local test cluster, ids and times varied) → :func:`parse_sacct_json` → AccountingRecords;
  then the whole ingest loop (cursor, dedupe, in-memory sink) over those records.
* ``cluster`` (with ``--slurm-dir`` or ``COMPUTEPORT_TEST_SLURM_DIR``): a job array of tiny
  jobs on a throw-away award on the local cluster (scripts/slurm-cluster), then one timed
  ``accounting()`` read (``sacct --json`` + the exit-code read, parse) and a timed ingest.

    .venv/bin/python benchmarks/bench_slurm_ingest.py --records 1000 10000 50000
    SLURM_CI_DIR=/tmp/cps scripts/slurm-cluster start
    .venv/bin/python benchmarks/bench_slurm_ingest.py --slurm-dir /tmp/cps --jobs 300
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from computeport.backends import AccountingRecord, AwardAllocation, DesiredState, reconcile
from computeport.backends.slurm import SlurmBackend, SlurmConfig
from computeport.backends.slurm.sacct import parse_sacct_json
from computeport.kit.clock import ManualClock, SystemClock
from computeport.metering.accounting import (
    InMemoryCursorStore,
    InMemoryUsageSink,
    ingest_accounting,
)

RECORDED = Path(__file__).resolve().parents[1] / "tests" / "backends" / "slurm" / "recorded"
T0 = datetime(2026, 10, 1, tzinfo=UTC)


def synthetic_sacct(n: int) -> dict[str, Any]:
    """``n`` finished jobs shaped like job 7 of the recorded sacct output (3 × h800, 30 s)."""
    recorded = json.loads((RECORDED / "sacct.json").read_text())
    template = next(j for j in recorded["jobs"] if j["job_id"] == 7)
    jobs = []
    base = int(T0.timestamp())
    for i in range(n):
        job = copy.deepcopy(template)
        job["job_id"] = 1000 + i
        gpus = 1 + i % 8
        for entry in job["tres"]["allocated"]:
            if entry["type"] == "gres":
                entry["count"] = gpus
        elapsed = 30 + i % 3600
        submit = base + i * 7
        job["time"].update(
            submission=submit, start=submit + 5, end=submit + 5 + elapsed, elapsed=elapsed
        )
        jobs.append(job)
    return {"meta": recorded["meta"], "errors": [], "jobs": jobs}


class ListSource:
    cluster = "cpci"

    def __init__(self, records: list[AccountingRecord]) -> None:
        self.records = records

    def accounting(self, since: datetime, until: datetime) -> list[AccountingRecord]:
        return [r for r in self.records if since <= r.end_time < until]


def bench_parse(n: int) -> list[tuple[str, int, float]]:
    data = synthetic_sacct(n)
    text = json.dumps(data)
    t = time.perf_counter()
    decoded = json.loads(text)
    decode_s = time.perf_counter() - t
    t = time.perf_counter()
    records = parse_sacct_json(decoded, cluster="cpci", since=T0, until=T0 + timedelta(days=365))
    parse_s = time.perf_counter() - t
    assert len(records) == n
    clock = ManualClock(T0 + timedelta(days=30))
    sink = InMemoryUsageSink()
    t = time.perf_counter()
    result = ingest_accounting(
        ListSource(records), sink, InMemoryCursorStore(), clock, first_lookback=timedelta(days=31)
    )
    ingest_s = time.perf_counter() - t
    assert result.accepted == n
    return [
        (f"decode sacct --json ({len(text) / 1e6:.1f} MB, json.loads)", n, decode_s),
        ("parse → AccountingRecords", n, parse_s),
        ("ingest loop (cursor, dedupe, sink)", n, ingest_s),
    ]


def bench_cluster(root: Path, jobs: int) -> list[tuple[str, int, float]]:
    conf = root / "etc" / "slurm.conf"
    name = next(
        line.split("=", 1)[1].strip()
        for line in conf.read_text().splitlines()
        if line.startswith("ClusterName=")
    )
    backend = SlurmBackend(SlurmConfig(cluster=name, slurm_conf=conf, timeout_seconds=120))
    user = os.environ.get("USER", "root")
    award = AwardAllocation("benchaw", "benchorg", frozenset({user}), gpu_minutes=10**8)
    reconcile(backend, DesiredState((award,)))
    since = datetime.now(UTC) - timedelta(seconds=2)
    t = time.perf_counter()
    out = backend.runner.run(
        [
            "sbatch",
            "--parsable",
            "--account=benchaw",
            f"--array=0-{jobs - 1}",
            "--gres=gpu:1",
            "--time=1",
            f"--chdir={root / 'work'}",
            "--output=/dev/null",
        ],
        input_text="#!/bin/bash\ntrue\n",
    ).stdout.strip()
    array_id = out.split(";")[0]
    deadline = time.monotonic() + 600
    while any(j.account == "benchaw" and not j.state.finished for j in backend.jobs()):
        if time.monotonic() > deadline:
            raise SystemExit("jobs did not finish in 10 minutes")
        time.sleep(1)
    run_s = time.perf_counter() - t
    until = datetime.now(UTC) + timedelta(seconds=1)
    deadline = time.monotonic() + 120
    while True:  # slurmdbd may lag slurmctld by a moment
        t = time.perf_counter()
        records = [r for r in backend.accounting(since, until) if r.account == "benchaw"]
        read_s = time.perf_counter() - t
        if len(records) >= jobs or time.monotonic() > deadline:
            break
        time.sleep(1)
    sink = InMemoryUsageSink()
    t = time.perf_counter()
    result = ingest_accounting(backend, sink, InMemoryCursorStore(), SystemClock(), since=since)
    ingest_s = time.perf_counter() - t
    reconcile(backend, DesiredState())
    print(f"job array {array_id}: {jobs} tiny jobs ran in {run_s:.1f} s on cluster {name}")
    return [
        ("cluster: accounting() read (sacct×2 + parse)", len(records), read_s),
        ("cluster: ingest (read + dedupe + sink)", result.read, ingest_s),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, nargs="*", default=[1000, 10000, 50000])
    parser.add_argument("--slurm-dir", type=Path, default=None)
    parser.add_argument("--jobs", type=int, default=300)
    args = parser.parse_args()
    rows: list[tuple[str, int, float]] = []
    for n in args.records:
        rows += bench_parse(n)
    root = args.slurm_dir or (
        Path(os.environ["COMPUTEPORT_TEST_SLURM_DIR"])
        if os.environ.get("COMPUTEPORT_TEST_SLURM_DIR")
        else None
    )
    if root is not None:
        rows += bench_cluster(root, args.jobs)
    print(f"{'measurement':48} {'records':>9} {'seconds':>9} {'records/s':>11}")
    for label, n, seconds in rows:
        print(f"{label:48} {n:>9} {seconds:>9.3f} {n / seconds if seconds else 0:>11,.0f}")


if __name__ == "__main__":
    main()
