"""The policy lab: replay the centre's own recent workload under another policy.

:func:`run_study` replays a :class:`History` (the virtual cluster's call log, or accounting
records) as it was (the baseline, with its error against what happened) and under each proposed
change (:mod:`computeport.lab.changes`), and summarises waits, slowdowns and utilisation per
category and organisation. :mod:`computeport.lab.fidelity` checks the simulator against a real
Slurm cluster. Same scheduling core as the simulator and the virtual cluster.
"""

from computeport.lab.changes import Variant, parse_change
from computeport.lab.history import History, Member, RecordedJob, history_of_records
from computeport.lab.replay import Replayed, replay
from computeport.lab.study import Study, run_study
from computeport.lab.summary import Baseline, GroupStats, Outcome

__all__ = [
    "Baseline",
    "GroupStats",
    "History",
    "Member",
    "Outcome",
    "RecordedJob",
    "Replayed",
    "Study",
    "Variant",
    "history_of_records",
    "parse_change",
    "replay",
    "run_study",
]
