"""Parsers on output recorded from the local Slurm 22.05 cluster (tests/backends/slurm/recorded)."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import pytest

from computeport.backends import (
    AccountingRecord,
    BackendOutputInvalid,
    JobState,
    NodeState,
    PendingReason,
)
from computeport.backends.reasons import normalise_reason
from computeport.backends.slurm.sacct import (
    parse_exit_codes,
    parse_sacct_json,
    sacct_time,
)
from computeport.backends.slurm.sacctmgr import (
    ASSOC_FORMAT,
    parse_accounts,
    parse_associations,
    parse_pipe_table,
    parse_qos,
    parse_users,
)
from computeport.backends.slurm.sinfo import parse_gres, parse_partitions, parse_sinfo_json
from computeport.backends.slurm.squeue import (
    expand_hostlist,
    parse_sbatch_parsable,
    parse_squeue_json,
    wait_status_exit_code,
)
from computeport.backends.slurm.tres import gpus_from_json, gpus_from_string
from tests.backends.slurm.recorded_data import data, text

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
FAR = datetime(2100, 1, 1, tzinfo=UTC)


def records(
    payload: Mapping[str, Any] | None = None,
    *,
    since: datetime = EPOCH,
    until: datetime = FAR,
    exit_codes: Mapping[str, int] | None = None,
    operator_users: Iterable[str] = (),
) -> list[AccountingRecord]:
    return parse_sacct_json(
        payload or data("sacct.json"),
        cluster="cpci",
        since=since,
        until=until,
        exit_codes=exit_codes,
        operator_users=operator_users,
    )


class TestSacctmgr:
    def test_accounts_carry_the_computeport_mark(self) -> None:
        accounts = {a.name: a for a in parse_accounts(text("sacctmgr-show-account.txt"))}
        assert accounts["aw1"].managed
        assert accounts["org_a"].managed
        assert not accounts["root"].managed

    def test_associations_give_the_tree_and_members(self) -> None:
        assocs = parse_associations(text("sacctmgr-show-assoc.txt"))
        aw1 = next(a for a in assocs if a.account == "aw1" and not a.user)
        assert aw1.parent == "org_a"
        assert aw1.qos == frozenset({"aw1"})
        assert aw1.default_qos == "aw1"
        members = {(a.account, a.user) for a in assocs if a.user}
        assert ("aw3", "root") in members
        assert ("aw1", "nobody") in members

    def test_qos_limits(self) -> None:
        qos = {q.name: q for q in parse_qos(text("sacctmgr-show-qos.txt"))}
        assert qos["aw1"].grp_tres_mins == {"gres/gpu": 600}
        assert qos["aw1"].limits.gpu_cap == 16
        assert qos["aw3"].limits.gpu_cap is None
        assert "NoDecay" in qos["aw3"].flags
        assert not qos["aw3"].limits.paused
        assert not qos["normal"].managed

    def test_users_and_default_accounts(self) -> None:
        assert parse_users(text("sacctmgr-show-user.txt")) == {"nobody": "aw1", "root": "root"}

    def test_a_renamed_column_fails_naming_line_one(self) -> None:
        bad = text("sacctmgr-show-assoc.txt").replace("Def QOS", "Default QOS", 1)
        with pytest.raises(BackendOutputInvalid, match="line 1"):
            parse_associations(bad)

    def test_a_short_line_is_named(self) -> None:
        bad = text("sacctmgr-show-assoc.txt") + "cpci|x\n"
        with pytest.raises(BackendOutputInvalid, match=r"line 11: 2 fields, expected 7"):
            parse_pipe_table(bad, ASSOC_FORMAT, what="show assoc")

    def test_empty_output_is_an_error(self) -> None:
        with pytest.raises(BackendOutputInvalid, match="empty output"):
            parse_qos("")


class TestTres:
    def test_typed_wins_over_untyped_never_summed(self) -> None:
        count = gpus_from_string("cpu=1,gres/gpu:h800=3,gres/gpu=3,mem=1000M")
        assert (count.gpus, count.gpu_type) == (3, "h800")

    def test_untyped_alone(self) -> None:
        assert gpus_from_string("cpu=1,gres/gpu=8").gpus == 8
        assert gpus_from_string("cpu=1,gres/gpu=8").gpu_type is None

    def test_json_list_form(self) -> None:
        entries: list[dict[str, Any]] = [
            {"type": "gres", "name": "gpu", "count": 4},
            {"type": "gres", "name": "gpu:h800", "count": 4},
            {"type": "cpu", "name": None, "count": 2},
        ]
        assert gpus_from_json(entries).gpus == 4

    def test_mixed_types_sum_the_typed(self) -> None:
        count = gpus_from_string("gres/gpu=6,gres/gpu:h800=4,gres/gpu:a100=2")
        assert (count.gpus, count.gpu_type) == (6, "mixed")

    def test_bad_value_names_the_field(self) -> None:
        with pytest.raises(BackendOutputInvalid, match="gres/gpu"):
            gpus_from_string("gres/gpu=lots", field="AllocTRES")


class TestSacct:
    def test_one_record_per_finished_allocation_in_end_order(self) -> None:
        recs = records(exit_codes=parse_exit_codes(text("sacct-exit-codes.txt")))
        assert [r.job_id for r in recs] == ["1", "2", "3", "4", "5", "6", "7"]  # 8 is pending
        assert [r.end_time for r in recs] == sorted(r.end_time for r in recs)

    def test_records_match_sacct_text_output(self) -> None:
        """The JSON parser and sacct's own -P text agree on every field we bill on."""
        by_id = {r.job_id: r for r in records()}
        lines = text("sacct-text.txt").splitlines()[1:]
        for line in lines:
            job_id, account, user, state, alloc, elapsed, submit, _start, _end = line.split("|")
            if state == "PENDING":
                assert job_id not in by_id
                continue
            record = by_id[job_id]
            assert (record.account, record.user) == (account, user)
            assert record.state.value == state.split()[0]
            assert record.submit_time == datetime.fromisoformat(submit).replace(tzinfo=UTC)
            if alloc:
                gpus = gpus_from_string(alloc).gpus
                assert record.gpus == gpus
                assert record.gpu_seconds == gpus * int(elapsed)

    def test_gpu_seconds_and_type(self) -> None:
        seven = next(r for r in records() if r.job_id == "7")
        assert (seven.gpus, seven.gpu_type, seven.elapsed_seconds) == (3, "h800", 30)
        assert seven.gpu_seconds == 90
        assert seven.key == ("cpci", "7", seven.submit_time)

    def test_never_started_job_has_no_start_and_no_gpu_seconds(self) -> None:
        two = next(r for r in records() if r.job_id == "2")
        assert two.state is JobState.CANCELLED
        assert two.start_time is None
        assert two.gpu_seconds == 0
        assert two.gpus == 8
        assert two.gpu_type is None
        assert two.cancelled_by == "root"

    def test_exit_codes_come_from_the_text_read(self) -> None:
        # dbv0.0.38 says SUCCESS/0 for job 4 (exit 3); the -P read is right.
        codes = parse_exit_codes(text("sacct-exit-codes.txt"))
        by_id = {r.job_id: r for r in records(exit_codes=codes)}
        assert by_id["4"].exit_code == 3
        assert by_id["5"].exit_code == 137
        assert records()[4].exit_code == 137  # the JSON does have signals

    def test_window_is_half_open_on_end_time(self) -> None:
        seven = next(r for r in records() if r.job_id == "7")
        assert [r.job_id for r in records(since=seven.end_time)] == ["7"]
        assert "7" not in [r.job_id for r in records(until=seven.end_time)]

    def test_node_fail_is_kept_but_not_chargeable(self) -> None:
        payload = copy.deepcopy(data("sacct.json"))
        payload["jobs"][6]["state"]["current"] = "NODE_FAIL"
        seven = next(r for r in records(payload) if r.job_id == "7")
        assert seven.state is JobState.NODE_FAIL
        assert not seven.chargeable
        assert seven.gpu_seconds == 90

    def test_an_operator_cancel_is_not_chargeable(self) -> None:
        two = next(r for r in records(operator_users={"root"}) if r.job_id == "2")
        assert not two.chargeable
        assert next(r for r in records() if r.job_id == "2").chargeable

    def test_requeued_id_with_a_new_submit_time_is_a_second_record(self) -> None:
        payload = copy.deepcopy(data("sacct.json"))
        again = copy.deepcopy(payload["jobs"][6])
        again["time"]["submission"] += 100
        again["time"]["start"] += 100
        again["time"]["end"] += 100
        payload["jobs"].append(again)
        payload["jobs"].append(copy.deepcopy(again))  # listed twice: still one record
        sevens = [r for r in records(payload) if r.job_id == "7"]
        assert len(sevens) == 2
        assert len({r.key for r in sevens}) == 2

    def test_a_missing_field_names_the_job_and_field(self) -> None:
        payload = copy.deepcopy(data("sacct.json"))
        del payload["jobs"][6]["time"]["submission"]
        with pytest.raises(BackendOutputInvalid, match=r"sacct job 7 .*time.submission"):
            records(payload)

    def test_no_jobs_list_is_an_error(self) -> None:
        with pytest.raises(BackendOutputInvalid, match="jobs"):
            records({"meta": {}})

    def test_bad_exit_code_line_is_named(self) -> None:
        with pytest.raises(BackendOutputInvalid, match="line 2"):
            parse_exit_codes("1|0:0\n2|oops\n")

    def test_sacct_time_is_utc(self) -> None:
        assert sacct_time(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2026-01-02T03:04:05"


class TestSqueue:
    def test_jobs_with_state_reason_and_gpus(self) -> None:
        jobs = {j.job_id: j for j in parse_squeue_json(data("squeue.json"))}
        running = jobs["9"]
        assert running.state is JobState.RUNNING
        assert running.start_time is not None
        assert running.end_time is None
        assert (running.gpus, running.gpu_type, running.nodes) == (2, "h800", ("n1",))
        assert jobs["4"].exit_code == 3
        assert jobs["5"].exit_code == 137
        assert jobs["6"].nodes == ("n1", "n2")
        assert jobs["8"].pending_reason is PendingReason.LIMIT  # QOSGrpGRES: the GPU cap

    def test_budget_pending(self) -> None:
        jobs = {j.job_id: j for j in parse_squeue_json(data("squeue-budget-pending.json"))}
        assert jobs["2"].state is JobState.PENDING
        assert jobs["2"].reason == "QOSGrpGRESMinutes"
        assert jobs["2"].pending_reason is PendingReason.BUDGET
        assert jobs["2"].gpus == 8

    @pytest.mark.parametrize(
        ("reason", "expected"),
        [
            ("AssocGrpGRESMinutes", PendingReason.BUDGET),
            ("QOSGrpGRESMinutes", PendingReason.BUDGET),
            ("QOSGrpTRESRunMinutes", PendingReason.BUDGET),
            ("QOSGrpJobsLimit", PendingReason.PAUSED),
            ("Resources", PendingReason.RESOURCES),
            ("Priority", PendingReason.PRIORITY),
            ("Dependency", PendingReason.DEPENDENCY),
            ("AssocGrpGRES", PendingReason.LIMIT),
            ("BeginTime", PendingReason.OTHER),
        ],
    )
    def test_reasons_normalise(self, reason: str, expected: PendingReason) -> None:
        assert normalise_reason(JobState.PENDING, reason) is expected
        assert normalise_reason(JobState.RUNNING, reason) is PendingReason.NONE

    def test_hostlists(self) -> None:
        assert expand_hostlist("n[1-3,5],m2") == ("n1", "n2", "n3", "n5", "m2")
        assert expand_hostlist("gpu[008-010]") == ("gpu008", "gpu009", "gpu010")
        assert expand_hostlist("") == ()

    def test_wait_status(self) -> None:
        assert wait_status_exit_code(768) == 3
        assert wait_status_exit_code(9) == 137
        assert wait_status_exit_code(0) == 0

    def test_sbatch_parsable(self) -> None:
        assert parse_sbatch_parsable(text("sbatch-parsable.txt")) == "9"
        assert parse_sbatch_parsable("12;cpci\n") == "12"
        with pytest.raises(BackendOutputInvalid, match="not a job id"):
            parse_sbatch_parsable("sbatch: error: nope")


class TestSinfo:
    def test_nodes(self) -> None:
        nodes = parse_sinfo_json(data("sinfo.json"))
        assert [n.name for n in nodes] == ["n1", "n2", "n3", "n4"]
        assert all(n.gpus == 8 and n.gpu_type == "h800" for n in nodes)
        n1 = nodes[0]
        assert n1.state is NodeState.MIXED
        assert n1.gpus_used == 2

    def test_partitions_sum_their_nodes(self) -> None:
        nodes = parse_sinfo_json(data("sinfo.json"))
        (gpu,) = parse_partitions(nodes, text("scontrol-show-partition.txt"))
        assert gpu.up
        assert gpu.default
        assert (gpu.gpus, gpu.gpus_used, gpu.gpu_types) == (32, 2, ("h800",))

    def test_drained_and_not_responding(self) -> None:
        payload = copy.deepcopy(data("sinfo.json"))
        payload["nodes"][1]["state_flags"] = ["DRAIN"]
        payload["nodes"][2]["state_flags"] = ["NOT_RESPONDING"]
        nodes = parse_sinfo_json(payload)
        assert nodes[1].state is NodeState.DRAINED
        assert nodes[2].state is NodeState.DOWN

    def test_gres_forms(self) -> None:
        assert parse_gres("gpu:h800:8(S:0)") == (8, "h800")
        assert parse_gres("gpu:2(IDX:0-1)") == (2, None)
        assert parse_gres("") == (0, None)
