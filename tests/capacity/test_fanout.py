"""Fan-out engines: local pool and Slurm array jobs give what a sequential run gives."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from computeport.capacity.errors import FanoutFailed
from computeport.capacity.evaluate import evaluate_months
from computeport.capacity.fanout import (
    LocalRunner,
    Payload,
    SequentialRunner,
    SlurmArrayRunner,
    slurm_worker_main,
)
from computeport.capacity.supply import supply_plan
from tests.capacity.conftest import SMALL_MODEL, small_scenario
from tests.support.databases import require


def square(payload: Payload) -> Payload:
    return {"x": payload["x"], "y": payload["x"] ** 2, "pid": os.getpid()}


PAYLOADS = [{"x": i} for i in range(7)]


def _ys(results: list[Payload]) -> list[tuple[int, int]]:
    return [(r["x"], r["y"]) for r in results]


class TestLocal:
    def test_pool_keeps_order_and_uses_other_processes(self) -> None:
        with LocalRunner(2) as runner:
            got = runner.map(square, PAYLOADS)
        assert _ys(got) == _ys(SequentialRunner().map(square, PAYLOADS))
        assert {r["pid"] for r in got} != {os.getpid()}

    def test_progress_counts_every_payload(self) -> None:
        seen: list[tuple[int, int]] = []
        with LocalRunner(2) as runner:
            runner.map(square, PAYLOADS, progress=lambda d, t: seen.append((d, t)))
        assert [d for d, _ in seen] == list(range(1, 8))
        assert {t for _, t in seen} == {7}


class TestSlurmArray:
    def test_one_array_element_per_payload_through_the_shared_folder(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        calls: list[list[str]] = []

        def fake_sbatch(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
            calls.append(argv)
            assert env["SLURM_CONF"] == "/etc/slurm/test.conf"
            n = int(next(a for a in argv if a.startswith("--array=0-")).split("-")[-1]) + 1
            for i in range(n):  # what each array element does on a node
                monkeypatch.setenv("SLURM_ARRAY_TASK_ID", str(i))
                slurm_worker_main([argv[-1]])
            return subprocess.CompletedProcess(argv, 0, "", "")

        runner = SlurmArrayRunner(
            tmp_path / "sweep",
            slurm_conf=Path("/etc/slurm/test.conf"),
            extra_args=["--time=00:10:00"],
            run=fake_sbatch,
        )
        got = runner.map(square, PAYLOADS)

        assert _ys(got) == _ys(SequentialRunner().map(square, PAYLOADS))
        (argv,) = calls
        assert argv[:3] == ["sbatch", "--wait", "--array=0-6"]
        assert "--time=00:10:00" in argv
        assert argv[-2:] == [str(tmp_path / "sweep" / "task.py"), str(tmp_path / "sweep")]

    def test_a_missing_result_names_the_task(self, tmp_path: Path) -> None:
        def lazy(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
            return subprocess.CompletedProcess(argv, 0, "", "")

        with pytest.raises(FanoutFailed, match="array task 0 wrote no result"):
            SlurmArrayRunner(tmp_path, run=lazy).map(square, PAYLOADS[:1])

    def test_sbatch_failure_is_reported(self, tmp_path: Path) -> None:
        def refuse(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
            return subprocess.CompletedProcess(argv, 1, "", "sbatch: error: invalid partition")

        with pytest.raises(FanoutFailed, match="invalid partition"):
            SlurmArrayRunner(tmp_path, run=refuse).map(square, PAYLOADS[:1])

    def test_only_module_level_functions_travel(self, tmp_path: Path) -> None:
        with pytest.raises(FanoutFailed, match="module-level"):
            SlurmArrayRunner(tmp_path).map(lambda p: p, PAYLOADS[:1])


@pytest.mark.slurm
@pytest.mark.xdist_group("slurm")  # never beside the contract tests, which reserve whole nodes
def test_real_local_cluster_gives_the_sequential_plan(tmp_path: Path) -> None:
    """``COMPUTEPORT_TEST_SLURM_DIR=<dir of scripts/slurm-cluster>`` runs it on real Slurm."""
    raw = os.environ.get("COMPUTEPORT_TEST_SLURM_DIR", "")
    conf = Path(raw) / "etc" / "slurm.conf" if raw else None
    require(
        conf is not None and conf.exists(), "the local Slurm test cluster (scripts/slurm-cluster)"
    )
    assert conf is not None
    s = small_scenario(
        months=2,
        evaluation={
            "seeds": 3,
            "model": "coarse",
            "sample_days": 1,
            "warmup_days": 0.5,
            "aggregate_below_gpu_hours": 1,
        },
    )
    supply = supply_plan(s)
    slurm = SlurmArrayRunner(tmp_path / "sweep", slurm_conf=conf, extra_args=["--time=00:05:00"])
    got = evaluate_months(s, supply, SMALL_MODEL, seeds=range(3), runner=slurm)
    want = evaluate_months(s, supply, SMALL_MODEL, seeds=range(3), runner=SequentialRunner())
    assert got.months == want.months
    assert len(list((tmp_path / "sweep").glob("slurm-*_*.out"))) == 3  # one element per seed
