"""Splitting an award's GPU-hours between clusters: a share per cluster plus the reserve.

The rule (docs/sites.md): for every award line (one accelerator type),
``Σ shares + reserve = gpu_hours``, every share and the reserve ≥ 0, and a share only on a
cluster that has partitions of the line's accelerator type and lies within the award's places
(none = open). Each cluster may spend only its share, so all clusters together can never spend
more than the award.

Hours move only through :func:`move_hours`, one transaction: the award row is locked first
(``FOR UPDATE``, the lock a top-up takes too), so concurrent moves and top-ups of one award run
one after the other and none reads a share another is changing; the source shrinks before the
target grows, and the invariant is checked before the move is recorded, as an amendment with its
reason (``award_share_move`` and ``award_amendment``) and an audit event.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from computeport.audit.service import record_event
from computeport.award.repository import lock_award
from computeport.award.workflow import OPEN_STATES
from computeport.backends import JobInfo, JobState
from computeport.kit.clock import Clock
from computeport.kit.errors import Conflict, IllegalTransition, ValidationFailed
from computeport.models.award import AmendmentKind, Award, AwardAmendment, AwardLine
from computeport.models.award_share import RESERVE, AwardPlace, AwardShare, AwardShareMove
from computeport.models.centre import AcceleratorType, CentreCluster, CentrePartition
from computeport.models.identity import Role
from computeport.models.metering import UsageRecord

RETIRED = "retired"

SHARE_MOVERS = (Role.OPERATOR, Role.SCHEME_OFFICER)
"""Who moves hours between clusters: operations (where work runs) and the scheme's officers.
The committee decides *how many* hours; placing them is not a new decision."""


class SharesBroken(AssertionError):
    """The invariant failed after a move: a bug, never bad input; the transaction rolls back."""


@dataclass(frozen=True)
class LineShares:
    """One accelerator type of an award: its hours, where they are placed, and where they may."""

    accelerator_type: str
    gpu_hours: int
    reserve: int
    shares: dict[str, int]
    eligible: tuple[str, ...]


@dataclass(frozen=True)
class AwardShares:
    award_id: uuid.UUID
    reference: str
    places: tuple[str, ...]
    """``site:<key>`` / ``cluster:<name>``; empty when the award is open."""
    lines: tuple[LineShares, ...]


def places_of(session: Session, award_id: uuid.UUID) -> tuple[str, ...]:
    rows = session.scalars(select(AwardPlace).where(AwardPlace.award_id == award_id)).all()
    names = [f"site:{p.site.key}" for p in rows if p.site is not None]
    names += [f"cluster:{p.cluster.name}" for p in rows if p.cluster is not None]
    return tuple(sorted(names))


def eligible_clusters(session: Session, award_id: uuid.UUID, accelerator_type: str) -> list[str]:
    """Clusters a share of this type may sit on: not retired, with partitions of the type, and
    within the award's places (any, when it has none)."""
    stmt = (
        select(CentreCluster.name, CentreCluster.id, CentreCluster.site_id)
        .join(CentrePartition, CentrePartition.cluster_id == CentreCluster.id)
        .join(AcceleratorType, AcceleratorType.id == CentrePartition.accelerator_id)
        .where(AcceleratorType.name == accelerator_type, CentreCluster.status != RETIRED)
        .distinct()
    )
    places = session.scalars(select(AwardPlace).where(AwardPlace.award_id == award_id)).all()
    sites = {p.site_id for p in places if p.site_id is not None}
    clusters = {p.cluster_id for p in places if p.cluster_id is not None}
    return sorted(
        name
        for name, cluster_id, site_id in session.execute(stmt)
        if not places or cluster_id in clusters or site_id in sites
    )


def _lines(session: Session, award_id: uuid.UUID, *, lock: bool) -> list[AwardLine]:
    """The award's lines as the database has them now (never the identity map's copy: a
    concurrent move may have changed them since this session last looked)."""
    stmt = (
        select(AwardLine)
        .where(AwardLine.award_id == award_id)
        .order_by(AwardLine.accelerator_type)
        .execution_options(populate_existing=True)
    )
    if lock:
        stmt = stmt.with_for_update()
    return list(session.scalars(stmt))


def _shares_of_line(session: Session, line: AwardLine) -> dict[str, AwardShare]:
    rows = session.scalars(
        select(AwardShare)
        .where(AwardShare.award_line_id == line.id)
        .execution_options(populate_existing=True)
    ).all()
    return {row.cluster.name: row for row in rows}


def show_shares(session: Session, award_id: uuid.UUID) -> AwardShares:
    award = lock_award(session, award_id, lock=False)
    lines = tuple(
        LineShares(
            accelerator_type=line.accelerator_type,
            gpu_hours=line.gpu_hours,
            reserve=line.reserve_hours,
            shares={
                name: s.gpu_hours for name, s in sorted(_shares_of_line(session, line).items())
            },
            eligible=tuple(eligible_clusters(session, award.id, line.accelerator_type)),
        )
        for line in _lines(session, award.id, lock=False)
    )
    return AwardShares(award.id, award.reference, places_of(session, award.id), lines)


def _line(award: Award, rows: list[AwardLine], accelerator_type: str | None) -> AwardLine:
    lines = {line.accelerator_type: line for line in rows}
    if accelerator_type is None:
        if len(lines) == 1:
            return next(iter(lines.values()))
        raise ValidationFailed(
            f"award {award.reference} grants several accelerator types "
            f"({', '.join(sorted(lines))}): name one",
            field="accelerator_type",
        )
    if accelerator_type not in lines:
        raise ValidationFailed(
            f"award {award.reference} grants no {accelerator_type!r} GPU-hours "
            f"(it grants {', '.join(sorted(lines)) or 'none'})",
            field="accelerator_type",
        )
    return lines[accelerator_type]


def _check_input(source: str, target: str, hours: int, reason: str) -> None:
    if isinstance(hours, bool) or not isinstance(hours, int) or hours <= 0:
        raise ValidationFailed("hours must be a whole number of GPU-hours above 0", field="hours")
    if not reason.strip():
        raise ValidationFailed("a move needs a reason (it is an amendment)", field="reason")
    if not source.strip():
        raise ValidationFailed("name the cluster to move from, or 'reserve'", field="from")
    if not target.strip():
        raise ValidationFailed("name the cluster to move to, or 'reserve'", field="to")
    if source == target:
        raise ValidationFailed(f"from and to are both {source!r}", field="to")


def _check_target(session: Session, award: Award, line: AwardLine, target: str) -> None:
    if target == RESERVE:
        return
    eligible = eligible_clusters(session, award.id, line.accelerator_type)
    if target in eligible:
        return
    cluster = session.scalars(select(CentreCluster).where(CentreCluster.name == target)).first()
    if cluster is None:
        why = "no such cluster in the inventory"
    elif cluster.status == RETIRED:
        why = "the cluster is retired"
    elif target in eligible_clusters_any_place(session, line.accelerator_type):
        why = f"outside the award's places ({', '.join(places_of(session, award.id))})"
    else:
        why = f"it has no {line.accelerator_type} partitions"
    raise ValidationFailed(
        f"cannot place {line.accelerator_type} hours on {target!r}: {why}; "
        f"eligible: {', '.join(eligible) or 'none'} or {RESERVE}",
        field="to",
    )


def eligible_clusters_any_place(session: Session, accelerator_type: str) -> list[str]:
    """Clusters with partitions of the type, whatever an award's places."""
    stmt = (
        select(CentreCluster.name)
        .join(CentrePartition, CentrePartition.cluster_id == CentreCluster.id)
        .join(AcceleratorType, AcceleratorType.id == CentrePartition.accelerator_id)
        .where(AcceleratorType.name == accelerator_type)
        .distinct()
    )
    return sorted(session.scalars(stmt))


def check_invariant(line: AwardLine, shares: dict[str, AwardShare]) -> None:
    """``Σ shares + reserve = gpu_hours`` and nothing negative, or SharesBroken."""
    placed = sum(s.gpu_hours for s in shares.values())
    if line.reserve_hours < 0 or any(s.gpu_hours < 0 for s in shares.values()):
        raise SharesBroken(f"a negative share or reserve on line {line.id}")
    if placed + line.reserve_hours != line.gpu_hours:
        raise SharesBroken(
            f"line {line.id}: shares {placed} + reserve {line.reserve_hours} ≠ {line.gpu_hours}"
        )


def move_hours(
    session: Session,
    award_id: uuid.UUID,
    *,
    source: str,
    target: str,
    hours: int,
    reason: str,
    actor_id: uuid.UUID | None,
    clock: Clock,
    accelerator_type: str | None = None,
    committed: Mapping[str, int] | Callable[[], Mapping[str, int]] | None = None,
) -> AwardShareMove:
    """Move ``hours`` GPU-hours of one award line from ``source`` to ``target`` (a cluster's
    name or ``reserve``): shrink first, then grow; refused, with nothing changed, when the
    source holds less than ``hours`` or would shrink below its floor (Conflict, field
    ``hours``) or the target is not eligible (ValidationFailed, field ``to``).

    The floor of a cluster's share is what the award has used there (its ingested usage of the
    line's type, whole hours rounded up) plus ``committed[source]``: the GPU-hours its running
    and queued jobs there have reserved, which only the caller that can ask the cluster knows
    (a callable is asked only once the cheaper checks passed, so a refusal never waits on a
    controller).
    Below it the cluster's limit would fall under work it already accepted."""
    _check_input(source, target, hours, reason)
    award = lock_award(session, award_id)
    if award.status not in OPEN_STATES:
        raise IllegalTransition(
            f"award {award.reference} is {award.status.value}: its hours no longer move",
            field="status",
        )
    line = _line(award, _lines(session, award.id, lock=True), accelerator_type)
    shares = _shares_of_line(session, line)
    if source != RESERVE and source not in shares:
        raise ValidationFailed(
            f"award {award.reference} holds no {line.accelerator_type} share on {source!r} "
            f"(shares: {', '.join(sorted(shares)) or 'none'}; or {RESERVE})",
            field="from",
        )
    _check_target(session, award, line, target)

    available = line.reserve_hours if source == RESERVE else shares[source].gpu_hours
    if hours > available:
        raise Conflict(
            f"{source} holds {available} {line.accelerator_type} GPU-hours of award "
            f"{award.reference}; cannot move {hours}",
            field="hours",
        )
    if source != RESERVE:
        # Asked only now, when every cheaper refusal has passed: it may call a controller.
        held = committed() if callable(committed) else committed
        floor = share_floor(session, award, line, source, held)
        if available - hours < floor:
            raise Conflict(
                f"{source} has used or committed {floor} {line.accelerator_type} GPU-hours of "
                f"award {award.reference}; its share of {available} can shrink by at most "
                f"{max(0, available - floor)}, not {hours}",
                field="hours",
            )
    # Shrink first …
    if source == RESERVE:
        line.reserve_hours -= hours
    else:
        shares[source].gpu_hours -= hours
    session.flush()
    # … then grow.
    if target == RESERVE:
        line.reserve_hours += hours
    elif target in shares:
        shares[target].gpu_hours += hours
    else:
        cluster_id = session.scalars(
            select(CentreCluster.id).where(CentreCluster.name == target)
        ).one()
        session.add(AwardShare(award_line_id=line.id, cluster_id=cluster_id, gpu_hours=hours))
    session.flush()
    check_invariant(line, _shares_of_line(session, line))
    return _record(session, award, line, source, target, hours, reason, actor_id, clock)


SOLE_CLUSTER_REASON = "placed on the only cluster with its accelerator type"


def place_on_sole_clusters(
    session: Session,
    award_ids: Iterable[uuid.UUID],
    clock: Clock,
    *,
    actor_id: uuid.UUID | None = None,
) -> int:
    """Move each open award line's reserve to the one cluster that may hold it, where there is
    exactly one (today's Cyberport for ``h800``); returns how many moves were made.

    Why: a new line's hours land in the reserve, and a cluster spends only its share, so with
    an inventory loaded a decision would otherwise leave the award unable to run anywhere until
    an operator placed it.  Where only one cluster could take the hours there is nothing to
    decide: they go there, as migration ``0011_award_shares`` placed existing awards.  Where
    several could (two sites of one type), the hours stay in the reserve for the operator.
    Each placement is an ordinary audited move (:func:`move_hours`)."""
    moves = 0
    for award_id in award_ids:
        award = session.get(Award, award_id)
        if award is None or award.status not in OPEN_STATES:
            continue
        for line in _lines(session, award_id, lock=False):
            if line.reserve_hours <= 0:
                continue
            eligible = eligible_clusters(session, award_id, line.accelerator_type)
            if len(eligible) != 1:
                continue
            move_hours(
                session,
                award_id,
                source=RESERVE,
                target=eligible[0],
                hours=line.reserve_hours,
                reason=SOLE_CLUSTER_REASON,
                actor_id=actor_id,
                clock=clock,
                accelerator_type=line.accelerator_type,
            )
            moves += 1
    return moves


def share_floor(
    session: Session,
    award: Award,
    line: AwardLine,
    cluster: str,
    committed: Mapping[str, int] | None = None,
) -> int:
    """The least ``cluster``'s share of ``line`` may hold: the hours used there (the latest
    version of each usage record of the award's account and the line's type, rounded up to
    whole hours: a share is in whole hours) plus the hours ``committed`` there."""
    rows = session.execute(
        select(
            UsageRecord.id, UsageRecord.job_id, UsageRecord.submit_time, UsageRecord.gpu_seconds
        ).where(
            UsageRecord.cluster == cluster,
            UsageRecord.account == award.slurm_account,
            UsageRecord.accelerator_type == line.accelerator_type,
        )
    )
    latest: dict[tuple[str, object], tuple[int, int]] = {}
    for rid, job_id, submit, seconds in rows:
        key = (job_id, submit)
        if key not in latest or rid > latest[key][0]:
            latest[key] = (rid, int(seconds))
    used_seconds = sum(seconds for _, seconds in latest.values())
    return -(-used_seconds // 3600) + max(0, (committed or {}).get(cluster, 0))


_COMMITTING = frozenset(
    {JobState.PENDING, JobState.RUNNING, JobState.SUSPENDED, JobState.COMPLETING}
)


def committed_hours(jobs: Iterable[JobInfo]) -> int:
    """The GPU-hours ``jobs`` (one award's, on one cluster) have reserved and not yet been
    ingested for: GPUs × time limit of each pending or running job, rounded up to whole hours
    (a job without a limit reserves nothing it declared)."""
    minutes = sum(
        job.gpus * (job.time_limit_minutes or 0) for job in jobs if job.state in _COMMITTING
    )
    return -(-minutes // 60)


def _record(
    session: Session,
    award: Award,
    line: AwardLine,
    source: str,
    target: str,
    hours: int,
    reason: str,
    actor_id: uuid.UUID | None,
    clock: Clock,
) -> AwardShareMove:
    now = clock.now()
    move = AwardShareMove(
        award_id=award.id,
        accelerator_type=line.accelerator_type,
        source=source,
        target=target,
        gpu_hours=hours,
        reason=reason,
        at=now,
        actor_id=actor_id,
    )
    what = f"{hours} {line.accelerator_type} GPU-hours {source} → {target}"
    session.add(move)
    session.add(
        AwardAmendment(
            award_id=award.id,
            kind=AmendmentKind.SHARE_MOVE,
            reason=f"{what}: {reason}",
            at=now,
            actor_id=actor_id,
        )
    )
    record_event(session, award, "share_move", actor_id, f"{what}; {reason}", now)
    session.flush()
    return move


__all__ = [
    "RESERVE",
    "SHARE_MOVERS",
    "AwardShares",
    "LineShares",
    "SharesBroken",
    "check_invariant",
    "committed_hours",
    "eligible_clusters",
    "move_hours",
    "place_on_sole_clusters",
    "share_floor",
    "show_shares",
]
