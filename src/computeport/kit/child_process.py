"""What a child process we start must do before it runs: die with us.

Why: the demo, the tests and the benchmarks start helper processes (a speech server, the
demo's background capacity plan).  When the parent is killed outright, or exits while a
helper still runs, the helper is reparented and goes on: a capacity plan left behind by a
demo test kept running for minutes after the test suite had ended, competing with whatever
came next.  Linux can tie a child's life to its parent's (``prctl(PR_SET_PDEATHSIG)``); the
kernel sends the signal, so even SIGKILL of the parent leaves nothing behind.
"""

from __future__ import annotations

import os
import signal
import sys

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """In the child, before exec (``preexec_fn``): SIGTERM once the thread that started it
    is gone (on Linux; elsewhere nothing)."""
    if sys.platform == "linux":
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def lowest_priority_dying_with_parent() -> None:
    """``preexec_fn`` of background work: the lowest CPU priority, and gone with its parent."""
    os.nice(19)
    die_with_parent()


__all__ = ["die_with_parent", "lowest_priority_dying_with_parent"]
