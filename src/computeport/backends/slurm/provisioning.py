"""Awards → Slurm accounts, QOS and user associations: read actual, diff with desired, apply.

Like a controller (after ColdFront's ``slurm_check``, with a typed diff instead of printed lines):

* desired: per award an account under its organisation's account, a QOS of the same name with
  ``Flags=NoDecay`` and ``GrpTRESMins=gres/gpu=<GPU-minutes>`` (the fair-share half-life never
  erases budget usage), optional ``GrpTRES=gres/gpu=<cap>``, attached as the account's only and
  default QOS, and one user association per member.  A paused award's QOS gets
  ``GrpSubmitJobs=0 GrpJobs=0``: nothing new is accepted and queued jobs do not start.
* actual: ``sacctmgr show account/assoc/qos/user -P``.
* computeport marks what it creates (``Description=computeport:…``) and only ever modifies or
  removes marked accounts and QOS; a clash with an unmarked one is a
  :class:`~computeport.backends.protocol.ProvisioningConflict`, not a silent takeover.
* reservations (reserved capacity booked for an award) are ``scontrol`` reservations named
  ``cp_…``, read with ``scontrol show reservation`` and diffed by name
  (:mod:`computeport.backends.slurm.reservations`); only ``cp_…`` ones are ever touched.
* apply runs the plan's changes in order with ``sacctmgr -i`` (``scontrol`` for reservations);
  "nothing new added / nothing modified" counts as success, so applying the same plan twice is
  harmless.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from computeport.backends.protocol import (
    AddMember,
    AttachQos,
    Change,
    CreateAccount,
    CreateQos,
    CreateReservation,
    DeleteAccount,
    DeleteQos,
    DeleteReservation,
    DesiredState,
    MoveAccount,
    ProvisioningConflict,
    ProvisioningPlan,
    QosLimits,
    RemoveMember,
    ReservedCapacity,
    UpdateQos,
    UpdateReservation,
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
    MANAGED_PREFIX,
    QOS_FORMAT,
    USER_FORMAT,
    SlurmAccount,
    SlurmQos,
    format_arg,
    parse_accounts,
    parse_associations,
    parse_qos,
    parse_users,
)

__all__ = [
    "ActualState",
    "DeferredChange",
    "actual_state_from",
    "apply_change",
    "change_argv",
    "plan_changes",
    "read_actual_state",
]

ORG_DESCRIPTION = MANAGED_PREFIX + "org"
AWARD_DESCRIPTION = MANAGED_PREFIX + "award"
ORGANIZATION = "computeport"
ROOT_ACCOUNT = "root"
GPU_TRES = "gres/gpu"
_ACTIVE_JOBS = re.compile(r"Job\(s\) active|JobID = \d+")
_ALREADY_DONE = ("Nothing new added", "Nothing modified", "Nothing deleted", "already exists")


@dataclass(frozen=True, slots=True)
class ActualState:
    """What one cluster's accounting database holds now (accounts with their tree position)."""

    accounts: Mapping[str, SlurmAccount]
    qos: Mapping[str, SlurmQos]
    members: frozenset[tuple[str, str]]  # (account, user)
    user_default_account: Mapping[str, str]
    reservations: Mapping[str, ReservedCapacity] = field(default_factory=dict)
    """computeport's own reservations (``cp_…``) by name."""


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
        merged[acc.name] = SlurmAccount(
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


def plan_changes(desired: DesiredState, actual: ActualState) -> ProvisioningPlan:
    """The ordered changes that turn ``actual`` into ``desired``; empty when they agree."""
    creates_org: list[Change] = []
    creates_qos: list[Change] = []
    creates_award: list[Change] = []
    updates: list[Change] = []
    adds: list[Change] = []
    removes: list[Change] = []
    deletes_award: list[Change] = []
    deletes_org: list[Change] = []
    deletes_qos: list[Change] = []

    for org in desired.org_accounts:
        if org not in actual.accounts:
            creates_org.append(CreateAccount(org, ROOT_ACCOUNT, "org"))
        # An existing unmarked org account is the operator's: we put awards under it, nothing more.

    for alloc in sorted(desired.allocations, key=lambda a: a.account_name):
        name = alloc.account_name
        account = actual.accounts.get(name)
        if account is None:
            creates_award.append(CreateAccount(name, alloc.org_account, "award"))
        elif not account.managed:
            raise ProvisioningConflict(
                f"Slurm account {name!r} exists but computeport did not create it "
                f"(description {account.description!r}); rename the award's account or remove it",
                field="account_name",
            )
        elif account.parent != alloc.org_account:
            updates.append(MoveAccount(name, account.parent, alloc.org_account))

        qos = actual.qos.get(name)
        if qos is None:
            creates_qos.append(CreateQos(name, alloc.limits))
        elif not qos.managed:
            raise ProvisioningConflict(
                f"Slurm QOS {name!r} exists but computeport did not create it "
                f"(description {qos.description!r})",
                field="account_name",
            )
        elif qos.limits != alloc.limits or "NoDecay" not in qos.flags:
            updates.append(UpdateQos(name, qos.limits, alloc.limits))

        if account is None or account.qos != frozenset({name}) or account.default_qos != name:
            updates.append(AttachQos(name, name))

        have = {u for a, u in actual.members if a == name}
        adds.extend(AddMember(name, u) for u in sorted(alloc.members - have))
        removes.extend(RemoveMember(name, u) for u in sorted(have - alloc.members))

    wanted_awards = {a.account_name for a in desired.allocations}
    wanted_orgs = set(desired.org_accounts)
    for name, account in sorted(actual.accounts.items()):
        if not account.managed or name in wanted_awards or name in wanted_orgs:
            continue
        if account.description == AWARD_DESCRIPTION:
            removes.extend(RemoveMember(name, u) for a, u in sorted(actual.members) if a == name)
            deletes_award.append(DeleteAccount(name))
        else:
            children = {
                n for n, a in actual.accounts.items() if a.parent == name and n not in wanted_awards
            }
            unmanaged_children = {n for n in children if not actual.accounts[n].managed}
            if not unmanaged_children and not any(
                a.org_account == name for a in desired.allocations
            ):
                removes.extend(
                    RemoveMember(name, u) for a, u in sorted(actual.members) if a == name
                )
                deletes_org.append(DeleteAccount(name))
    for name, qos in sorted(actual.qos.items()):
        if qos.managed and name not in wanted_awards:
            deletes_qos.append(DeleteQos(name))

    resv_deletes, resv_writes = _plan_reservations(desired, actual)

    return ProvisioningPlan(
        tuple(
            creates_org
            + creates_qos
            + creates_award
            + updates
            + adds
            + removes
            + resv_deletes
            + resv_writes
            + deletes_award
            + deletes_org
            + deletes_qos
        )
    )


def _plan_reservations(
    desired: DesiredState, actual: ActualState
) -> tuple[list[Change], list[Change]]:
    """Deletions first (they free nodes), then updates and creations, each by name.

    They come after the accounts (a reservation names its award's account) and before an
    award's account is deleted.  A reservation is compared as Slurm keeps it (whole seconds,
    no GPU count), so a reconcile right after applying plans nothing.
    """
    wanted = {r.name: r for r in desired.reservations}
    deletes: list[Change] = [
        DeleteReservation(name) for name in sorted(actual.reservations) if name not in wanted
    ]
    writes: list[Change] = []
    for name, want in sorted(wanted.items()):
        have = actual.reservations.get(name)
        if have is None:
            writes.append(CreateReservation(want))
        elif not have.same_as(want):
            writes.append(UpdateReservation(have, want))
    return deletes, writes


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
