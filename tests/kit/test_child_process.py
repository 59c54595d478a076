"""A helper process started with :mod:`computeport.kit.child_process`'s ``preexec_fn`` ends
when the process that started it is killed outright (SIGKILL: no handler, no cleanup of ours
runs), instead of running on, reparented, after a demo or a test is gone."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="prctl(PR_SET_PDEATHSIG)")

# The parent: starts a long sleep with the given preexec_fn, says the child's pid, waits.
PARENT = textwrap.dedent(
    """
    import subprocess, sys
    from computeport.kit import child_process
    child = subprocess.Popen(["sleep", "600"], preexec_fn=getattr(child_process, sys.argv[1]))
    print(child.pid, flush=True)
    child.wait()
    """
)


def _nice(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as stat:
        return int(stat.read().rsplit(")", 1)[1].split()[16])  # field 19: nice


@pytest.mark.parametrize(
    ("preexec", "nice"),
    [("die_with_parent", 0), ("lowest_priority_dying_with_parent", 19)],
)
def test_the_child_ends_when_its_parent_is_killed(preexec: str, nice: int) -> None:
    with subprocess.Popen(
        [sys.executable, "-c", PARENT, preexec], stdout=subprocess.PIPE, text=True
    ) as parent:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        gone = os.pidfd_open(child)  # readable once the child has ended (not ours to reap)
        try:
            assert _nice(child) == nice + os.nice(0)
            parent.kill()
            readable, _, _ = select.select([gone], [], [], 30)
            assert readable, "the child outlived its killed parent"
        finally:
            os.close(gone)
            if not _ended(child):
                os.kill(child, signal.SIGKILL)


def _ended(pid: int) -> bool:
    """Whether ``pid`` has ended (gone, or a zombie nobody has reaped yet)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True
