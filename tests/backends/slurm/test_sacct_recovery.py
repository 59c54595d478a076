"""A job whose QOS was deleted before slurmdbd stored it: recovered from ``sacct --parsable2``.

Recorded on the local Slurm 22.05.8 cluster: job 15 ran, job 16 ran on QOS ``qx7`` which was
deleted while it ran (``sacct --json`` cuts its object short at ``qos`` and leaves job 17 out,
exit code 0), job 17 ran after it.  ``sacct-deleted-qos-others.json`` is the JSON of jobs 15 and
17 alone, to show that the text read yields the very records the JSON does.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from computeport.backends import AccountingRecord, BackendOutputInvalid, JobState
from computeport.backends.slurm.sacct import parse_sacct_json
from computeport.backends.slurm.sacct_lines import UNREADABLE_TIME, parse_sacct_lines
from tests.backends.slurm.recorded_data import data, text

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
FAR = datetime(2100, 1, 1, tzinfo=UTC)
TRUNCATED = "sacct-deleted-qos.json"
LINES = "sacct-deleted-qos.txt"


def recovered(lines: str | None = None, **kw: object) -> dict[str, AccountingRecord | None]:
    return parse_sacct_lines(text(LINES) if lines is None else lines, cluster="cpci", **kw)  # type: ignore[arg-type]


def read(
    payload: str = TRUNCATED, lines: str | None = None, *, operators: tuple[str, ...] = ()
) -> list[AccountingRecord]:
    by_id = recovered(lines, operator_users=operators)
    return parse_sacct_json(
        data(payload),
        cluster="cpci",
        since=EPOCH,
        until=FAR,
        exit_codes={k: r.exit_code for k, r in by_id.items() if r and not r.unreadable},
        operator_users=operators,
        recovered=by_id,
    )


def test_the_recorded_json_is_cut_short_and_fails_a_strict_parse() -> None:
    # the failure the soak met: one cut-short object refuses the whole window
    assert [j["job_id"] for j in data(TRUNCATED)["jobs"]] == [15, 16]
    with pytest.raises(BackendOutputInvalid, match=r"sacct job 16 .*'state.current' is missing"):
        parse_sacct_json(data(TRUNCATED), cluster="cpci", since=EPOCH, until=FAR)


def test_the_cut_short_job_and_the_jobs_after_it_are_recovered() -> None:
    records = {r.job_id: r for r in read()}
    assert sorted(records) == ["15", "16", "17"]  # 17 is not in the JSON at all
    job = records["16"]
    assert not job.unreadable
    assert job.state is JobState.FAILED
    assert job.exit_code == 3
    assert (job.gpus, job.gpu_type, job.elapsed_seconds, job.gpu_seconds) == (1, "h800", 4, 4)
    assert job.account == "ax3"
    assert job.user == "root"
    assert job.partition == "gpu"
    assert job.qos == ""  # the text says Unknown: the QOS no longer exists
    assert job.name == "bra|vo"  # a '|' in the last column stays in the name
    assert job.submit_time == datetime(2026, 12, 4, 17, 18, 17, tzinfo=UTC)
    assert job.end_time == datetime(2026, 12, 4, 17, 18, 22, tzinfo=UTC)
    assert records["17"].exit_code == 2


def test_the_text_read_yields_the_records_the_json_does() -> None:
    # A job read from JSON once and from text another time must be the same record (same
    # digest in billing), or a re-read would look like a correction.
    from_json = {r.job_id: r for r in read("sacct-deleted-qos-others.json")}
    from_text = recovered()
    assert sorted(from_json) == ["15", "16", "17"]
    for job_id in ("15", "17"):
        assert from_json[job_id] == from_text[job_id]


def test_a_field_unreadable_in_both_forms_is_kept_for_quarantine_with_why() -> None:
    broken = text(LINES).replace("|2026-12-04T17:18:22|4|", "|soon|4|")
    records = {r.job_id: r for r in read(lines=broken)}
    assert sorted(records) == ["15", "16", "17"]  # the rest of the window goes on
    job = records["16"]
    assert "'state.current' is missing" in job.unreadable  # why the JSON failed
    assert "field 'End' is 'soon', not a time" in job.unreadable  # why the text failed
    assert job.submit_time == datetime(2026, 12, 4, 17, 18, 17, tzinfo=UTC)  # its key
    assert job.end_time == UNREADABLE_TIME
    assert not job.chargeable
    assert not records["15"].unreadable


def test_a_short_line_is_kept_by_its_job_id() -> None:
    (record,) = [r for r in recovered("42|cpci|acct\n").values() if r]
    assert record.job_id == "42"
    assert record.submit_time == UNREADABLE_TIME  # a stable key: read again, the same record
    assert "3 of 15 fields" in record.unreadable


def test_a_line_without_a_job_id_fails_the_window() -> None:
    with pytest.raises(BackendOutputInvalid, match="line 2: no job id"):
        recovered(text(LINES).splitlines()[0] + "\n|cpci|x\n")


def test_a_json_job_the_text_does_not_list_fails_the_window() -> None:
    # Neither ingested nor quarantinable: the window must fail so its mark is not passed.
    lines = "\n".join(line for line in text(LINES).splitlines() if not line.startswith("16|"))
    with pytest.raises(BackendOutputInvalid, match="does not list that job either"):
        read(lines=lines)


def test_unfinished_jobs_are_listed_but_not_returned() -> None:
    pending = text(LINES).replace(
        "|FAILED|2026-12-04T17:18:17|", "|PENDING|2026-12-04T17:18:17|", 1
    )
    assert recovered(pending)["16"] is None
    assert sorted(r.job_id for r in read(lines=pending)) == ["15", "17"]


def test_a_cancel_by_uid_names_the_user_and_an_operators_cancel_is_not_charged() -> None:
    lines = text(LINES).replace(
        "|FAILED|2026-12-04T17:18:17|", "|CANCELLED by 0|2026-12-04T17:18:17|"
    )
    (job,) = [r for r in read(lines=lines, operators=("root",)) if r.job_id == "16"]
    assert job.state is JobState.CANCELLED
    assert job.cancelled_by == "root"
    assert not job.chargeable


def test_json_that_is_not_a_list_of_jobs_falls_back_to_the_text() -> None:
    by_id = recovered()
    records = parse_sacct_json({}, cluster="cpci", since=EPOCH, until=FAR, recovered=by_id)
    assert sorted(r.job_id for r in records) == ["15", "16", "17"]
