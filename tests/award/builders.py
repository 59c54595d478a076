"""Moved to :mod:`tests.factories.award` (builders live per domain under ``tests/factories``)."""

# removed when house-backends lands: tests/backends/slurm/test_desired.py still imports this path.
from tests.factories.award import (
    START,
    T0,
    application,
    approval,
    approved_award,
    org_admin,
    scheme,
)

__all__ = ["START", "T0", "application", "approval", "approved_award", "org_admin", "scheme"]
