"""The embedded virtual cluster: the scheduling core on an accelerated clock, like Slurm outside.

:class:`SimBackend` implements :class:`~computeport.backends.protocol.ClusterBackend`;
:func:`cyberport_inventory` is the default inventory (380 nodes × 8 H800, partitions ``gpu``
and the ``scavenger`` overlay); :class:`BackgroundConfig` and :func:`workload_model` make the
trace-fitted background load; journals (:class:`MemoryJournal`, :class:`SqlJournal`) keep what
a restart must replay.
"""

from computeport.backends.sim.backend import SimBackend
from computeport.backends.sim.inventory import SCAVENGER, SimInventory, cyberport_inventory
from computeport.backends.sim.journal import Event, Journal, JournalState, MemoryJournal
from computeport.backends.sim.workload import BUILTIN_MODEL, BackgroundConfig, workload_model

__all__ = [
    "BUILTIN_MODEL",
    "SCAVENGER",
    "BackgroundConfig",
    "Event",
    "Journal",
    "JournalState",
    "MemoryJournal",
    "SimBackend",
    "SimInventory",
    "cyberport_inventory",
    "workload_model",
]
