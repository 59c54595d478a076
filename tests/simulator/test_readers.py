"""Workload readers: each format's fields, skips, rebasing, and bad lines named by number."""

from __future__ import annotations

from pathlib import Path

import pytest

from computeport.kit.errors import ValidationFailed
from computeport.scheduling import Qos
from computeport.simulator.readers import read_trace

TRACES = Path(__file__).resolve().parents[2].parent / "shared" / "traces"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def head(src: Path, dst: Path, lines: int) -> Path:
    with src.open(encoding="utf-8") as f:
        dst.write_text("".join(next(f) for _ in range(lines)), encoding="utf-8")
    return dst


class TestCsv:
    def test_fields_and_skips(self, tmp_path: Path) -> None:
        path = write(
            tmp_path,
            "w.csv",
            "job_id,submit_s,duration_s,gpus,user,group,time_limit_s,qos,gpu_type\n"
            "a,100,60,2,u1,g1,120,paid,H800\n"
            "b,50,0,1,u1,g1,,,\n"
            "c,70,30,0,u2,g2,,,\n"
            "d,80,30.0,4,u2,g2,,scavenger,\n",
        )
        w = read_trace(path, "csv")
        assert w.skipped == 2
        assert [(j.job_id, j.submit_s, j.run_s, j.gpus) for j in w.jobs] == [
            ("a", 100, 60, 2),
            ("d", 80, 30, 4),
        ]
        a, d = w.jobs
        assert (a.time_limit_s, a.qos, a.gpu_type, a.group, a.user) == (
            120,
            Qos.PAID,
            "H800",
            "g1",
            "u1",
        )
        assert (d.time_limit_s, d.qos, d.gpu_type) == (0, Qos.SCAVENGER, None)

    @pytest.mark.parametrize(
        ("row", "message"),
        [
            ("x,abc,10,1,u,g", "submit_s is not a number"),
            ("x,-5,10,1,u,g", "submit_s is negative"),
            ("x,5,10,1,u", "expected 6 fields"),
            (",5,10,1,u,g", "job_id is missing"),
            ("x,5,,1,u,g", "duration_s is missing"),
        ],
    )
    def test_bad_lines_are_named(self, tmp_path: Path, row: str, message: str) -> None:
        path = write(
            tmp_path, "w.csv", f"job_id,submit_s,duration_s,gpus,user,group\nok,1,1,1,u,g\n{row}\n"
        )
        with pytest.raises(ValidationFailed) as exc:
            read_trace(path, "csv")
        assert "line 3" in exc.value.message
        assert message in exc.value.message
        assert exc.value.field == "line 3"

    def test_missing_column(self, tmp_path: Path) -> None:
        path = write(tmp_path, "w.csv", "job_id,submit_s,gpus\n")
        with pytest.raises(ValidationFailed, match="line 1: missing column"):
            read_trace(path, "csv")


class TestSwf:
    def test_header_is_metadata_and_minus_one_is_handled(self, tmp_path: Path) -> None:
        path = write(
            tmp_path,
            "w.swf",
            "; Version: 2.2\n; Note: two\n;       lines\n"
            "1 100 -1 50 4 -1 -1 -1 -1 -1 1 7 3 -1 -1 -1 -1 -1\n"
            "2 110 -1 20 -1 -1 -1 8 600 -1 1 7 -1 -1 -1 -1 -1 -1\n"
            "3 120 -1 -1 4 -1 -1 -1 -1 -1 1 7 3 -1 -1 -1 -1 -1\n"
            "4 130 -1 10 -1 -1 -1 -1 -1 -1 1 7 3 -1 -1 -1 -1 -1\n",
        )
        w = read_trace(path, "swf")
        assert w.metadata == {"Version": "2.2", "Note": "two lines"}
        assert w.skipped == 2
        assert w.offset_s == 100
        assert [
            (j.job_id, j.submit_s, j.run_s, j.gpus, j.time_limit_s, j.group) for j in w.jobs
        ] == [
            ("1", 0, 50, 4, 0, "3"),
            ("2", 10, 20, 8, 600, ""),
        ]

    def test_short_line(self, tmp_path: Path) -> None:
        path = write(tmp_path, "w.swf", "; x\n1 2 3\n")
        with pytest.raises(ValidationFailed, match="line 2: expected 18 fields, found 3"):
            read_trace(path, "swf")

    def test_real_trace_prefix(self, tmp_path: Path) -> None:
        w = read_trace(head(TRACES / "NASA-iPSC-1993-3.1-cln.swf", tmp_path / "n.swf", 200), "swf")
        assert w.metadata["MaxProcs"] == "128"
        assert w.jobs[0].submit_s == 0
        assert all(1 <= j.gpus <= 128 for j in w.jobs)


class TestPhilly:
    def test_unsorted_rebased_and_grouped_by_virtual_cluster(self, tmp_path: Path) -> None:
        path = write(
            tmp_path,
            "p.csv",
            "timestamp,duration,num_gpus,gpu_time,cluster\n"
            "2017-10-09 07:01:55,66.0,1,66.0,11cb48\n"
            "2017-10-09 07:00:00,10.0,8,80.0,6214e9\n"
            "2017-10-09 07:02:00,0.0,8,0.0,6214e9\n",
        )
        w = read_trace(path, "philly")
        assert w.skipped == 1
        assert [(j.job_id, j.submit_s, j.run_s, j.gpus, j.group) for j in w.jobs] == [
            ("1", 115, 66, 1, "11cb48"),
            ("2", 0, 10, 8, "6214e9"),
        ]

    def test_bad_timestamp(self, tmp_path: Path) -> None:
        path = write(
            tmp_path, "p.csv", "timestamp,duration,num_gpus,gpu_time,cluster\nyesterday,1,1,1,x\n"
        )
        with pytest.raises(ValidationFailed, match="line 2: timestamp"):
            read_trace(path, "philly")

    def test_real_trace_prefix(self, tmp_path: Path) -> None:
        w = read_trace(head(TRACES / "philly.csv", tmp_path / "p.csv", 500), "philly")
        assert len(w.jobs) + w.skipped == 499
        assert min(j.submit_s for j in w.jobs) == 0


class TestAlibaba:
    def test_shares_round_up_and_unscheduled_pods_are_skipped(self, tmp_path: Path) -> None:
        path = write(
            tmp_path,
            "a.csv",
            "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time\n"
            "p0,1,1,1,460,,LS,Running,100,400,150\n"
            "p1,1,1,0,0,,BE,Running,110,400,110\n"
            "p2,1,1,1,1000,,BE,Pending,120,400,\n"
            "p3,1,1,0.5,500,,BE,Running,130,200,130\n",
        )
        w = read_trace(path, "alibaba")
        assert w.skipped == 2
        assert [(j.job_id, j.submit_s, j.run_s, j.gpus, j.group) for j in w.jobs] == [
            ("p0", 0, 250, 1, "LS"),
            ("p3", 30, 70, 1, "BE"),
        ]

    def test_real_trace_prefix(self, tmp_path: Path) -> None:
        src = TRACES / "alibaba2023_openb_pod_list_default.csv"
        w = read_trace(head(src, tmp_path / "a.csv", 300), "alibaba")
        assert w.jobs
        assert all(j.gpus >= 1 and j.run_s > 0 for j in w.jobs)


def test_unknown_format(tmp_path: Path) -> None:
    with pytest.raises(ValidationFailed, match="unknown format"):
        read_trace(tmp_path / "x", "parquet")
