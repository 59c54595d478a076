"""Reconcile: desired awards vs actual Slurm state → a typed, ordered, idempotent diff."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from computeport.backends import (
    AddMember,
    AttachQos,
    AwardAllocation,
    AwardState,
    BackendOutputInvalid,
    Change,
    CreateAccount,
    CreateQos,
    DeferredRemoval,
    DeleteAccount,
    DeleteQos,
    DesiredState,
    MoveAccount,
    MoveOrganisation,
    ProvisioningConflict,
    QosLimits,
    RemoveMember,
    UpdateQos,
)
from computeport.backends.plan import (
    ActualState,
    ClusterAccount,
    ClusterQos,
    plan_changes,
    removal_names,
)
from computeport.backends.slurm.jobs_in_use import (
    ended_in_accounting,
    holding_reasons,
    parse_held_jobs,
)
from computeport.backends.slurm.provisioning import actual_state_from, change_argv
from computeport.kit.errors import ValidationFailed
from tests.backends.slurm.recorded_data import text

EMPTY = ActualState(
    accounts={
        "root": ClusterAccount("root", "default root account", "root", "", frozenset({"normal"}))
    },
    qos={"normal": ClusterQos("normal", "Normal QOS default", frozenset(), {}, {}, None, None)},
    members=frozenset({("root", "root")}),
    user_default_account={"root": "root"},
)


def award(
    name: str = "aw1",
    org: str = "org_a",
    members: tuple[str, ...] = ("alice",),
    gpu_minutes: int = 600,
    gpu_cap: int | None = None,
    state: AwardState = AwardState.ACTIVE,
) -> AwardAllocation:
    return AwardAllocation(name, org, frozenset(members), gpu_minutes, gpu_cap, state)


def recorded_state() -> ActualState:
    return actual_state_from(
        text("sacctmgr-show-account.txt"),
        text("sacctmgr-show-assoc.txt"),
        text("sacctmgr-show-qos.txt"),
        text("sacctmgr-show-user.txt"),
    )


def simulate(actual: ActualState, changes: tuple[Change, ...]) -> ActualState:
    """What Slurm would hold after ``changes`` (a model of sacctmgr for property tests)."""
    accounts = dict(actual.accounts)
    qos = dict(actual.qos)
    members = set(actual.members)
    defaults = dict(actual.user_default_account)
    for c in changes:
        match c:
            case CreateAccount(name=n, parent=p, role=role):
                accounts[n] = ClusterAccount(
                    n, f"computeport:{role}", "computeport", p, frozenset({"normal"})
                )
            case MoveAccount(name=n, parent=p):
                accounts[n] = replace(accounts[n], parent=p)
            case MoveOrganisation(accounts=moved, parent=p):
                for n in moved:
                    accounts[n] = replace(accounts[n], parent=p)
            case CreateQos(name=n, limits=lim) | UpdateQos(name=n, after=lim):
                qos[n] = ClusterQos(
                    n,
                    "computeport:award",
                    frozenset({"NoDecay"}),
                    {"gres/gpu": lim.gpu_minutes},
                    {} if lim.gpu_cap is None else {"gres/gpu": lim.gpu_cap},
                    0 if lim.paused else None,
                    0 if lim.paused else None,
                )
            case AttachQos(account=a, qos=q):
                accounts[a] = replace(accounts[a], qos=frozenset({q}), default_qos=q)
            case AddMember(account=a, user=u):
                members.add((a, u))
                defaults.setdefault(u, a)
            case RemoveMember(account=a, user=u):
                members.discard((a, u))
            case DeleteAccount(name=n):
                del accounts[n]
            case DeleteQos(name=n):
                del qos[n]
    return ActualState(accounts, qos, frozenset(members), defaults)


def test_a_new_award_becomes_org_qos_account_attachment_and_members() -> None:
    plan = plan_changes(DesiredState((award(members=("alice", "bob")),)), EMPTY)
    assert plan.changes == (
        CreateAccount("org_a", "root", "org"),
        CreateQos("aw1", QosLimits(600, None, False)),
        CreateAccount("aw1", "org_a", "award"),
        AttachQos("aw1", "aw1"),
        AddMember("aw1", "alice"),
        AddMember("aw1", "bob"),
    )


def test_recorded_cluster_against_its_own_desired_state_is_a_no_op() -> None:
    desired = DesiredState(
        (
            award("aw1", "org_a", ("nobody",), gpu_minutes=600, gpu_cap=16),
            award("aw3", "org_b", ("nobody", "root"), gpu_minutes=60),
        )
    )
    assert plan_changes(desired, recorded_state()).empty


def test_budget_cap_and_pause_changes_are_qos_updates() -> None:
    actual = recorded_state()
    desired = DesiredState(
        (
            award("aw1", "org_a", ("nobody",), gpu_minutes=900, gpu_cap=None),
            award("aw3", "org_b", ("nobody", "root"), gpu_minutes=60, state=AwardState.PAUSED),
        )
    )
    plan = plan_changes(desired, actual)
    assert plan.changes == (
        UpdateQos("aw1", QosLimits(600, 16, False), QosLimits(900, None, False)),
        UpdateQos("aw3", QosLimits(60, None, False), QosLimits(60, None, True)),
    )
    argv = change_argv(plan.changes[1], "cpci")
    assert "GrpSubmitJobs=0" in argv
    assert "GrpJobs=0" in argv
    assert "GrpTRESMins=gres/gpu=60" in argv
    assert "Flags=NoDecay" in argv
    assert "GrpTRES=gres/gpu=-1" in change_argv(plan.changes[0], "cpci")


def test_members_are_added_and_removed() -> None:
    desired = DesiredState(
        (
            award("aw1", "org_a", ("carol",), gpu_minutes=600, gpu_cap=16),
            award("aw3", "org_b", ("nobody", "root"), gpu_minutes=60),
        )
    )
    plan = plan_changes(desired, recorded_state())
    assert plan.changes == (AddMember("aw1", "carol"), RemoveMember("aw1", "nobody"))


def test_only_what_computeport_created_is_removed() -> None:
    plan = plan_changes(DesiredState(), recorded_state())
    deletes = [c for c in plan.changes if isinstance(c, DeleteAccount | DeleteQos)]
    assert deletes == [
        DeleteAccount("aw1"),
        DeleteAccount("aw3"),
        DeleteAccount("org_a"),
        DeleteAccount("org_b"),
        DeleteQos("aw1"),
        DeleteQos("aw3"),
    ]
    assert not any("root" in c.describe().split() or "normal" in c.describe() for c in deletes)
    # members go before their accounts
    removes = [c for c in plan.changes if isinstance(c, RemoveMember)]
    assert plan.changes.index(removes[-1]) < plan.changes.index(deletes[0])


def test_an_unmarked_account_of_the_same_name_is_a_conflict() -> None:
    actual = replace(
        EMPTY,
        accounts={**EMPTY.accounts, "aw1": ClusterAccount("aw1", "hand made", "x", "root")},
    )
    with pytest.raises(ProvisioningConflict, match="did not create"):
        plan_changes(DesiredState((award(),)), actual)


def test_an_existing_unmarked_org_account_is_used_not_recreated_nor_deleted() -> None:
    actual = replace(
        EMPTY, accounts={**EMPTY.accounts, "org_a": ClusterAccount("org_a", "ops", "x", "root")}
    )
    plan = plan_changes(DesiredState((award(),)), actual)
    assert CreateAccount("org_a", "root", "org") not in plan.changes
    after = simulate(actual, plan.changes)
    assert DeleteAccount("org_a") not in plan_changes(DesiredState(), after).changes


def test_moving_an_award_to_another_organisation() -> None:
    both = DesiredState((award(), award("aw2")))
    first = simulate(EMPTY, plan_changes(both, EMPTY).changes)
    moved = DesiredState((award(), award("aw2", org="org_z")))
    plan = plan_changes(moved, first)
    assert MoveAccount("aw2", "org_a", "org_z") in plan.changes
    assert not any(isinstance(c, MoveOrganisation | DeleteAccount) for c in plan.changes)
    assert plan_changes(moved, simulate(first, plan.changes)).empty


def test_an_organisation_given_its_own_parent_moves_with_its_awards() -> None:
    # The defect: two organisations derived one parent (same millisecond), ``org_01a2411da7e1``.
    shared = DesiredState(
        (
            award("aw1", "org_01a2411da7e1", ("alice",)),
            award("aw2", "org_01a2411da7e1", ("bob",)),
            award("aw3", "org_01a2411da7e1", ("bob",)),
        )
    )
    before = simulate(EMPTY, plan_changes(shared, EMPTY).changes)
    own = DesiredState(
        (
            award("aw1", "org_harbourview_3f9a1c", ("alice",)),
            award("aw2", "org_jadesampan_77e0b2", ("bob",)),
            award("aw3", "org_jadesampan_77e0b2", ("bob",)),
        )
    )
    plan = plan_changes(own, before)
    assert plan.changes == (
        CreateAccount("org_harbourview_3f9a1c", "root", "org"),
        CreateAccount("org_jadesampan_77e0b2", "root", "org"),
        MoveOrganisation("org_01a2411da7e1", "org_harbourview_3f9a1c", ("aw1",)),
        MoveOrganisation("org_01a2411da7e1", "org_jadesampan_77e0b2", ("aw2", "aw3")),
        DeleteAccount("org_01a2411da7e1"),
    )
    assert plan.lines()[2] == (
        "~ organisation parent org_01a2411da7e1 → org_harbourview_3f9a1c: moves aw1"
    )
    after = simulate(before, plan.changes)
    assert {after.accounts[n].parent for n in ("aw1", "aw2", "aw3")} == {
        "org_harbourview_3f9a1c", "org_jadesampan_77e0b2"
    }  # fmt: skip
    assert ("aw2", "bob") in after.members  # the associations moved with their account
    assert plan_changes(own, after).empty


def test_on_recorded_output_an_organisation_moves_in_one_sacctmgr_command() -> None:
    desired = DesiredState(
        (
            award("aw1", "org_a_own_1a2b3c", ("nobody",), gpu_minutes=600, gpu_cap=16),
            award("aw3", "org_b", ("nobody", "root"), gpu_minutes=60),
        )
    )
    plan = plan_changes(desired, recorded_state())
    move = MoveOrganisation("org_a", "org_a_own_1a2b3c", ("aw1",))
    assert plan.changes == (
        CreateAccount("org_a_own_1a2b3c", "root", "org"),
        move,
        DeleteAccount("org_a"),
    )
    assert change_argv(MoveOrganisation("org_a", "org_n", ("aw1", "aw2")), "cpci") == [
        "sacctmgr", "-i", "modify", "account", "where", "name=aw1,aw2", "cluster=cpci",
        "set", "Parent=org_n",
    ]  # fmt: skip


def test_add_member_sets_a_default_account_only_when_needed() -> None:
    assert "DefaultAccount=aw1" in change_argv(AddMember("aw1", "alice"), "c", EMPTY)
    assert "DefaultAccount=aw1" not in change_argv(AddMember("aw1", "root"), "c", EMPTY)


def test_every_argv_is_a_list_of_plain_words() -> None:
    plan = plan_changes(DesiredState((award(members=("alice",), gpu_cap=8),)), recorded_state())
    for change in plan.changes:
        argv = change_argv(change, "cpci")
        assert argv[:2] == ["sacctmgr", "-i"]
        assert all(isinstance(a, str) and a and not any(ch in a for ch in ";&|`$\n") for a in argv)


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("account_name", {"name": "Bad Name"}),
        ("org_account", {"org": "1org"}),
        ("members", {"members": ("no spaces",)}),
        ("gpu_minutes", {"gpu_minutes": -1}),
        ("account_name", {"name": "same", "org": "same"}),
    ],
)
def test_bad_desired_input_names_the_field(field: str, kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValidationFailed) as err:
        award(**kwargs)
    assert err.value.field == field


def test_duplicate_award_accounts_are_refused() -> None:
    with pytest.raises(ValidationFailed, match="twice"):
        DesiredState((award(), award()))


names = st.sampled_from(["aw1", "aw2", "aw3", "aw4"])
orgs = st.sampled_from(["org_a", "org_b"])
users = st.frozensets(st.sampled_from(["alice", "bob", "carol", "root"]), max_size=3)
allocations = st.builds(
    AwardAllocation,
    account_name=names,
    org_account=orgs,
    members=users,
    gpu_minutes=st.integers(0, 10_000),
    gpu_cap=st.none() | st.integers(1, 64),
    state=st.sampled_from(list(AwardState)),
)
desired_states = st.lists(allocations, max_size=4, unique_by=lambda a: a.account_name).map(
    lambda allocs: DesiredState(tuple(allocs))
)


@settings(max_examples=150, deadline=None)
@given(before=desired_states, after=desired_states)
def test_reconcile_converges_and_then_is_a_no_op(before: DesiredState, after: DesiredState) -> None:
    """From any state computeport made, one plan reaches the desired state; a second is empty."""
    start = simulate(EMPTY, plan_changes(before, EMPTY).changes)
    assert plan_changes(before, start).empty
    end = simulate(start, plan_changes(after, start).changes)
    assert plan_changes(after, end).empty
    # the operator's own things survive every reconcile
    assert "root" in end.accounts
    assert "normal" in end.qos
    assert ("root", "root") in end.members


# ----------------------------------------------------------- removals a job still needs


def test_a_removal_waits_while_a_job_still_needs_the_account_or_qos() -> None:
    actual = replace(recorded_state(), in_use={"aw1": "job 30 is PENDING"})
    plan = plan_changes(DesiredState(), actual)
    touched = {getattr(c, "name", getattr(c, "account", "")) for c in plan.changes}
    assert "aw1" not in touched  # no DeleteAccount, DeleteQos or RemoveMember of aw1
    assert "org_a" not in touched  # its parent waits for it
    assert DeleteAccount("aw3") in plan.changes  # the rest goes ahead
    assert DeleteQos("aw3") in plan.changes
    assert plan.deferred == (
        DeferredRemoval("account", "aw1", "job 30 is PENDING"),
        DeferredRemoval("account", "org_a", "its award account aw1 must go first"),
        DeferredRemoval("qos", "aw1", "job 30 is PENDING"),
    )
    assert "… qos aw1: removal deferred, job 30 is PENDING" in plan.lines()
    assert removal_names(plan_changes(DesiredState(), recorded_state())) == {
        "aw1", "aw3", "org_a", "org_b",
    }  # fmt: skip


def test_a_plan_with_only_deferrals_is_empty_but_says_what_it_waits_for() -> None:
    desired = DesiredState((award("aw3", "org_b", ("nobody", "root"), gpu_minutes=60),))
    why = "job 7 has ended but is not yet in accounting (sacct)"
    plan = plan_changes(desired, replace(recorded_state(), in_use={"aw1": why}))
    assert plan.empty  # nothing to apply now...
    assert [(d.kind, d.name) for d in plan.deferred] == [
        ("account", "aw1"), ("account", "org_a"), ("qos", "aw1"),
    ]  # fmt: skip
    assert plan.lines()[0] == f"… account aw1: removal deferred, {why}"
    # ...and once the job is in accounting, the same reconcile removes them
    assert removal_names(plan_changes(desired, recorded_state())) == {"aw1", "org_a"}


@settings(max_examples=100, deadline=None)
@given(
    before=desired_states,
    busy=st.frozensets(st.sampled_from(["aw1", "aw2", "aw3", "aw4", "org_a", "org_b"])),
)
def test_a_busy_name_is_never_removed_and_goes_once_free(
    before: DesiredState, busy: frozenset[str]
) -> None:
    start = simulate(EMPTY, plan_changes(before, EMPTY).changes)
    waiting = replace(start, in_use=dict.fromkeys(busy, "job 1 is RUNNING"))
    plan = plan_changes(DesiredState(), waiting)
    after = simulate(waiting, plan.changes)
    for name in busy & (set(start.accounts) | set(start.qos)):
        assert (name in after.accounts) == (name in start.accounts)
        assert (name in after.qos) == (name in start.qos)
        assert name in {d.name for d in plan.deferred}
    # a later reconcile, the jobs gone, removes the rest and converges
    end = simulate(after, plan_changes(DesiredState(), after).changes)
    assert plan_changes(DesiredState(), end).empty
    assert set(end.accounts) == {"root"}
    assert set(end.qos) == {"normal"}


def test_held_jobs_on_recorded_output() -> None:
    jobs = parse_held_jobs(text("squeue-states-all.txt"))
    assert ("18", "ax3", "aw9", "COMPLETED") in jobs
    assert ("19", "ax3", "normal", "RUNNING") in jobs
    assert ended_in_accounting(text("sacct-ended.txt")) == {"18"}  # 4 is PENDING, End Unknown
    names = frozenset({"aw9", "normal"})
    assert holding_reasons(jobs, names, {"18"}) == {
        "aw9": "job 20 is PENDING",
        "normal": "job 19 is RUNNING",
    }
    # ended in slurmctld but not yet in slurmdbd: still held
    assert holding_reasons(jobs, frozenset({"aw9"}), set()) == {
        "aw9": "job 18 has ended but is not yet in accounting (sacct)"
    }
    with pytest.raises(BackendOutputInvalid, match="squeue line 1"):
        parse_held_jobs("18|ax3|aw9\n")
