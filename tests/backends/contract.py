"""The ClusterBackend contract: one test suite every back end must pass unchanged.

Use it by subclassing :class:`ClusterBackendContract` in a ``test_*.py`` module and providing a
``harness`` fixture that returns a :class:`ContractHarness` for your back end::

    class TestSimContract(ClusterBackendContract):
        @pytest.fixture
        def harness(self) -> ContractHarness:
            backend = SimBackend(...)
            return ContractHarness(
                backend=backend,
                member="alice",                          # a user the cluster may run jobs as
                settle=lambda done, s: backend.run_until(done, s),  # advance time until done()
                now=backend.clock.now,
            )

``settle(condition, seconds)`` must return True as soon as ``condition()`` holds, advancing the
cluster as needed (a simulator moves its clock; Slurm polls real time), and False once
``seconds`` of the cluster's time have passed without it.  Every test makes its own uniquely
named award(s) and leaves the cluster as it found it: its jobs cancelled and gone (no longer
active, and no node still completing them), then a reconcile to an empty desired state removes
its accounts, QOS and reservations.  A test that needs whole nodes (a reservation of every node)
first waits, bounded, until Slurm reports them idle, so jobs of earlier tests (or of other test
modules on the same cluster) cannot make it fail.  Jobs name ``expected_run_seconds`` for
simulators.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import pytest

from computeport.backends import (
    AddMember,
    AwardAllocation,
    AwardState,
    ClusterBackend,
    CreateAccount,
    CreateQos,
    CreateReservation,
    DeleteAccount,
    DeleteQos,
    DeleteReservation,
    DesiredState,
    JobNotFound,
    JobRejected,
    JobSpec,
    JobState,
    MoveOrganisation,
    NodeState,
    PendingReason,
    RemoveMember,
    ReservedCapacity,
    UpdateQos,
    UpdateReservation,
    reconcile,
)

_counter = itertools.count()


@dataclass
class ContractHarness:
    backend: ClusterBackend
    member: str
    settle: Callable[[Callable[[], bool], float], bool]
    now: Callable[[], datetime]
    workdir: str | None = None
    other_member: str = "root"
    prefix: str = "ct"
    job_timeout_seconds: float = 60.0
    recorded: Callable[[str], bool] | None = None
    """Whether the accounting database holds a job's record yet, where that lags (Slurm's
    slurmctld hands records to slurmdbd asynchronously); ``None``: recorded at once."""


class ClusterBackendContract:
    """Behaviour every :class:`ClusterBackend` shares.  Subclasses provide ``harness``."""

    @pytest.fixture
    def harness(self) -> ContractHarness:  # pragma: no cover - overridden
        raise NotImplementedError("provide a `harness` fixture returning a ContractHarness")

    @pytest.fixture
    def names(self, harness: ContractHarness) -> Iterator[Callable[[str], str]]:
        """Unique account names; everything made under them is removed afterwards."""
        run = f"{os.getpid() % 10000}{next(_counter)}"
        made: set[str] = set()

        def name(stem: str) -> str:
            made.add(f"{harness.prefix}{stem}{run}")
            return f"{harness.prefix}{stem}{run}"

        yield name
        self.leave_as_found(harness, made)

    def leave_as_found(self, harness: ContractHarness, accounts: set[str]) -> None:
        """Cancel this suite's jobs, wait until they are gone, then remove what it provisioned.

        "Gone" is read from the cluster itself: no job of the suite's accounts is active, no
        node is still completing one (a completing node cannot be reserved), and the jobs of
        this test's ``accounts`` are in the accounting database.  The last matters on Slurm
        22.05: deleting a QOS that no *recorded* job uses removes its row outright, so a job
        record that reaches slurmdbd later names a QOS id nobody knows, and ``sacct --json``
        then breaks off that job's object ("_parser_dump: failed on field qos") — which made a
        later ingest test fail.  Every wait is bounded; running out of one fails the test
        instead of leaking work into the next one.
        """
        backend = harness.backend
        mine = {j.job_id for j in backend.jobs() if j.account in accounts}

        def ours() -> list[str]:
            return [
                j.job_id
                for j in backend.jobs()
                if j.account.startswith(harness.prefix) and not j.state.finished
            ]

        for job_id in ours():
            backend.cancel(job_id)
        gone = harness.settle(
            lambda: (
                not ours() and all(n.state is not NodeState.COMPLETING for n in backend.nodes())
            ),
            harness.job_timeout_seconds,
        )
        recorded = harness.recorded
        in_accounting = recorded is None or harness.settle(
            lambda: all(recorded(job_id) for job_id in mine), harness.job_timeout_seconds
        )
        # The planner itself defers a removal while a job still needs it (DeferredRemoval):
        # reconcile until nothing waits, bounded.
        removed = harness.settle(
            lambda: not reconcile(backend, DesiredState()).deferred, harness.job_timeout_seconds
        )
        assert gone, f"jobs of this test were still active after cancelling them: {ours()}"
        assert in_accounting, f"jobs {sorted(mine)} did not reach the accounting database"
        assert removed, "; ".join(backend.plan(DesiredState()).lines())

    def wait_until_idle(self, harness: ContractHarness, nodes: tuple[str, ...]) -> None:
        """Poll (bounded) until Slurm reports every one of ``nodes`` idle, with no GPU in use."""

        def idle() -> bool:
            state = {n.name: n for n in harness.backend.nodes()}
            return all(state[n].state is NodeState.IDLE and state[n].gpus_used == 0 for n in nodes)

        assert harness.settle(idle, harness.job_timeout_seconds), (
            f"nodes {', '.join(nodes)} were not idle within {harness.job_timeout_seconds:.0f} s: "
            + ", ".join(f"{n.name}={n.raw_state}" for n in harness.backend.nodes())
        )

    def award(
        self,
        harness: ContractHarness,
        names: Callable[[str], str],
        *,
        gpu_minutes: int = 600,
        members: frozenset[str] | None = None,
        state: AwardState = AwardState.ACTIVE,
    ) -> AwardAllocation:
        return AwardAllocation(
            account_name=names("aw"),
            org_account=names("org"),
            members=frozenset({harness.member}) if members is None else members,
            gpu_minutes=gpu_minutes,
            state=state,
        )

    def job(
        self, harness: ContractHarness, account: str, *, gpus: int = 1, minutes: int = 2
    ) -> JobSpec:
        return JobSpec(
            account=account,
            user=harness.member,
            script="#!/bin/bash\necho computeport contract\n",
            gpus=gpus,
            time_limit_minutes=minutes,
            name="contract",
            workdir=harness.workdir,
            expected_run_seconds=2,
        )

    # --------------------------------------------------------------------------- inventory

    def test_inventory_adds_up(self, harness: ContractHarness) -> None:
        nodes = harness.backend.nodes()
        partitions = harness.backend.partitions()
        assert nodes
        assert partitions
        by_name = {n.name: n for n in nodes}
        for part in partitions:
            assert part.gpus == sum(by_name[n].gpus for n in part.nodes)
            assert 0 <= part.gpus_used <= part.gpus
        for node in nodes:
            assert 0 <= node.gpus_used <= node.gpus
            assert set(node.partitions) <= {p.name for p in partitions}

    # ------------------------------------------------------------------------ provisioning

    def test_provisioning_creates_then_is_a_no_op(
        self, harness: ContractHarness, names: Callable[[str], str]
    ) -> None:
        alloc = self.award(harness, names)
        desired = DesiredState((alloc,))
        plan = harness.backend.plan(desired)
        assert CreateAccount(alloc.org_account, "root", "org") in plan.changes
        assert CreateAccount(alloc.account_name, alloc.org_account, "award") in plan.changes
        assert CreateQos(alloc.account_name, alloc.limits) in plan.changes
        assert AddMember(alloc.account_name, harness.member) in plan.changes
        assert harness.backend.plan(desired) == plan  # planning never writes
        harness.backend.apply(plan)
        assert harness.backend.plan(desired).empty
        harness.backend.apply(plan)  # an already-applied plan is harmless
        assert harness.backend.plan(desired).empty

    def test_changes_are_typed_and_converge(
        self, harness: ContractHarness, names: Callable[[str], str]
    ) -> None:
        alloc = self.award(
            harness, names, members=frozenset({harness.member, harness.other_member})
        )
        reconcile(harness.backend, DesiredState((alloc,)))
        changed = AwardAllocation(
            alloc.account_name,
            alloc.org_account,
            frozenset({harness.member}),
            gpu_minutes=1200,
            gpu_cap=8,
        )
        plan = harness.backend.plan(DesiredState((changed,)))
        assert set(plan.changes) == {
            UpdateQos(alloc.account_name, alloc.limits, changed.limits),
            RemoveMember(alloc.account_name, harness.other_member),
        }
        harness.backend.apply(plan)
        assert harness.backend.plan(DesiredState((changed,))).empty

    def test_removal_takes_away_only_what_it_made(
        self, harness: ContractHarness, names: Callable[[str], str]
    ) -> None:
        alloc = self.award(harness, names)
        reconcile(harness.backend, DesiredState((alloc,)))
        plan = harness.backend.plan(DesiredState())
        assert DeleteAccount(alloc.account_name) in plan.changes
        assert DeleteAccount(alloc.org_account) in plan.changes
        assert DeleteQos(alloc.account_name) in plan.changes
        assert all(getattr(c, "name", "") != "root" for c in plan.changes)
        harness.backend.apply(plan)
        assert harness.backend.plan(DesiredState()).empty

    def test_an_organisation_moves_to_a_parent_of_its_own(
        self, harness: ContractHarness, names: Callable[[str], str]
    ) -> None:
        """Two organisations that shared one parent (the same-millisecond defect) are split."""
        shared = names("sh")
        first = AwardAllocation(names("ma"), shared, frozenset({harness.member}), 600)
        second = AwardAllocation(names("mb"), shared, frozenset({harness.member}), 600)
        reconcile(harness.backend, DesiredState((first, second)))
        own_a, own_b = names("oa"), names("ob")
        split = DesiredState(
            (replace(first, org_account=own_a), replace(second, org_account=own_b))
        )
        plan = harness.backend.plan(split)
        assert MoveOrganisation(shared, own_a, (first.account_name,)) in plan.changes
        assert MoveOrganisation(shared, own_b, (second.account_name,)) in plan.changes
        assert DeleteAccount(shared) in plan.changes
        harness.backend.apply(plan)
        # parents moved, members kept (their associations moved with the accounts), old gone
        assert harness.backend.plan(split).empty
        harness.backend.submit(self.job(harness, second.account_name))  # still takes jobs

    # ------------------------------------------------------------------------ reservations

    def reservation(
        self,
        harness: ContractHarness,
        names: Callable[[str], str],
        account: str,
        *,
        starts_in: timedelta,
        lasts: timedelta,
        nodes: int = 1,
    ) -> ReservedCapacity:
        part = next(p for p in harness.backend.partitions() if p.default)
        start = harness.now().replace(microsecond=0) + starts_in
        return ReservedCapacity(
            "cp_" + names("rs"), account, part.name, nodes, start, start + lasts
        )

    def test_reservations_are_created_changed_and_removed_by_name(
        self, harness: ContractHarness, names: Callable[[str], str]
    ) -> None:
        alloc = self.award(harness, names)
        resv = self.reservation(
            harness,
            names,
            alloc.account_name,
            starts_in=timedelta(hours=1),
            lasts=timedelta(hours=1),
        )
        desired = DesiredState((alloc,), (resv,))
        plan = harness.backend.plan(desired)
        assert CreateReservation(resv) in plan.changes
        harness.backend.apply(plan)
        assert harness.backend.plan(desired).empty
        harness.backend.apply(plan)  # creating it again is harmless
        assert harness.backend.plan(desired).empty

        longer = replace(resv, end=resv.end + timedelta(hours=1))
        plan = harness.backend.plan(DesiredState((alloc,), (longer,)))
        [update] = plan.changes
        assert isinstance(update, UpdateReservation)
        assert update.after == longer
        harness.backend.apply(plan)
        assert harness.backend.plan(DesiredState((alloc,), (longer,))).empty

        plan = harness.backend.plan(DesiredState((alloc,)))
        assert plan.changes == (DeleteReservation(resv.name),)
        harness.backend.apply(plan)
        assert harness.backend.plan(DesiredState((alloc,))).empty

    def test_only_the_awards_jobs_start_on_reserved_nodes(
        self, harness: ContractHarness, names: Callable[[str], str]
    ) -> None:
        holder = self.award(harness, names)
        other = AwardAllocation(
            names("ot"), holder.org_account, frozenset({harness.other_member}), 600
        )
        part = next(p for p in harness.backend.partitions() if p.default)
        reconcile(harness.backend, DesiredState((holder, other)))
        # Every node of the partition is reserved: Slurm refuses ("Requested nodes are busy")
        # while any job of an earlier test still holds or completes on one of them.
        self.wait_until_idle(harness, part.nodes)
        resv = self.reservation(
            harness, names, holder.account_name,
            starts_in=timedelta(seconds=2), lasts=timedelta(minutes=30), nodes=len(part.nodes),
        )  # fmt: skip
        reconcile(harness.backend, DesiredState((holder, other), (resv,)))
        assert harness.settle(lambda: harness.now() >= resv.start, 30)

        theirs = harness.backend.submit(
            replace(self.job(harness, other.account_name), user=harness.other_member)
        )
        mine = harness.backend.submit(self.job(harness, holder.account_name))
        assert harness.settle(
            lambda: harness.backend.job(mine).state is not JobState.PENDING,
            harness.job_timeout_seconds,
        )
        assert harness.backend.job(theirs).state is JobState.PENDING
        harness.backend.cancel(theirs)  # and ``mine``: leave_as_found cancels what is left

    # -------------------------------------------------------------------------------- jobs

    def test_a_job_runs_and_is_accounted_once(
        self, harness: ContractHarness, names: Callable[[str], str]
    ) -> None:
        alloc = self.award(harness, names)
        reconcile(harness.backend, DesiredState((alloc,)))
        since = harness.now() - timedelta(seconds=2)
        job_id = harness.backend.submit(self.job(harness, alloc.account_name, gpus=2))
        assert job_id in {j.job_id for j in harness.backend.jobs(account=alloc.account_name)}
        assert harness.settle(
            lambda: harness.backend.job(job_id).state.finished, harness.job_timeout_seconds
        )
        info = harness.backend.job(job_id)
        assert info.state is JobState.COMPLETED
        assert (info.account, info.user, info.gpus) == (alloc.account_name, harness.member, 2)

        def accounted() -> bool:
            until = harness.now() + timedelta(seconds=1)
            return any(r.job_id == job_id for r in harness.backend.accounting(since, until))

        assert harness.settle(accounted, harness.job_timeout_seconds)
        until = harness.now() + timedelta(seconds=1)
        first = [r for r in harness.backend.accounting(since, until) if r.job_id == job_id]
        again = [r for r in harness.backend.accounting(since, until) if r.job_id == job_id]
        assert first == again
        (record,) = first
        assert (record.account, record.user, record.gpus) == (alloc.account_name, harness.member, 2)
        assert record.state is JobState.COMPLETED
        assert record.gpu_seconds == record.gpus * record.elapsed_seconds
        assert record.chargeable
        assert record.key == (harness.backend.cluster, job_id, record.submit_time)
        assert since <= record.end_time < until

    def test_a_job_over_the_budget_waits_for_budget(
        self, harness: ContractHarness, names: Callable[[str], str]
    ) -> None:
        alloc = self.award(harness, names, gpu_minutes=10)
        reconcile(harness.backend, DesiredState((alloc,)))
        job_id = harness.backend.submit(self.job(harness, alloc.account_name, gpus=8, minutes=5))
        assert harness.settle(
            lambda: harness.backend.job(job_id).pending_reason is PendingReason.BUDGET,
            harness.job_timeout_seconds,
        )
        assert harness.backend.job(job_id).state is JobState.PENDING
        harness.backend.cancel(job_id)
        assert harness.settle(
            lambda: harness.backend.job(job_id).state is JobState.CANCELLED,
            harness.job_timeout_seconds,
        )

    def test_a_paused_award_takes_no_jobs(
        self, harness: ContractHarness, names: Callable[[str], str]
    ) -> None:
        alloc = self.award(harness, names, state=AwardState.PAUSED)
        reconcile(harness.backend, DesiredState((alloc,)))
        with pytest.raises(JobRejected):
            harness.backend.submit(self.job(harness, alloc.account_name))

    def test_an_unknown_account_is_rejected(
        self, harness: ContractHarness, names: Callable[[str], str]
    ) -> None:
        with pytest.raises(JobRejected):
            harness.backend.submit(self.job(harness, names("nosuch")))

    def test_an_unknown_job_is_not_found(self, harness: ContractHarness) -> None:
        with pytest.raises(JobNotFound):
            harness.backend.job("987654321")
