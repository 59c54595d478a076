"""Name rules shared by the desired state and job specs (Slurm's and POSIX's)."""

from __future__ import annotations

import re

__all__ = ["ACCOUNT_NAME", "POSIX_USER"]

ACCOUNT_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
"""A cluster account, QOS or reservation name computeport generates."""

POSIX_USER = re.compile(r"^[a-z_][a-z0-9_.-]{0,31}\$?$")
"""A POSIX user name (what Slurm associations and job owners are)."""
