"""Which accounts and QOS a job still needs: a removal of them must wait (DeferredRemoval).

Slurm 22.05 lets ``sacctmgr delete qos`` remove a QOS that a pending or running job uses, and
the job's accounting record, stored afterwards, then cannot be written out by ``sacct --json``
(it is cut short at ``qos`` and the rest of the window is left out).  So before a plan deletes
an account or QOS, computeport asks slurmctld for every job it still holds of those names
(``squeue --states=all``: pending, running, and ended ones kept for ``MinJobAge``); a job that
has not ended holds the name, and so does one that has ended but that ``sacct`` (slurmdbd)
does not yet show as ended.
"""

from __future__ import annotations

from collections.abc import Iterable

from computeport.backends.errors import BackendOutputInvalid
from computeport.backends.slurm.runner import SlurmRunner
from computeport.backends.slurm.sacct import job_state

__all__ = [
    "SACCT_ENDED_FORMAT",
    "SQUEUE_FORMAT",
    "ended_in_accounting",
    "holding_reasons",
    "jobs_in_use",
    "parse_held_jobs",
]

SQUEUE_FORMAT = "%A|%a|%q|%T"
"""Job id, account, QOS, state (long form), one job a line."""
SACCT_ENDED_FORMAT = "JobIDRaw,State,End"


def parse_held_jobs(text: str) -> list[tuple[str, str, str, str]]:
    """``squeue -h -t all -o SQUEUE_FORMAT`` → [(job id, account, qos, state)]."""
    out = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split("|")
        if len(parts) != 4 or not parts[0].strip():
            raise BackendOutputInvalid(f"squeue line {number}: {line[:80]!r}", field="squeue")
        job_id, account, qos, state = (p.strip() for p in parts)
        out.append((job_id, account, qos, state))
    return out


def ended_in_accounting(text: str) -> set[str]:
    """``sacct -X -P -n -o SACCT_ENDED_FORMAT`` → the job ids slurmdbd holds as ended."""
    ended = set()
    for line in text.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and job_state(parts[1]).finished and parts[2] not in {"", "Unknown"}:
            ended.add(parts[0].strip())
    return ended


def holding_reasons(
    jobs: list[tuple[str, str, str, str]], names: frozenset[str], recorded: set[str]
) -> dict[str, str]:
    """{name: why} for ``names`` that one of ``jobs`` (from squeue) still needs.

    A job that has not ended holds its account and QOS; one that has ended holds them until
    it is among ``recorded`` (the ids slurmdbd shows as ended).
    """
    why: dict[str, str] = {}
    for job_id, account, qos, state in jobs:
        if job_state(state).finished:
            if job_id in recorded:
                continue
            reason = f"job {job_id} has ended but is not yet in accounting (sacct)"
        else:
            reason = f"job {job_id} is {state}"
        for name in (account, qos):
            if name in names:
                why.setdefault(name, reason)
    return why


def jobs_in_use(runner: SlurmRunner, names: Iterable[str]) -> dict[str, str]:
    """{account or QOS name: why its removal must wait}, for the ``names`` a plan would remove."""
    wanted = frozenset(names)
    if not wanted:
        return {}
    squeue = ["squeue", "--noheader", "--states=all", f"--format={SQUEUE_FORMAT}"]
    jobs = [j for j in parse_held_jobs(runner.run(squeue).stdout) if {j[1], j[2]} & wanted]
    ended = sorted({j[0] for j in jobs if job_state(j[3]).finished})
    recorded: set[str] = set()
    if ended:
        sacct = ["sacct", "--noheader", "--parsable2", "--allusers", "--allocations"]
        text = runner.run(
            [*sacct, f"--format={SACCT_ENDED_FORMAT}", f"--jobs={','.join(ended)}"]
        ).stdout
        recorded = ended_in_accounting(text)
    return holding_reasons(jobs, wanted, recorded)
