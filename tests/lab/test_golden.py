"""Golden replays of small windows, worked out by hand, and the lab's bad input."""

from __future__ import annotations

import pytest

from computeport.kit.errors import ValidationFailed
from computeport.lab import Member, RecordedJob, history_of_records, run_study
from computeport.scheduling import Backfill, ClusterSpec, Placement, PolicyConfig

# A (government) holds the whole node for 100 s; B, C, D (a start-up) queue behind it.
RECORDS = [
    RecordedJob("A", "gov", 0, 0, 100, 8, time_limit_s=100),
    RecordedJob("B", "lab", 10, 100, 150, 4, time_limit_s=50),
    RecordedJob("C", "lab", 20, 100, 130, 4, time_limit_s=30),
    RecordedJob("D", "lab", 30, 130, 140, 2, time_limit_s=10),
]
MEMBERS = {"gov": Member("Dept", "government"), "lab": Member("Lab", "startup")}


def _history(placement: Placement = Placement.POOL, backfill: Backfill = Backfill.NONE):  # type: ignore[no-untyped-def]
    policy = PolicyConfig(backfill=backfill, placement=placement)
    return history_of_records(RECORDS, ClusterSpec.homogeneous(8, 8), policy, MEMBERS)


def test_the_baseline_of_one_node_is_what_happened() -> None:
    # by hand: A 0–100; B and C start at 100 (4 + 4 GPUs); D waits for C's end at 130
    study = run_study(_history(), 0, 200, [])  # every start inside the window: all compared
    assert study.baseline.compared == 4
    assert study.baseline.exact == 4
    base = study.outcomes[0]
    assert base.overall.wait_mean_s == (0 + 90 + 80 + 100) / 4
    assert [w.job_id for w in base.longest] == ["D", "B", "C", "A"]
    assert {g.group: g.wait_mean_s for g in base.by_category} == {
        "government": 0.0,
        "startup": 90.0,
    }


def test_one_more_node_lets_the_start_up_in_at_once() -> None:
    # by hand, 16 GPUs: B at 10, C at 20 beside A; D (2 GPUs) waits for C's end at 50
    study = run_study(_history(), 0, 40, ["nodes=+1"])
    more = study.outcomes[1]
    assert more.overall.wait_mean_s == (0 + 0 + 0 + 20) / 4
    assert more.by_org[1].group == "Lab"
    assert more.by_org[1].wait_p50_s == 0.0
    # utilisation of [0, 40): A 8×40 + B 4×30 + C 4×20 over 16×40
    assert more.utilisation == pytest.approx((320 + 120 + 80) / 640)


def test_reserving_half_for_government_keeps_the_start_up_off_the_reserved_node() -> None:
    # 2 nodes; node 1 is the government's: A takes node 0, B/C/D cannot use node 1
    study = run_study(_history(Placement.NODE), 0, 40, ["nodes=+1,reserve=government:50"])
    reserved = study.outcomes[1]
    assert {g.group: g.wait_mean_s for g in reserved.by_category} == {
        "government": 0.0,
        "startup": 90.0,
    }


def test_a_gpu_cap_holds_the_organisation_back() -> None:
    # 16 GPUs, the start-up capped at 4 at once: B 10–60, C 60–90, D 90–100
    study = run_study(_history(), 0, 40, ["nodes=+1,gpu_cap=Lab:4"])
    capped = study.outcomes[1]
    lab = next(g for g in capped.by_org if g.group == "Lab")
    assert lab.wait_mean_s == pytest.approx((0 + 40 + 60) / 3, abs=1e-3)


def test_an_approved_application_adds_its_jobs() -> None:
    study = run_study(_history(), 0, 40, ["add=newco:8"])
    added = study.outcomes[1]
    assert {g.group for g in added.by_category} == {"government", "startup", "pending"}
    assert added.overall.jobs == 5


def test_the_exports_hold_every_scenario() -> None:
    study = run_study(_history(), 0, 40, ["backfill=easy", "nodes=+1"])
    rows = study.to_csv().splitlines()
    assert rows[0].startswith("scenario,grouping,group,jobs")
    assert {r.split(",")[0] for r in rows[1:]} == {"baseline", "backfill=easy", "nodes=+1"}
    data = study.to_dict()
    assert [s["name"] for s in data["scenarios"]] == ["baseline", "backfill=easy", "nodes=+1"]


@pytest.mark.parametrize(
    ("window", "changes", "message"),
    [
        ((500, 600), [], "no jobs"),
        ((0, 40), ["reserve=army:10"], "unknown category 'army'"),
        ((0, 40), ["gpu_cap=Nobody:8"], "unknown organisation 'Nobody'"),
        ((0, 40), ["nodes=0"], "--change nodes"),
        ((0, 40), ["colour=blue"], "--change colour: unknown key"),
        ((0, 40), ["backfill=sometimes"], "--change backfill"),
        ((0, 40), ["half_life_days=-3"], "--change half_life_days"),
    ],
)
def test_bad_input_names_the_option(
    window: tuple[int, int], changes: list[str], message: str
) -> None:
    with pytest.raises(ValidationFailed, match=message):
        run_study(_history(), window[0], window[1], changes)


def test_a_change_smaller_than_the_largest_job_is_refused() -> None:
    records = [*RECORDS, RecordedJob("E", "lab", 35, 140, 150, 16)]
    history = history_of_records(records, ClusterSpec.homogeneous(16, 8), PolicyConfig(), MEMBERS)
    with pytest.raises(ValidationFailed, match="fewer than the largest job"):
        run_study(history, 0, 40, ["nodes=-1"])
