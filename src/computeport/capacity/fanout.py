"""Fan-out of independent runs (seeds, scenarios): a :class:`Runner` protocol and three engines.

Seeds and scenarios never talk to each other, so a sweep is a map of a module-level function
over JSON-able payloads:

* :class:`SequentialRunner` — in this process (tests, debugging; the reference result);
* :class:`LocalRunner` — a ``ProcessPoolExecutor`` over all cores (the default);
* :class:`SlurmArrayRunner` — when a sweep outgrows one machine: one Slurm array element per
  payload (``sbatch --wait --array=0-N``, argv lists, never a shell string); each element reads
  ``task-<i>.json`` from a shared folder and writes ``result-<i>.json`` beside it, which the
  runner collects once ``sbatch --wait`` returns.

We chose Slurm arrays over Ray: the centre already runs Slurm (the production back end), array
jobs need nothing installed beyond the package on a shared file system, and they respect the
centre's own queue and accounting.
"""

from __future__ import annotations

import importlib
import json
import math
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any, Protocol

from computeport.capacity.errors import FanoutFailed

__all__ = [
    "LocalRunner",
    "Payload",
    "Runner",
    "SequentialRunner",
    "SlurmArrayRunner",
    "TaskFn",
    "balanced_chunks",
    "slurm_worker_main",
]

Payload = dict[str, Any]
TaskFn = Callable[[Payload], Payload]
Progress = Callable[[int, int], None]


class Runner(Protocol):
    """Maps a module-level function over payloads; results in payload order."""

    workers: int

    def map(
        self, fn: TaskFn, payloads: Sequence[Payload], progress: Progress | None = None
    ) -> list[Payload]: ...


class SequentialRunner:
    """Runs every payload here, in order."""

    workers = 1

    def map(
        self, fn: TaskFn, payloads: Sequence[Payload], progress: Progress | None = None
    ) -> list[Payload]:
        out = []
        for i, p in enumerate(payloads):
            out.append(fn(p))
            if progress is not None:
                progress(i + 1, len(payloads))
        return out


class LocalRunner:
    """A process pool over ``workers`` processes (default: every core).

    The pool starts on first use and is kept for later maps (a search makes many small ones);
    :meth:`close` (or ``with``) ends it.
    """

    def __init__(self, workers: int | None = None) -> None:
        self.workers = max(1, workers or os.cpu_count() or 1)
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> LocalRunner:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    def map(
        self, fn: TaskFn, payloads: Sequence[Payload], progress: Progress | None = None
    ) -> list[Payload]:
        if self.workers == 1 or len(payloads) <= 1:
            return SequentialRunner().map(fn, payloads, progress)
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=self.workers)
        out: list[Payload | None] = [None] * len(payloads)
        futures = {self._pool.submit(fn, p): i for i, p in enumerate(payloads)}
        for done, fut in enumerate(as_completed(futures), 1):
            out[futures[fut]] = fut.result()
            if progress is not None:
                progress(done, len(payloads))
        return [r for r in out if r is not None]


def _qualified(fn: TaskFn) -> str:
    module = getattr(fn, "__module__", None)
    name = getattr(fn, "__qualname__", "")
    if not module or "<" in name or module == "__main__":
        raise FanoutFailed(f"{fn!r} is not a module-level function; Slurm tasks import it by name")
    return f"{module}:{name}"


class SlurmArrayRunner:
    """One Slurm array element per payload, results collected from a shared folder.

    Args:
        folder: a folder every node sees (tasks, results and logs go there).
        python: the interpreter on the nodes (default: this one, for a shared venv).
        sbatch: the ``sbatch`` program.
        extra_args: more ``sbatch`` options (``["--partition=gpu", "--time=01:00:00"]``).
        slurm_conf: the ``slurm.conf`` to use (``SLURM_CONF``; default: Slurm's own).
        run: how to run an argv (injected in tests).
    """

    def __init__(
        self,
        folder: Path,
        *,
        python: str = sys.executable,
        sbatch: str = "sbatch",
        extra_args: Sequence[str] = (),
        workers: int = 1,
        slurm_conf: Path | None = None,
        run: Callable[[list[str], dict[str, str]], subprocess.CompletedProcess[str]] | None = None,
    ) -> None:
        self.folder = Path(folder)
        self.python = python
        self.sbatch = sbatch
        self.extra_args = list(extra_args)
        self.workers = workers
        self.slurm_conf = slurm_conf
        self._run = run or _run

    def argv(self, n: int) -> list[str]:
        """The ``sbatch`` command for ``n`` tasks (an argv list)."""
        return [
            self.sbatch,
            "--wait",
            f"--array=0-{n - 1}",
            "--job-name=computeport-capacity",
            f"--output={self.folder / 'slurm-%A_%a.out'}",
            *self.extra_args,
            str(self.folder / "task.py"),
            str(self.folder),
        ]

    def map(
        self, fn: TaskFn, payloads: Sequence[Payload], progress: Progress | None = None
    ) -> list[Payload]:
        if not payloads:
            return []
        self.folder.mkdir(parents=True, exist_ok=True)
        target = _qualified(fn)
        for i, p in enumerate(payloads):
            (self.folder / f"task-{i}.json").write_text(json.dumps({"fn": target, "payload": p}))
            (self.folder / f"result-{i}.json").unlink(missing_ok=True)
        script = self.folder / "task.py"
        script.write_text(
            f"#!{self.python}\n"
            "from computeport.capacity.fanout import slurm_worker_main\n"
            "slurm_worker_main()\n"
        )
        script.chmod(0o755)
        env = dict(os.environ)
        if self.slurm_conf is not None:
            env["SLURM_CONF"] = str(self.slurm_conf)
        proc = self._run(self.argv(len(payloads)), env)
        if proc.returncode != 0:
            raise FanoutFailed(f"sbatch failed ({proc.returncode}): {proc.stderr.strip()}")
        out = []
        for i in range(len(payloads)):
            path = self.folder / f"result-{i}.json"
            if not path.exists():
                raise FanoutFailed(
                    f"array task {i} wrote no result (see {self.folder}/slurm-*_{i}.out)"
                )
            out.append(json.loads(path.read_text()))
            if progress is not None:
                progress(i + 1, len(payloads))
        return out


def _run(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # An argv list, never a shell: nothing here is interpreted by /bin/sh.
    return subprocess.run(argv, capture_output=True, text=True, check=False, env=env)  # noqa: S603


def slurm_worker_main(argv: Sequence[str] | None = None) -> None:
    """Entry of one array element: run ``task-$SLURM_ARRAY_TASK_ID.json`` from the folder."""
    args = list(argv if argv is not None else sys.argv[1:])
    folder = Path(args[0])
    index = int(os.environ["SLURM_ARRAY_TASK_ID"])
    task = json.loads((folder / f"task-{index}.json").read_text())
    module, _, name = task["fn"].partition(":")
    fn: TaskFn = getattr(importlib.import_module(module), name)
    result = fn(task["payload"])
    tmp = folder / f".result-{index}.json.tmp"
    tmp.write_text(json.dumps(result))
    tmp.replace(folder / f"result-{index}.json")


def balanced_chunks(lengths: Sequence[int], chunks: int, workers: int) -> int:
    """Chunks per seed, raised until the tasks fill every worker in each round.

    Three seeds of 11 months on two workers as three tasks leave one worker idle for the
    last (a third of the wall time of the search's window checks); as six tasks of 5–6
    months they keep both busy. Grouping never changes a month's outcome.
    """

    def tasks(c: int) -> int:
        return sum(math.ceil(n / math.ceil(n / c)) for n in lengths)

    most = max(lengths, default=1)
    while workers > 1 and chunks < most and tasks(chunks) % workers:
        chunks += 1
    return chunks
