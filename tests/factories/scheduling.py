"""Jobs for the scheduling core, written the way a table test reads (Kueue's ``wrappers.go``).

``job("A").gpus(8).run(100).limit(200).submit(0)`` is a pending request;
``job("R").gpus(8).limit(100).running(since=0, on=(0,))`` is a job a pass finds already running
(on node 0 since t = 0). Defaults: 1 GPU, 60 s of real run time, no time limit (the estimate is
then the run time), submitted at 0, subsidised, project ``""``.
"""

from __future__ import annotations

from typing import Self

from computeport.scheduling import Job, Qos


class JobBuilder:
    """A :class:`Job` under construction, plus where it runs when the pass starts (if it does)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._gpus = 1
        self._nodes = 0
        self._run_s = 60
        self._limit_s = 0
        self._submit_s = 0
        self._qos = Qos.SUBSIDISED
        self._project = ""
        self.since: int | None = None
        """When it started (``None``: pending)."""
        self.on: tuple[int, ...] = ()
        """The nodes it runs on (placement ``node``; empty with ``pool``)."""

    def gpus(self, n: int) -> Self:
        self._gpus = n
        return self

    def nodes(self, n: int) -> Self:
        """Ask for ``n`` whole nodes (a gang), whatever the GPU count."""
        self._nodes = n
        return self

    def run(self, seconds: int) -> Self:
        """The real run time (the scheduler never reads it unless there is no limit)."""
        self._run_s = seconds
        return self

    def limit(self, seconds: int) -> Self:
        """The requested time limit: the estimate the scheduler plans with."""
        self._limit_s = seconds
        return self

    def submit(self, at_s: int) -> Self:
        self._submit_s = at_s
        return self

    def qos(self, qos: Qos) -> Self:
        self._qos = qos
        return self

    def project(self, name: str) -> Self:
        self._project = name
        return self

    def running(self, *, since: int, on: tuple[int, ...] = ()) -> Self:
        """Already running when the pass starts: since ``since`` on nodes ``on``."""
        self.since = since
        self.on = on
        return self

    def obj(self) -> Job:
        return Job(
            self.name,
            submit_s=self._submit_s,
            gpus=self._gpus,
            run_s=self._run_s,
            time_limit_s=self._limit_s,
            nodes=self._nodes,
            project=self._project,
            qos=self._qos,
        )


def job(name: str) -> JobBuilder:
    return JobBuilder(name)
