"""One deployment's cluster back end, chosen by ``Settings.backend`` (``sim`` or ``slurm``).

The single-cluster door to :mod:`computeport.backends.registry` (which knows both back ends):
everything above gets a :class:`~computeport.backends.protocol.ClusterBackend` and the
centre's clock.  With ``sim`` the clock is the virtual cluster's accelerated clock, so awards,
billing and the portal all live in the same (simulated) time; with ``slurm`` it is the wall
clock.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from computeport.backends.protocol import ClusterBackend
from computeport.backends.registry import build_backend, default_connection
from computeport.backends.types.desired import DesiredState
from computeport.kit.clock import Clock
from computeport.settings import Settings

__all__ = ["open_backend"]


def open_backend(
    settings: Settings,
    sessions: sessionmaker[Session],
    clock: Clock | None = None,
    *,
    desired: Callable[[datetime], DesiredState],
    history: timedelta | None = None,
) -> tuple[ClusterBackend, Clock]:
    """The back end and the clock the application should run on.

    ``desired(now)`` is the awards' desired state (the award domain's
    :func:`computeport.award.desired.desired_state_reader`, passed in by the edge): a new virtual
    cluster provisions it when it first opens.  Slurm is reconciled by the worker instead, and
    back ends never read tables themselves.
    """
    return build_backend(
        default_connection(settings), sessions, clock, desired=desired, history=history
    )
