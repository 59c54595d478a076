"""Awards → Slurm accounts, QOS and user associations: read actual, diff with desired, apply.

Like a controller (after ColdFront's ``slurm_check``, with a typed diff instead of printed lines):

* desired: per award an account under its organisation's account, a QOS of the same name with
  ``Flags=NoDecay`` and ``GrpTRESMins=gres/gpu=<GPU-minutes>`` (the fair-share half-life never
  erases budget usage), optional ``GrpTRES=gres/gpu=<cap>``, attached as the account's only and
  default QOS, and one user association per member.  A paused award's QOS gets
  ``GrpSubmitJobs=0 GrpJobs=0``: nothing new is accepted and queued jobs do not start.
* actual: ``sacctmgr show account/assoc/qos/user -P``.
* diff: :func:`computeport.backends.plan.plan_changes`, the planner both back ends share
  (computeport only ever modifies or removes what it marked as its own).
* reservations (reserved capacity booked for an award) are ``scontrol`` reservations named
  ``cp_…``, read with ``scontrol show reservation`` and diffed by name
  (:mod:`computeport.backends.slurm.reservations`); only ``cp_…`` ones are ever touched.
* apply runs the plan's changes in order with ``sacctmgr -i`` (``scontrol`` for reservations);
  "nothing new added / nothing modified" counts as success, so applying the same plan twice is
  harmless.
"""

from __future__ import annotations

import re

from computeport.backends.plan import (
    AWARD_DESCRIPTION,
    GPU_TRES,
    ORG_DESCRIPTION,
    ORGANIZATION,
    ActualState,
    ClusterAccount,
)
from computeport.backends.slurm.reservations import (
    SHOW_RESERVATIONS,
    already_done,
    parse_reservations,
    reservation_argv,
)
from computeport.backends.slurm.runner import SlurmCommandFailed, SlurmRunner
from computeport.backends.slurm.sacctmgr import (
    ACCOUNT_FORMAT,
    ASSOC_FORMAT,
    QOS_FORMAT,
    USER_FORMAT,
    format_arg,
    parse_accounts,
    parse_associations,
    parse_qos,
    parse_users,
)
from computeport.backends.types.changes import (
    AddMember,
    AttachQos,
    Change,
    CreateAccount,
    CreateQos,
    CreateReservation,
    DeleteAccount,
    DeleteQos,
    DeleteReservation,
    MoveAccount,
    MoveOrganisation,
    RemoveMember,
    UpdateQos,
    UpdateReservation,
)
from computeport.backends.types.desired import QosLimits

__all__ = [
    "DeferredChange",
    "actual_state_from",
    "apply_change",
    "change_argv",
    "read_actual_state",
]

_ACTIVE_JOBS = re.compile(r"Job\(s\) active|JobID = \d+")
_ALREADY_DONE = ("Nothing new added", "Nothing modified", "Nothing deleted", "already exists")


def read_actual_state(runner: SlurmRunner, cluster: str) -> ActualState:
    """Four ``sacctmgr show`` calls and ``scontrol show reservation``, as an :class:`ActualState`.

    One process per ``show``: feeding the four commands to one sacctmgr session on stdin is
    faster, but Slurm 22.05.8's slurmdbd segfaulted on ``show user`` after ``show qos`` in the
    same connection (seen on the local test cluster), so each read gets its own connection.
    """
    base = ["sacctmgr", "--parsable2"]
    return actual_state_from(
        runner.run([*base, "show", "account", format_arg(ACCOUNT_FORMAT)]).stdout,
        runner.run([*base, "show", "assoc", f"cluster={cluster}", format_arg(ASSOC_FORMAT)]).stdout,
        runner.run([*base, "show", "qos", format_arg(QOS_FORMAT)]).stdout,
        runner.run([*base, "show", "user", format_arg(USER_FORMAT)]).stdout,
        runner.run(list(SHOW_RESERVATIONS)).stdout,
    )


def actual_state_from(
    accounts_text: str,
    assoc_text: str,
    qos_text: str,
    users_text: str,
    reservations_text: str = "",
) -> ActualState:
    """Join the four ``sacctmgr show … -P`` tables (also used on recorded output in tests)."""
    accounts = parse_accounts(accounts_text)
    assocs = parse_associations(assoc_text)
    tree = {a.account: a for a in assocs if not a.user and not a.partition}
    merged = {}
    for acc in accounts:
        node = tree.get(acc.name)
        if node is None:  # deleted, or without an association on this cluster
            continue
        merged[acc.name] = ClusterAccount(
            name=acc.name,
            description=acc.description,
            organization=acc.organization,
            parent=node.parent,
            qos=node.qos,
            default_qos=node.default_qos,
        )
    return ActualState(
        accounts=merged,
        qos={q.name: q for q in parse_qos(qos_text)},
        members=frozenset((a.account, a.user) for a in assocs if a.user and not a.partition),
        user_default_account=parse_users(users_text),
        reservations=parse_reservations(reservations_text),
    )


def _qos_settings(limits: QosLimits) -> list[str]:
    cap = "-1" if limits.gpu_cap is None else str(limits.gpu_cap)
    paused = "0" if limits.paused else "-1"
    return [
        "Flags=NoDecay",
        f"GrpTRESMins={GPU_TRES}={limits.gpu_minutes}",
        f"GrpTRES={GPU_TRES}={cap}",
        f"GrpSubmitJobs={paused}",
        f"GrpJobs={paused}",
    ]


def change_argv(change: Change, cluster: str, actual: ActualState | None = None) -> list[str]:
    """The one ``sacctmgr -i`` command that makes ``change`` (argv, never a shell string)."""
    sm = ["sacctmgr", "-i"]
    match change:
        case CreateAccount(name=name, parent=parent, role=role):
            descr = ORG_DESCRIPTION if role == "org" else AWARD_DESCRIPTION
            return [
                *sm,
                "add",
                "account",
                name,
                f"Cluster={cluster}",
                f"Parent={parent}",
                f"Description={descr}",
                f"Organization={ORGANIZATION}",
            ]
        case MoveAccount(name=name, parent=parent):
            return [*sm, "modify", "account", "where", f"name={name}", f"cluster={cluster}",
                    "set", f"Parent={parent}"]  # fmt: skip
        case MoveOrganisation(accounts=accounts, parent=parent):
            # One command for the organisation's accounts; their user associations follow.
            return [*sm, "modify", "account", "where", f"name={','.join(accounts)}",
                    f"cluster={cluster}", "set", f"Parent={parent}"]  # fmt: skip
        case CreateQos(name=name, limits=limits):
            settings = [s for s in _qos_settings(limits) if not s.endswith("=-1")]
            return [*sm, "add", "qos", name, f"Description={AWARD_DESCRIPTION}", *settings]
        case UpdateQos(name=name, after=after):
            return [*sm, "modify", "qos", "where", f"name={name}", "set", *_qos_settings(after)]
        case AttachQos(account=account, qos=qos):
            return [*sm, "modify", "account", "where", f"name={account}", f"cluster={cluster}",
                    "set", f"QOS={qos}", f"DefaultQOS={qos}"]  # fmt: skip
        case AddMember(account=account, user=user):
            argv = [*sm, "add", "user", user, f"Account={account}", f"Cluster={cluster}"]
            # A new user, or one whose default account was removed, needs a default account.
            if actual is None or not actual.user_default_account.get(user):
                argv.append(f"DefaultAccount={account}")
            return argv
        case RemoveMember(account=account, user=user):
            return [*sm, "delete", "user", "where", f"name={user}", f"account={account}",
                    f"cluster={cluster}"]  # fmt: skip
        case DeleteAccount(name=name):
            return [*sm, "delete", "account", "where", f"name={name}", f"cluster={cluster}"]
        case DeleteQos(name=name):
            return [*sm, "delete", "qos", "where", f"name={name}"]
        case CreateReservation() | UpdateReservation() | DeleteReservation():
            return reservation_argv(change)
    raise AssertionError(f"unknown change {change!r}")  # pragma: no cover


class DeferredChange(Exception):
    """A removal Slurm refuses while the association still has jobs; retried next reconcile."""


def apply_change(
    runner: SlurmRunner, change: Change, cluster: str, actual: ActualState | None = None
) -> None:
    """Run one change; Slurm saying it was already so is success (idempotent apply).

    Raises :class:`DeferredChange` when a removal must wait for active jobs to end.
    """
    try:
        runner.run(change_argv(change, cluster, actual))
    except SlurmCommandFailed as exc:
        said = exc.stderr + "\n" + exc.stdout
        if any(s in said for s in _ALREADY_DONE):
            return
        if isinstance(change, CreateReservation | DeleteReservation) and already_done(said):
            return
        if isinstance(change, RemoveMember | DeleteAccount | DeleteQos) and _ACTIVE_JOBS.search(
            said
        ):
            raise DeferredChange(f"{change.describe()}: it still has active jobs") from None
        raise
