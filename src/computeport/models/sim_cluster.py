"""The virtual cluster's journal: its configuration, how far it ran, and the outside actions.

See :mod:`computeport.backends.sim.journal` for why a journal (replayed on start) rather than
job rows: the scheduling core is deterministic, so these few rows rebuild the exact state.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from computeport.db.base import Base


class SimCluster(Base):
    """One virtual cluster: its fixed configuration and the engine time it reached."""

    __tablename__ = "sim_cluster"

    cluster: Mapped[str] = mapped_column(String(64), primary_key=True)
    meta: Mapped[dict[str, Any]]
    """Engine origin (epoch seconds) and the background workload's parameters."""
    position_s: Mapped[int] = mapped_column(BigInteger, default=0)


class SimClusterEvent(Base):
    """One outside action (provision, submit, cancel) at an engine instant, in order."""

    __tablename__ = "sim_cluster_event"

    cluster: Mapped[str] = mapped_column(String(64), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    t_s: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16))
    data: Mapped[dict[str, Any]]
