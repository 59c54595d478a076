"""On the real local Slurm cluster: a QOS deleted under a running job, from both sides.

Slurm 22.05 lets ``sacctmgr delete qos`` remove a QOS that a running job uses; the job's record,
stored when it ends, then cannot be written out by ``sacct --json`` (its object stops at
``qos`` and every later job of the window is left out).  Before the fix that refused ingest of
the window for good (the soak's ``field 'state.current' is missing`` from run 4 on).

* reconcile never does this itself: while a job of the award is running its removal is
  deferred with the reason, and goes ahead once the job is in accounting;
* when it happens anyway (an operator's own ``sacctmgr``), ingest recovers the record from
  ``sacct --parsable2`` and goes on with the rest of the window.

Each test removes what it made and cancels its jobs however it ends.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from computeport.backends import (
    AccountingRecord,
    AwardAllocation,
    BackendOutputInvalid,
    DeferredRemoval,
    DeleteAccount,
    DesiredState,
    JobSpec,
    JobState,
    reconcile,
)
from computeport.backends.slurm import SlurmBackend
from computeport.backends.slurm.sacct import parse_sacct_json
from computeport.kit.clock import SystemClock
from computeport.metering.accounting import FileCursorStore, InMemoryUsageSink, ingest_accounting
from tests.support.processes import poll
from tests.support.slurm import local_slurm_backend

pytestmark = [pytest.mark.slurm, pytest.mark.slow, pytest.mark.xdist_group("slurm")]

MEMBER = "nobody"


@pytest.fixture
def backend() -> SlurmBackend:
    return local_slurm_backend()


@pytest.fixture
def award(backend: SlurmBackend, request: pytest.FixtureRequest) -> Iterator[AwardAllocation]:
    """A fresh award on the cluster; afterwards its jobs are cancelled and it is removed."""
    suffix = f"{os.getpid() % 10000}{len(request.node.name) % 97}"
    alloc = AwardAllocation(f"dq{suffix}", f"dqorg{suffix}", frozenset({MEMBER}), 600)
    reconcile(backend, DesiredState((alloc,)))
    try:
        yield alloc
    finally:
        for job in backend.jobs():
            if job.account == alloc.account_name and not job.state.finished:
                backend.cancel(job.job_id)
        removed = poll(lambda: not reconcile(backend, DesiredState()).deferred)
        assert removed, "; ".join(backend.plan(DesiredState()).lines())


def _workdir() -> str:
    return str(Path(os.environ["COMPUTEPORT_TEST_SLURM_DIR"]) / "work")


def _job(alloc: AwardAllocation, script: str) -> JobSpec:
    return JobSpec(
        account=alloc.account_name,
        user=MEMBER,
        script=f"#!/bin/bash\n{script}\n",
        gpus=1,
        time_limit_minutes=2,
        name="deleted-qos",
        workdir=_workdir(),
        gpu_type="h800",
    )


def _running(backend: SlurmBackend, job_id: str) -> bool:
    return backend.job(job_id).state is JobState.RUNNING


def _in_sacct(backend: SlurmBackend, job_id: str) -> bool:
    text = backend.runner.run(
        ["sacct", "-X", "-n", "-P", "--allusers", "--format=State,End", f"--jobs={job_id}"]
    ).stdout.strip()
    return bool(text) and text.split("|")[1] not in {"", "Unknown"}


def _accounts(backend: SlurmBackend) -> set[str]:
    argv = ["sacctmgr", "--parsable2", "--noheader", "show", "assoc", "format=Account"]
    return set(backend.runner.run(argv).stdout.split())


def _qos(backend: SlurmBackend) -> set[str]:
    argv = ["sacctmgr", "--parsable2", "--noheader", "show", "qos", "format=Name"]
    return set(backend.runner.run(argv).stdout.split())


def test_reconcile_defers_removing_an_award_while_its_job_runs(
    backend: SlurmBackend, award: AwardAllocation
) -> None:
    job_id = backend.submit(_job(award, "sleep 300"))
    assert poll(lambda: _running(backend, job_id))

    dry = reconcile(backend, DesiredState(), dry_run=True)
    why = f"job {job_id} is RUNNING"
    assert DeferredRemoval("account", award.account_name, why) in dry.deferred
    assert DeferredRemoval("qos", award.account_name, why) in dry.deferred
    assert f"… qos {award.account_name}: removal deferred, {why}" in dry.lines()
    assert DeleteAccount(award.account_name) not in dry.changes

    reconcile(backend, DesiredState())  # applied: the award stays while the job runs
    assert award.account_name in _accounts(backend)
    assert award.account_name in _qos(backend)

    backend.cancel(job_id)
    assert poll(lambda: _in_sacct(backend, job_id))
    assert poll(lambda: not reconcile(backend, DesiredState()).deferred)  # retried: goes now
    assert award.account_name not in _accounts(backend)
    assert award.account_name not in _qos(backend)


def _sacctmgr(backend: SlurmBackend, *args: str) -> None:
    backend.runner.run(["sacctmgr", "-i", *args])


def _cut_short(backend: SlurmBackend, job_id: str) -> bool:
    """Whether ``sacct --json`` now cuts ``job_id``'s object short (the Slurm defect).

    Read for that job alone: an earlier try's job may be cut short too, and a window read
    stops at the first one.
    """
    data = backend.runner.run_json(["sacct", "--json", "--allusers", f"--jobs={job_id}"])
    far = datetime.now(UTC) + timedelta(days=1)
    try:
        parse_sacct_json(
            data, cluster=backend.cluster, since=datetime(2000, 1, 1, tzinfo=UTC), until=far
        )
    except BackendOutputInvalid as exc:
        return f"sacct job {job_id} " in exc.message and "is missing" in exc.message
    return False


def _qos_deleted_under_a_job(
    backend: SlurmBackend, award: AwardAllocation, attempt: int, gates: Path
) -> str:
    """A job whose QOS is deleted by hand while it runs; its id once it ended (exit code 3).

    The QOS goes as soon as slurmctld says the job runs, and the job cannot end before that:
    it waits for a gate file, opened after the deletion.  Waiting for RUNNING matters: a job
    still pending when its QOS goes is held for ever (InvalidQOS) and, cancelled, was never
    eligible, so it is no allocation and no time-window ``sacct`` lists it (the soak's two
    failures: under load no try started within a second, and ingest waited for a job that
    Slurm rightly never reports).  Whether Slurm then cuts the record short is still a race
    inside Slurm (the QOS went before or after slurmdbd stored the job's start).
    """
    name, qos = award.account_name, f"{award.account_name}q{attempt}"
    where = ["where", f"name={name}", f"cluster={backend.cluster}"]
    gate = gates / f"{qos}.go"
    _sacctmgr(backend, "add", "qos", qos)
    _sacctmgr(backend, "modify", "account", *where, "set", f"QOS={qos}", f"DefaultQOS={qos}")
    job_id = backend.submit(_job(award, f"while [ ! -e {gate} ]; do sleep 0.2; done\nexit 3"))
    assert poll(lambda: _running(backend, job_id), every=0.05)
    _sacctmgr(backend, "modify", "account", *where, "set", "QOS=normal", "DefaultQOS=normal")
    _sacctmgr(backend, "delete", "qos", qos)  # what reconcile no longer does: by hand
    gate.touch()
    assert poll(lambda: _in_sacct(backend, job_id))
    return job_id


def test_ingest_goes_on_when_a_qos_was_deleted_before_its_job_was_stored(
    backend: SlurmBackend, award: AwardAllocation, tmp_path: Path
) -> None:
    started = datetime.now(UTC) - timedelta(seconds=2)
    gates = Path(_workdir()) / f"gates-{award.account_name}"
    gates.mkdir(exist_ok=True)
    provoked = job_id = ""
    for attempt in range(5):  # bounded: each attempt takes seconds
        job_id = _qos_deleted_under_a_job(backend, award, attempt, gates)
        assert backend.job(job_id).state is JobState.FAILED
        if _cut_short(backend, job_id):
            provoked = job_id
            break
    shutil.rmtree(gates)  # every try's job has ended
    # Whether Slurm cuts the record short is a race inside Slurm: about half the tries on the
    # loaded soak machine (the recorded-output parser tests hold the cut-short record
    # deterministically).  Either way every try's job ran, so ingest must read it.
    first = provoked or job_id
    second = backend.submit(_job(award, "true"))  # a later job of the same window
    assert poll(lambda: _in_sacct(backend, second))

    sink = InMemoryUsageSink()
    store = FileCursorStore(tmp_path / "cursor.json")

    def ours() -> dict[str, AccountingRecord]:
        return {r.job_id: r for r in sink.records.values() if r.account == award.account_name}

    def ingested() -> bool:
        # slurmdbd lists a job in a time window a moment after ``sacct --jobs`` shows its end
        ingest_accounting(backend, sink, store, SystemClock(), since=started)
        return {first, second} <= set(ours())

    # before the fix the second was not even in the JSON
    assert poll(ingested), f"ingest read {sorted(ours())}, not both {first} and {second}"
    records = ours()
    job = records[first]
    assert not job.unreadable
    assert (job.state, job.exit_code, job.gpus, job.gpu_type) == (JobState.FAILED, 3, 1, "h800")
    assert job.start_time is not None
    assert job.gpu_seconds == job.elapsed_seconds  # one GPU for as long as it ran
    if provoked:
        assert job.qos == ""  # Slurm no longer knows its QOS
    assert records[second].state is JobState.COMPLETED
    # Read again from the mark: the recovered records keep their keys, nothing is offered twice.
    again = ingest_accounting(backend, sink, store, SystemClock())
    assert again.skipped >= 2
    assert sink.offered == len(sink.records)
