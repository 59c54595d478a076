"""Run the real-Slurm tests N times in a row on fresh local clusters; print a pass table.

A flaky Slurm test throws a whole CI run away, so "it passed once" says little: this soak
starts two throw-away clusters as scripts/test does (``scripts/slurm-cluster start`` in new
``SLURM_CI_DIR`` folders: the default one, and the one-node second cluster that
tests/integration/test_two_clusters.py needs), runs every ``-m slurm`` test ``--runs`` times
(default 20) one after another against them, and prints per run (passed / failed / errors /
skipped, seconds, the load average at its start, the Slurm fidelity check's numbers) and per
failing test (how often, the first message).  A run counts as green only when nothing failed
*and* nothing was skipped (a skipped Slurm test means a cluster or a database was not
reachable: it proves nothing).  Both clusters are stopped with ``--purge`` however the soak
ends.  Not part of CI; run it by hand::

    scripts/slurm-soak                 # 20 runs
    scripts/slurm-soak --runs 5 --json var/soak.json --records var/soak-sacct
    scripts/slurm-soak -- -k Contract  # extra pytest arguments after --

The clusters' settings come from the environment as scripts/slurm-cluster reads them: the first
from ``SLURM_CI_*`` (ports, scheduler knobs), the second from the same names with ``SLURM_CI_B_``
(``SLURM_CI_B_DB_PORT`` …; defaults: scripts/test's second cluster, ``cpcib`` on 13316, 16839,
16837, 17101), so a soak can run beside CI's clusters on ports of its own.  The state folders
are made under ``--state-dir`` (default: the temporary folder).  The tests use PostgreSQL and
Redis where ``COMPUTEPORT_TEST_DATABASE_URL`` and ``COMPUTEPORT_TEST_REDIS_URL`` say.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

REPO = Path(__file__).resolve().parents[1]
CLUSTER_SCRIPT = REPO / "scripts" / "slurm-cluster"
DEFAULT_TESTS = (
    "tests/integration",
    "tests/backends",
    "tests/capacity/test_fanout.py",
    "tests/gateway/test_slurm_deployment.py",
)
SECOND = {
    "SLURM_CI_CLUSTER": "cpcib",
    "SLURM_CI_NODES": "1",
    "SLURM_CI_DB_PORT": "13316",
    "SLURM_CI_DBD_PORT": "16839",
    "SLURM_CI_CTLD_PORT": "16837",
    "SLURM_CI_SLURMD_PORT": "17101",
}
"""The second cluster's settings (scripts/test's), each overridden by ``SLURM_CI_B_<NAME>``."""
RECORDED = (
    "SLURM_CI_CLUSTER", "SLURM_CI_NODES", "SLURM_CI_GPUS_PER_NODE", "SLURM_CI_GPU_TYPE",
    "SLURM_CI_DB_PORT", "SLURM_CI_DBD_PORT", "SLURM_CI_CTLD_PORT", "SLURM_CI_SLURMD_PORT",
)  # fmt: skip
"""What scripts/slurm-cluster records in a cluster's ``cluster.env``: the tests restart either
cluster by its ``SLURM_CI_DIR`` alone, so these must not reach them from the environment (they
would win over the record, and the second cluster would restart on the first one's ports)."""
FIDELITY = "slurm_fidelity"
"""The property the fidelity check attaches to its test (ρ and mean wait error)."""


@dataclass
class Run:
    """One pytest run of the Slurm tests."""

    number: int
    returncode: int
    seconds: float
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    load: float = 0.0
    """The one-minute load average when the run began (timings here are taken on a shared
    machine: a run that fails only under load is the case CI may meet too)."""
    fidelity: str = ""
    """The Slurm fidelity check's line (start error, ρ, mean wait Slurm → model)."""

    @property
    def fidelity_short(self) -> str:
        """ρ and the mean wait error of :attr:`fidelity` (a table cell)."""
        rho = re.search(r"rank correlation ([-\d.]+)", self.fidelity)
        wait = re.search(r"\(([-+][\d.]+%)\)$", self.fidelity)
        return f"ρ {rho.group(1)}, {wait.group(1)}" if rho and wait else self.fidelity

    failures: dict[str, str] = field(default_factory=dict)
    """Test id → the first line of its failure message."""

    @property
    def green(self) -> bool:
        return self.returncode == 0 and not (self.failed or self.errors or self.skipped)


def read_junit(path: Path, run: Run) -> None:
    """Fill ``run``'s counts and failures from pytest's junit XML."""
    if not path.exists():
        return
    root = ET.parse(path).getroot()  # our own pytest's junit file
    for case in root.iter("testcase"):
        test_id = f"{case.get('classname', '')}::{case.get('name', '')}"
        outcomes = {child.tag: child for child in case}
        for prop in case.iter("property"):
            if prop.get("name") == FIDELITY:
                run.fidelity = prop.get("value", "")
        if "skipped" in outcomes:
            run.skipped += 1
        elif "failure" in outcomes or "error" in outcomes:
            tag = "failure" if "failure" in outcomes else "error"
            if tag == "failure":
                run.failed += 1
            else:
                run.errors += 1
            message = outcomes[tag].get("message", "")
            run.failures[test_id] = (message.splitlines() or [tag])[0][:160]
        else:
            run.passed += 1


def cluster(command: str, env: dict[str, str], *extra: str) -> None:
    subprocess.run([str(CLUSTER_SCRIPT), command, *extra], env=env, check=True)


def second_cluster_env(environ: dict[str, str], state: Path) -> dict[str, str]:
    """The environment that starts the second cluster: none of the first's ``SLURM_CI_*``
    (its ports would clash), :data:`SECOND`'s settings, each overridden by ``SLURM_CI_B_*``."""
    env = {k: v for k, v in environ.items() if not k.startswith("SLURM_CI_")}
    for name, default in SECOND.items():
        env[name] = environ.get(name.replace("SLURM_CI_", "SLURM_CI_B_", 1), default)
    env["SLURM_CI_DIR"] = str(state)
    return env


def soak(
    runs: int,
    tests: list[str],
    pytest_args: list[str],
    console: Console,
    budget_minutes: float | None = None,
    state_dir: Path | None = None,
    records: Path | None = None,
) -> list[Run]:
    """Start two fresh clusters, run the Slurm tests ``runs`` times, stop and purge them.

    With ``budget_minutes``, no run starts that would, at the mean duration so far, end after
    the budget: the soak then reports fewer runs than asked, and says so.  SIGTERM (or Ctrl-C)
    stops it after the current run's result, with the table printed and the clusters purged.
    With ``records``, the fidelity check writes each run's sacct lines there (``run-N.txt``).
    """
    state = Path(tempfile.mkdtemp(prefix="computeport-soak.", dir=state_dir))
    state_b = Path(tempfile.mkdtemp(prefix="computeport-soak-b.", dir=state_dir))
    env = {
        **os.environ,
        "SLURM_CI_DIR": str(state),
        "COMPUTEPORT_TEST_SLURM_DIR": str(state),
        "COMPUTEPORT_TEST_SLURM_DIR_B": str(state_b),
    }
    env_b = second_cluster_env(dict(os.environ), state_b)
    results: list[Run] = []
    began_all = time.monotonic()
    stop: list[int] = []
    signal.signal(signal.SIGTERM, lambda signum, _frame: stop.append(signum))
    if records is not None:
        records.mkdir(parents=True, exist_ok=True)
    try:
        cluster("start", env)
        cluster("start", env_b)
        for n in range(1, runs + 1):
            if stop:
                console.print("[yellow]stopped by a signal[/]")
                break
            if budget_minutes is not None and results:
                mean = sum(r.seconds for r in results) / len(results)
                if time.monotonic() - began_all + mean > budget_minutes * 60:
                    console.print(f"[yellow]time budget of {budget_minutes:g} min reached[/]")
                    break
            junit = state / f"junit-{n}.xml"
            run_env = {k: v for k, v in env.items() if k not in RECORDED}
            if records is not None:
                run_env["COMPUTEPORT_TEST_FIDELITY_RECORD"] = str(records / f"run-{n}.txt")
            load = os.getloadavg()[0]
            began = time.monotonic()
            proc = subprocess.run(  # an argv list: our own interpreter and pytest
                [sys.executable, "-m", "pytest", "-q", "-n", "0", "-m", "slurm",
                 "-p", "no:cacheprovider", f"--junitxml={junit}", *tests, *pytest_args],
                cwd=REPO, env=run_env, capture_output=True, text=True, check=False,
            )  # fmt: skip
            run = Run(n, proc.returncode, time.monotonic() - began, load=load)
            read_junit(junit, run)
            results.append(run)
            mark = "[green]pass[/]" if run.green else "[red]FAIL[/]"
            console.print(
                f"run {n:>2}/{runs}: {mark}  {run.passed} passed, {run.failed} failed, "
                f"{run.errors} errors, {run.skipped} skipped in {run.seconds:.0f} s "
                f"(load {load:.1f}); fidelity: {escape(run.fidelity or '-')}"
            )
            if not run.green and not run.failures:
                console.print(proc.stdout[-2000:] + proc.stderr[-2000:], markup=False)
    finally:
        cluster("stop", env, "--purge")
        cluster("stop", env_b, "--purge")
    return results


def report(results: list[Run], runs: int, console: Console) -> None:
    table = Table(title=f"Slurm tests, {len(results)} run(s) on one fresh cluster")
    columns = ("run", "result", "passed", "failed", "errors", "skipped", "seconds", "load")
    for column in (*columns, "fidelity"):
        table.add_column(column, justify="right" if column in columns[2:] else "left")
    for r in results:
        table.add_row(
            str(r.number), "pass" if r.green else "FAIL", str(r.passed), str(r.failed),
            str(r.errors), str(r.skipped), f"{r.seconds:.0f}", f"{r.load:.1f}", r.fidelity_short,
        )  # fmt: skip
    console.print(table)
    counts = Counter(t for r in results for t in r.failures)
    if counts:
        failing = Table(title="Failing tests")
        failing.add_column("test")
        failing.add_column("runs failed", justify="right")
        failing.add_column("first message")
        first = {t: m for r in reversed(results) for t, m in r.failures.items()}
        for test, count in counts.most_common():
            failing.add_row(test, str(count), first[test])
        console.print(failing)
    green = sum(r.green for r in results)
    colour = "green" if green == len(results) == runs else "red"
    console.print(f"[bold {colour}]{green}/{len(results)} runs passed[/] ({runs} asked)")


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    extra: list[str] = []
    if "--" in args:
        cut = args.index("--")
        args, extra = args[:cut], args[cut + 1 :]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="how many runs (default 20)")
    parser.add_argument("--tests", nargs="+", default=list(DEFAULT_TESTS), help="test paths")
    parser.add_argument("--json", type=Path, help="also write the runs to this JSON file")
    parser.add_argument(
        "--budget-minutes", type=float, help="start no run that would end after this many minutes"
    )
    parser.add_argument(
        "--state-dir", type=Path, help="make the clusters' state folders here (default: TMPDIR)"
    )
    parser.add_argument(
        "--records", type=Path, help="keep each run's fidelity sacct lines in this folder"
    )
    ns = parser.parse_args(args)
    if ns.runs < 1:
        parser.error("--runs: must be at least 1")
    console = Console()
    results = soak(ns.runs, ns.tests, extra, console, ns.budget_minutes, ns.state_dir, ns.records)
    report(results, ns.runs, console)
    if ns.json is not None:
        ns.json.parent.mkdir(parents=True, exist_ok=True)
        ns.json.write_text(json.dumps([asdict(r) for r in results], indent=2))
    return 0 if len(results) == ns.runs and all(r.green for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
