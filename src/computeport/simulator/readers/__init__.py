"""Workload readers: one contract for every format (DESIGN.md "Simulator input and output").

* ``csv``: submit ``submit_s``, run ``duration_s``, GPUs ``gpus``, estimate ``time_limit_s``
  if present, group ``group``; skipped: run ≤ 0, gpus ≤ 0.
* ``philly``: submit ``timestamp`` (UTC), run ``duration``, GPUs ``num_gpus``, no estimate,
  group ``cluster`` (virtual cluster); skipped: run ≤ 0.
* ``alibaba``: submit ``creation_time``, run ``deletion_time − scheduled_time``, GPUs
  ``num_gpu`` (a fractional share counts as 1), no estimate, group ``qos``; skipped:
  ``num_gpu`` = 0, never scheduled.
* ``swf``: submit field 2, run field 4, GPUs field 5 else field 8, estimate field 9 if > 0,
  group field 13; skipped: run ≤ 0, processors ≤ 0.

Times are rebased so the first submission is 0, except ``csv``, which keeps its own
``submit_s``. Jobs keep the file's order (the engine orders arrivals stably by submit time,
which is the stable sort DESIGN.md asks of Philly). A bad record raises
:class:`computeport.kit.errors.ValidationFailed` naming the line (``field="line 12"``).
"""

from __future__ import annotations

from pathlib import Path

from computeport.kit.errors import ValidationFailed
from computeport.simulator.readers.alibaba import read_alibaba
from computeport.simulator.readers.canonical import read_csv
from computeport.simulator.readers.philly import read_philly
from computeport.simulator.readers.swf import read_swf
from computeport.simulator.readers.workload import Workload

__all__ = [
    "FORMATS",
    "Workload",
    "read_alibaba",
    "read_csv",
    "read_philly",
    "read_swf",
    "read_trace",
]

FORMATS = ("swf", "philly", "alibaba", "csv")


def read_trace(path: Path | str, fmt: str) -> Workload:
    """Read a trace in one of :data:`FORMATS`."""
    path = Path(path)
    if fmt == "swf":
        return read_swf(path)
    if fmt == "philly":
        return read_philly(path)
    if fmt == "alibaba":
        return read_alibaba(path)
    if fmt == "csv":
        return read_csv(path)
    raise ValidationFailed(f"unknown format {fmt!r} (one of {', '.join(FORMATS)})", field="format")
