"""Hostile trace input in every reader: numbers beyond a machine integer, text that is not
UTF-8, NUL bytes, NaN/infinite/negative values, broken quoting.  Each is a clear error naming
the line (``ValidationFailed``; ``computeport simulate`` exits 2), never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from computeport.cli.main import app
from computeport.kit.errors import ValidationFailed
from computeport.simulator.readers import read_trace

HUGE = "9" * 30
CSV_HEAD = b"job_id,submit_s,duration_s,gpus,user,group\n"
PHILLY_HEAD = b"timestamp,duration,num_gpus,gpu_time,cluster\n"
ALIBABA_HEAD = b"name,num_gpu,qos,creation_time,deletion_time,scheduled_time\n"
SWF_OK = b"1 0 -1 10 1 -1 -1 -1 -1 -1 1 1 1 -1 -1 -1 -1 -1\n"


def swf_line(**fields: str) -> bytes:
    values = ["2", "5", "-1", "10", "1", "-1", "-1", "-1", "-1", "-1", "1", "1", "1"]
    values += ["-1"] * 5
    positions = {"submit": 1, "run": 3, "procs": 4, "limit": 8, "user": 11}
    for name, value in fields.items():
        values[positions[name]] = value
    return " ".join(values).encode() + b"\n"


CASES: list[tuple[str, str, bytes, str]] = [
    # (id, format, file bytes, what the message must say) -- the bad record is always line 2
    ("csv-huge-gpus", "csv", CSV_HEAD + f"j1,0,100,{HUGE},u,g\n".encode(), "gpus is out of range"),
    ("csv-huge-submit", "csv", CSV_HEAD + f"j1,{HUGE},100,1,u,g\n".encode(), "submit_s is out"),
    ("csv-float-gpus", "csv", CSV_HEAD + b"j1,0,100,1e300,u,g\n", "gpus is out of range"),
    ("csv-nan", "csv", CSV_HEAD + b"j1,0,nan,1,u,g\n", "duration_s is not finite"),
    ("csv-inf", "csv", CSV_HEAD + b"j1,0,100,-inf,u,g\n", "gpus is not finite"),
    ("csv-negative", "csv", CSV_HEAD + b"j1,-5,100,1,u,g\n", "submit_s is negative"),
    ("csv-unicode-digit", "csv", CSV_HEAD + "j1,0,100,\u00b2,u,g\n".encode(), "gpus is not a num"),
    ("csv-latin1", "csv", CSV_HEAD + b"j1,0,100,1,J\xe9r\xf4me,g\n", "not UTF-8 text"),
    ("csv-nul", "csv", CSV_HEAD + b"j1,0,100,1,u\x00,g\n", "NUL byte"),
    ("csv-open-quote", "csv", CSV_HEAD + b'j1,0,100,1,"u,g\n', "expected 6 fields"),
    (
        "philly-huge",
        "philly",
        PHILLY_HEAD + f"2017-10-03 01:02:03,{HUGE},1,1,vc\n".encode(),
        "duration is out of range",
    ),
    (
        "philly-gpus",
        "philly",
        PHILLY_HEAD + f"2017-10-03 01:02:03,10,{HUGE},1,vc\n".encode(),
        "num_gpus is out of range",
    ),
    (
        "philly-utf16",
        "philly",
        PHILLY_HEAD + "2017-10-03 01:02:03,10,1,1,vc\n".encode("utf-16"),
        "not UTF-8 text",
    ),
    (
        "alibaba-huge-share",
        "alibaba",
        ALIBABA_HEAD + b"p1,1e300,LS,0,100,10\n",
        "num_gpu is out of range",
    ),
    ("alibaba-nan", "alibaba", ALIBABA_HEAD + b"p1,nan,LS,0,100,10\n", "num_gpu is not finite"),
    (
        "alibaba-huge-time",
        "alibaba",
        ALIBABA_HEAD + f"p1,1,LS,0,{HUGE},10\n".encode(),
        "deletion_time is out of range",
    ),
    ("alibaba-nul", "alibaba", ALIBABA_HEAD + b"p1\x00,1,LS,0,100,10\n", "NUL byte"),
    ("swf-huge-procs", "swf", SWF_OK + swf_line(procs=HUGE), "allocated processors (field 5)"),
    ("swf-huge-run", "swf", SWF_OK + swf_line(run=HUGE), "run time (field 4) is out of range"),
    ("swf-huge-user", "swf", SWF_OK + swf_line(user=HUGE), "user (field 12) is out of range"),
    ("swf-nan", "swf", SWF_OK + swf_line(limit="nan"), "requested time (field 9) is not finite"),
    ("swf-binary", "swf", SWF_OK + b"2 5 \xff\xfe 10 1\n", "not UTF-8 text"),
    ("swf-nul", "swf", SWF_OK + swf_line(user="1\x00"), "NUL byte"),
]


@pytest.mark.parametrize(
    ("fmt", "content", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_record_is_named_by_line(
    tmp_path: Path, fmt: str, content: bytes, message: str
) -> None:
    path = tmp_path / "trace"
    path.write_bytes(content)
    with pytest.raises(ValidationFailed, match="line 2") as info:
        read_trace(path, fmt)
    assert message in info.value.message
    assert info.value.field == "line 2"


def test_utf8_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + CSV_HEAD + b"j1,0,100,1,u,g\n")
    assert [j.job_id for j in read_trace(path, "csv").jobs] == ["j1"]


def test_swf_header_comment_in_another_encoding_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "old.swf"
    path.write_bytes(b"; Installation: Universit\xe4t\n" + SWF_OK)
    workload = read_trace(path, "swf")
    assert workload.metadata["Installation"] == "Universit\ufffdt"
    assert len(workload.jobs) == 1


def test_large_but_machine_sized_gpu_count_is_rejected_by_the_cluster_not_a_crash(
    tmp_path: Path,
) -> None:
    path = tmp_path / "big.csv"
    path.write_bytes(CSV_HEAD + f"j1,0,100,{2**62},u,g\nj2,0,100,1,u,g\n".encode())
    out = tmp_path / "result.json"
    result = CliRunner().invoke(
        app,
        [
            "simulate",
            "--trace",
            str(path),
            "--format",
            "csv",
            "--gpus",
            "8",
            "--out",
            str(out),
            "--jobs-out",
            str(tmp_path / "jobs.csv"),
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(out.read_text())
    assert (summary["jobs"], summary["rejected"]) == (2, 1)


@pytest.mark.parametrize(
    "content",
    [CSV_HEAD + f"j1,0,100,{HUGE},u,g\n".encode(), CSV_HEAD + b"j1,0,100,1,\xff,g\n"],
    ids=["huge-gpus", "not-utf8"],
)
def test_simulate_exits_2_naming_the_line(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "w.csv"
    path.write_bytes(content)
    result = CliRunner().invoke(
        app,
        [
            "simulate",
            "--trace",
            str(path),
            "--format",
            "csv",
            "--gpus",
            "8",
            "--out",
            str(tmp_path / "r.json"),
            "--jobs-out",
            str(tmp_path / "j.csv"),
        ],
    )
    assert result.exit_code == 2
    assert "line 2" in result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
