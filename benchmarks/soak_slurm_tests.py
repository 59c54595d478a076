"""Run the real-Slurm tests N times in a row on one fresh local cluster; print a pass table.

A flaky Slurm test throws a whole CI run away, so "it passed once" says little: this soak
starts a throw-away cluster (``scripts/slurm-cluster start`` in a new ``SLURM_CI_DIR``), runs
every ``-m slurm`` test ``--runs`` times (default 20) one after another against it, and prints
per run (passed / failed / errors / skipped, seconds) and per failing test (how often, the first
message).  A run counts as green only when nothing failed *and* nothing was skipped (a skipped
Slurm test means the cluster was not reachable: it proves nothing).  The cluster is stopped with
``--purge`` however the soak ends.  Not part of CI; run it by hand::

    scripts/slurm-soak                 # 20 runs
    scripts/slurm-soak --runs 5 --json var/soak.json
    scripts/slurm-soak -- -k Contract  # extra pytest arguments after --
"""

from __future__ import annotations

import argparse
import json
import os
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
from rich.table import Table

REPO = Path(__file__).resolve().parents[1]
CLUSTER_SCRIPT = REPO / "scripts" / "slurm-cluster"
DEFAULT_TESTS = ("tests/integration", "tests/backends", "tests/capacity/test_fanout.py")


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


def soak(
    runs: int,
    tests: list[str],
    pytest_args: list[str],
    console: Console,
    budget_minutes: float | None = None,
) -> list[Run]:
    """Start a fresh cluster, run the Slurm tests ``runs`` times, stop and purge the cluster.

    With ``budget_minutes``, no run starts that would, at the mean duration so far, end after
    the budget: the soak then reports fewer runs than asked, and says so.  SIGTERM (or Ctrl-C)
    stops it after the current run's result, with the table printed and the cluster purged.
    """
    state = Path(tempfile.mkdtemp(prefix="computeport-soak."))
    env = {**os.environ, "SLURM_CI_DIR": str(state), "COMPUTEPORT_TEST_SLURM_DIR": str(state)}
    results: list[Run] = []
    began_all = time.monotonic()
    stop: list[int] = []
    signal.signal(signal.SIGTERM, lambda signum, _frame: stop.append(signum))
    try:
        cluster("start", env)
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
            began = time.monotonic()
            proc = subprocess.run(  # an argv list: our own interpreter and pytest
                [sys.executable, "-m", "pytest", "-q", "-n", "0", "-m", "slurm",
                 f"--junitxml={junit}", *tests, *pytest_args],
                cwd=REPO, env=env, capture_output=True, text=True, check=False,
            )  # fmt: skip
            run = Run(n, proc.returncode, time.monotonic() - began)
            read_junit(junit, run)
            results.append(run)
            mark = "[green]pass[/]" if run.green else "[red]FAIL[/]"
            console.print(
                f"run {n:>2}/{runs}: {mark}  {run.passed} passed, {run.failed} failed, "
                f"{run.errors} errors, {run.skipped} skipped in {run.seconds:.0f} s"
            )
            if not run.green and not run.failures:
                console.print(proc.stdout[-2000:] + proc.stderr[-2000:], markup=False)
    finally:
        cluster("stop", env, "--purge")
    return results


def report(results: list[Run], runs: int, console: Console) -> None:
    table = Table(title=f"Slurm tests, {len(results)} run(s) on one fresh cluster")
    for column in ("run", "result", "passed", "failed", "errors", "skipped", "seconds"):
        table.add_column(column, justify="left" if column == "result" else "right")
    for r in results:
        table.add_row(
            str(r.number), "pass" if r.green else "FAIL", str(r.passed), str(r.failed),
            str(r.errors), str(r.skipped), f"{r.seconds:.0f}",
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
    ns = parser.parse_args(args)
    if ns.runs < 1:
        parser.error("--runs: must be at least 1")
    console = Console()
    results = soak(ns.runs, ns.tests, extra, console, ns.budget_minutes)
    report(results, ns.runs, console)
    if ns.json is not None:
        ns.json.parent.mkdir(parents=True, exist_ok=True)
        ns.json.write_text(json.dumps([asdict(r) for r in results], indent=2))
    return 0 if len(results) == ns.runs and all(r.green for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
