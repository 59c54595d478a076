"""The Slurm back end against the real local test cluster (scripts/slurm-cluster).

CI starts the cluster and exports ``COMPUTEPORT_TEST_SLURM_DIR``; locally, without it, these
tests skip (and fail in CI).  Run them by hand with::

    SLURM_CI_DIR=/tmp/cps scripts/slurm-cluster start
    COMPUTEPORT_TEST_SLURM_DIR=/tmp/cps .venv/bin/pytest -m slurm tests/integration

The scenario runs in order on one award: reconcile → a job runs with GPUs → a job over the
budget waits → ingest matches sacct → everything again is a no-op → faults (a hung controller,
slurmctld down, slurmdbd down) give clear errors and lose or duplicate nothing.  Then the
backend-agnostic contract suite runs against the same cluster.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from computeport.backends import (
    AwardAllocation,
    AwardState,
    BackendUnavailable,
    DesiredState,
    JobRejected,
    JobSpec,
    JobState,
    PendingReason,
    UpdateQos,
    reconcile,
)
from computeport.backends.slurm import RetryPolicy, SlurmBackend, SlurmConfig, SlurmRunner
from computeport.backends.slurm.sacctmgr import QOS_FORMAT, format_arg, parse_qos
from computeport.backends.slurm.tres import gpus_from_string
from computeport.kit.clock import SystemClock
from computeport.metering.accounting import FileCursorStore, InMemoryUsageSink, ingest_accounting
from tests.backends.contract import ClusterBackendContract, ContractHarness
from tests.support.databases import require
from tests.support.processes import poll

pytestmark = [pytest.mark.slurm, pytest.mark.slow, pytest.mark.xdist_group("slurm")]

REPO = Path(__file__).resolve().parents[2]
MEMBER = "nobody"  # exists on every Debian machine; jobs run as it via sbatch --uid


@dataclass
class LocalCluster:
    root: Path
    conf: Path
    name: str
    backend: SlurmBackend

    @property
    def workdir(self) -> Path:
        return self.root / "work"

    def pid(self, daemon: str) -> int:
        return int((self.root / "run" / f"{daemon}.pid").read_text().strip())

    def start(self) -> None:
        """Start whatever is down (the script is idempotent)."""
        env = {**os.environ, "SLURM_CI_DIR": str(self.root)}
        subprocess.run(
            [str(REPO / "scripts" / "slurm-cluster"), "start"],
            env=env,
            check=True,
            capture_output=True,
            timeout=120,
        )

    def stop_daemon(self, daemon: str) -> None:
        pid = self.pid(daemon)
        os.kill(pid, signal.SIGTERM)
        assert poll(lambda: not _alive(pid), 30), f"{daemon} did not stop"

    def backend_with(self, *, timeout_seconds: float, attempts: int) -> SlurmBackend:
        runner = SlurmRunner(
            slurm_conf=self.conf,
            timeout_seconds=timeout_seconds,
            retry=RetryPolicy(attempts=attempts, first_delay_seconds=0.2),
        )
        return SlurmBackend(self.backend.config, runner)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split()[2] not in {"Z", "X"}
    except (FileNotFoundError, ProcessLookupError):
        return False


@pytest.fixture(scope="module")
def cluster() -> LocalCluster:
    raw = os.environ.get("COMPUTEPORT_TEST_SLURM_DIR", "")
    root = Path(raw) if raw else None
    conf = root / "etc" / "slurm.conf" if root else None
    require(
        conf is not None and conf.exists(), "the local Slurm test cluster (scripts/slurm-cluster)"
    )
    assert root is not None
    assert conf is not None
    name = next(
        line.split("=", 1)[1].strip()
        for line in conf.read_text().splitlines()
        if line.startswith("ClusterName=")
    )
    backend = SlurmBackend(
        SlurmConfig(cluster=name, slurm_conf=conf, timeout_seconds=20, retry=RetryPolicy(3, 0.5))
    )
    return LocalCluster(root, conf, name, backend)


@pytest.fixture(scope="module")
def started() -> datetime:
    return datetime.now(UTC) - timedelta(seconds=2)


@pytest.fixture(scope="module")
def award(started: datetime) -> AwardAllocation:
    """The scenario's award (made after ``started``, so every job of it ends inside the window)."""
    suffix = f"{os.getpid() % 100000}"
    return AwardAllocation(
        account_name=f"it{suffix}",
        org_account=f"itorg{suffix}",
        members=frozenset({MEMBER}),
        gpu_minutes=10,
    )


@pytest.fixture(scope="module")
def cursor_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("ingest") / "cursor.json"


@pytest.fixture(scope="module")
def sink() -> InMemoryUsageSink:
    return InMemoryUsageSink()


def spec(
    cluster: LocalCluster, award: AwardAllocation, script: str, *, gpus: int, minutes: int
) -> JobSpec:
    return JobSpec(
        account=award.account_name,
        user=MEMBER,
        script=script,
        gpus=gpus,
        time_limit_minutes=minutes,
        workdir=str(cluster.workdir),
        gpu_type="h800",
    )


def finished(backend: SlurmBackend, job_id: str) -> bool:
    return backend.job(job_id).state.finished


@pytest.mark.xdist_group("slurm")
class TestAwardOnSlurm:
    """The award → cluster → usage scenario, in order (each step builds on the last)."""

    def test_cluster_is_up_with_fake_gpus(self, cluster: LocalCluster) -> None:
        nodes = cluster.backend.nodes()
        assert len(nodes) == 4
        assert all(n.gpus == 8 and n.gpu_type == "h800" for n in nodes)

    def test_award_reconciles_to_account_qos_and_members(
        self, cluster: LocalCluster, award: AwardAllocation
    ) -> None:
        desired = DesiredState((award,))
        plan = reconcile(cluster.backend, desired)
        assert not plan.empty
        assert cluster.backend.plan(desired).empty
        # read back independently: the QOS carries the budget, NoDecay, no pause
        text = cluster.backend.runner.run(
            ["sacctmgr", "--parsable2", "show", "qos", award.account_name, format_arg(QOS_FORMAT)]
        ).stdout
        (qos,) = parse_qos(text)
        assert qos.grp_tres_mins == {"gres/gpu": 10}
        assert "NoDecay" in qos.flags
        assert qos.grp_submit_jobs is None

    def test_a_job_on_the_award_runs_with_its_gpus(
        self, cluster: LocalCluster, award: AwardAllocation
    ) -> None:
        out = cluster.workdir / f"env-{award.account_name}.txt"
        script = f"#!/bin/bash\nenv > {out}\n"
        job_id = cluster.backend.submit(spec(cluster, award, script, gpus=2, minutes=2))
        assert poll(lambda: finished(cluster.backend, job_id))
        info = cluster.backend.job(job_id)
        assert info.state is JobState.COMPLETED
        assert info.gpus == 2
        env = dict(line.split("=", 1) for line in out.read_text().splitlines() if "=" in line)
        assert len(env["CUDA_VISIBLE_DEVICES"].split(",")) == 2
        assert env["SLURM_JOB_ACCOUNT"] == award.account_name
        assert "COMPUTEPORT_TEST_SLURM_DIR" not in env  # the job never sees our environment

    def test_a_job_over_the_remaining_budget_waits(
        self, cluster: LocalCluster, award: AwardAllocation
    ) -> None:
        big = cluster.backend.submit(spec(cluster, award, "#!/bin/bash\ntrue\n", gpus=8, minutes=5))
        assert poll(lambda: cluster.backend.job(big).reason != "None")
        info = cluster.backend.job(big)
        assert info.state is JobState.PENDING
        # The budget sits on the award's QOS (DESIGN: NoDecay QOS), hence QOS…, not Assoc….
        assert info.reason == "QOSGrpGRESMinutes"
        assert info.pending_reason is PendingReason.BUDGET
        small = cluster.backend.submit(
            spec(cluster, award, "#!/bin/bash\ntrue\n", gpus=1, minutes=1)
        )
        assert poll(lambda: finished(cluster.backend, small))  # within budget: it runs
        assert cluster.backend.job(small).state is JobState.COMPLETED
        assert cluster.backend.job(big).state is JobState.PENDING
        cluster.backend.cancel(big)
        assert poll(lambda: cluster.backend.job(big).state is JobState.CANCELLED)

    def test_ingest_matches_sacct(
        self,
        cluster: LocalCluster,
        award: AwardAllocation,
        started: datetime,
        cursor_file: Path,
        sink: InMemoryUsageSink,
    ) -> None:
        def ours() -> set[str]:
            return {k.job_id for k, r in sink.records.items() if r.account == award.account_name}

        def ingest_three() -> bool:
            ingest_accounting(
                cluster.backend, sink, FileCursorStore(cursor_file), SystemClock(), since=started
            )
            return len(ours()) == 3

        assert poll(ingest_three)
        text = cluster.backend.runner.run(
            [
                "sacct",
                "--parsable2",
                "--allusers",
                "--allocations",
                f"--accounts={award.account_name}",
                f"--starttime={started.strftime('%Y-%m-%dT%H:%M:%S')}",
                "--format=JobIDRaw,User,State,AllocTRES,ElapsedRaw,Submit",
            ]
        ).stdout
        rows = [line.split("|") for line in text.splitlines()[1:] if line]
        assert {r[0] for r in rows} == ours()
        records = {r.job_id: r for r in sink.records.values()}
        for job_id, user, state, alloc, elapsed, submit in rows:
            record = records[job_id]
            gpus = gpus_from_string(alloc).gpus if alloc else record.gpus
            assert record.user == user
            assert record.state.value == state.split()[0]
            assert record.submit_time == datetime.fromisoformat(submit).replace(tzinfo=UTC)
            assert record.gpus == gpus
            assert record.gpu_seconds == (gpus * int(elapsed) if alloc else 0)
            assert record.gpu_type == "h800"  # allocated, or requested when it never ran

    def test_ingest_again_adds_nothing(
        self,
        cluster: LocalCluster,
        award: AwardAllocation,
        cursor_file: Path,
        sink: InMemoryUsageSink,
    ) -> None:
        ours = {k: r for k, r in sink.records.items() if r.account == award.account_name}
        result = ingest_accounting(
            cluster.backend, sink, FileCursorStore(cursor_file), SystemClock()
        )
        # The run re-reads the overlap; what it had already seen is skipped, not re-offered.
        # (Older jobs of other tests on a shared cluster may be new to this sink: fine.)
        assert result.skipped >= len(ours) == 3
        assert {k: r for k, r in sink.records.items() if r.account == award.account_name} == ours
        assert sink.offered == len(sink.records)

    def test_reconcile_again_is_a_no_op(
        self, cluster: LocalCluster, award: AwardAllocation
    ) -> None:
        assert cluster.backend.plan(DesiredState((award,))).empty

    def test_a_paused_award_refuses_new_jobs_and_resumes(
        self, cluster: LocalCluster, award: AwardAllocation
    ) -> None:
        paused = AwardAllocation(
            award.account_name, award.org_account, award.members, award.gpu_minutes,
            state=AwardState.PAUSED,
        )  # fmt: skip
        plan = reconcile(cluster.backend, DesiredState((paused,)))
        assert [type(c) for c in plan.changes] == [UpdateQos]
        with pytest.raises(JobRejected, match=r"QOSGrpSubmitJobsLimit|policy"):
            cluster.backend.submit(spec(cluster, award, "#!/bin/bash\ntrue\n", gpus=1, minutes=1))
        reconcile(cluster.backend, DesiredState((award,)))
        assert cluster.backend.plan(DesiredState((award,))).empty

    def test_the_cli_shows_the_cluster_and_a_dry_run(
        self, cluster: LocalCluster, award: AwardAllocation, tmp_path: Path
    ) -> None:
        from typer.testing import CliRunner

        from computeport.cli.slurm import app

        runner = CliRunner()
        result = runner.invoke(app, ["status", "--json", "--conf", str(cluster.conf)])
        assert result.exit_code == 0, result.output
        assert '"gpus": 32' in result.output
        desired = tmp_path / "desired.yaml"
        desired.write_text(
            f"awards:\n  - {{account: {award.account_name}, organisation: {award.org_account},"
            f" members: [{MEMBER}], gpu_minutes: 20}}\n"
        )
        args = ["reconcile", "--dry-run", "--desired", str(desired), "--conf", str(cluster.conf)]
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
        assert f"~ qos {award.account_name}: 10 GPU-min" in result.output
        assert "not applied" in result.output
        assert cluster.backend.plan(DesiredState((award,))).empty  # nothing was applied

    def test_slurmrestd_agrees_with_the_cli(self, cluster: LocalCluster) -> None:
        from computeport.backends.slurm.rest import SlurmRestClient

        rest = SlurmRestClient(cluster.root / "rest" / "slurmrestd.sock")
        assert rest.ping()
        assert [n.name for n in rest.nodes()] == [n.name for n in cluster.backend.nodes()]
        # Two reads cannot be one instant: a job of another test may end between them, so the
        # two views must agree on one of a few bounded tries, not on the first.
        assert poll(
            lambda: {j.job_id for j in rest.jobs()} == {j.job_id for j in cluster.backend.jobs()},
            10,
        )

    # ------------------------------------------------------------------------------- faults

    def test_a_hung_controller_times_out_retries_then_says_so(self, cluster: LocalCluster) -> None:
        impatient = cluster.backend_with(timeout_seconds=1.0, attempts=2)
        pid = cluster.pid("slurmctld")
        os.kill(pid, signal.SIGSTOP)
        try:
            began = time.monotonic()
            with pytest.raises(BackendUnavailable) as err:
                impatient.jobs()
            assert "failed 2 times" in err.value.message
            assert "no answer within 1 s" in err.value.message
            assert time.monotonic() - began < 10
        finally:
            os.kill(pid, signal.SIGCONT)
        assert cluster.backend.jobs() is not None

    def test_slurmctld_down_is_a_clear_error_and_reconcile_converges_after(
        self, cluster: LocalCluster, award: AwardAllocation
    ) -> None:
        cluster.stop_daemon("slurmctld")
        try:
            # Slurm's client keeps retrying the connection itself, so the runner's timeout or
            # Slurm's own "Unable to contact" ends it, whichever comes first.
            with pytest.raises(
                BackendUnavailable, match=r"failed 2 times.*(Unable to contact|no answer within)"
            ):
                cluster.backend_with(timeout_seconds=2, attempts=2).jobs()
        finally:
            cluster.start()
        assert poll(lambda: len(cluster.backend.nodes()) == 4)
        assert cluster.backend.plan(DesiredState((award,))).empty

    def test_slurmdbd_down_loses_and_duplicates_nothing(
        self,
        cluster: LocalCluster,
        award: AwardAllocation,
        cursor_file: Path,
        sink: InMemoryUsageSink,
    ) -> None:
        before = dict(sink.records)
        cluster.stop_daemon("slurmdbd")
        try:
            # slurmctld keeps the job's records and hands them to slurmdbd once it is back.
            job_id = cluster.backend.submit(
                spec(cluster, award, "#!/bin/bash\ntrue\n", gpus=1, minutes=1)
            )
            assert poll(lambda: finished(cluster.backend, job_id))
            mark = FileCursorStore(cursor_file).load(cluster.name)
            with pytest.raises(BackendUnavailable):
                ingest_accounting(
                    cluster.backend_with(timeout_seconds=5, attempts=2),
                    sink,
                    FileCursorStore(cursor_file),
                    SystemClock(),
                )
            assert FileCursorStore(cursor_file).load(cluster.name) == mark
        finally:
            cluster.start()

        def arrived() -> bool:
            ingest_accounting(cluster.backend, sink, FileCursorStore(cursor_file), SystemClock())
            return any(r.job_id == job_id for r in sink.records.values())

        assert poll(arrived)
        assert set(sink.records) - set(before) == {
            k for k, r in sink.records.items() if r.job_id == job_id
        }
        assert sink.offered == len(sink.records)  # nothing was ever offered twice

    def test_the_award_is_removed_when_no_longer_desired(
        self, cluster: LocalCluster, award: AwardAllocation
    ) -> None:
        # A removal waits (deferred by the planner) until the award's last job is in sacct.
        assert poll(lambda: not reconcile(cluster.backend, DesiredState()).deferred)
        assert cluster.backend.plan(DesiredState()).empty
        accounts = cluster.backend.runner.run(
            ["sacctmgr", "--parsable2", "--noheader", "show", "assoc", "format=Account"]
        ).stdout.split()
        assert award.account_name not in accounts
        assert "root" in accounts


@pytest.mark.xdist_group("slurm")  # the module mark misses inherited tests: all on one worker
class TestSlurmContract(ClusterBackendContract):
    """The backend-agnostic contract, on the real cluster."""

    @pytest.fixture
    def harness(self, cluster: LocalCluster) -> ContractHarness:
        clock = SystemClock()
        return ContractHarness(
            backend=cluster.backend,
            member=MEMBER,
            settle=lambda done, seconds: poll(done, seconds),
            now=clock.now,
            workdir=str(cluster.workdir),
            recorded=lambda job_id: job_id in _sacct_job_ids(cluster, job_id),
        )


def _sacct_job_ids(cluster: LocalCluster, job_id: str) -> list[str]:
    """The allocation ids ``sacct`` (slurmdbd) knows for ``job_id``: empty until recorded."""
    argv = ["sacct", "--noheader", "--parsable2", "--allocations", "--format=JobIDRaw"]
    return cluster.backend.runner.run([*argv, f"--jobs={job_id}"]).stdout.split()
