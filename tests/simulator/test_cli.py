"""``computeport simulate`` on prefixes of the shared traces, and its bad-input errors."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from computeport.cli.main import app

TRACES = Path(__file__).resolve().parents[2].parent / "shared" / "traces"
RESULT_KEYS = {
    "jobs",
    "rejected",
    "gpus",
    "makespan_s",
    "utilisation",
    "wait_s",
    "jct_s",
    "bounded_slowdown",
    "preemptions",
    "lost_gpu_hours",
    "by_group",
    "series",
    "wall_s",
    "jobs_per_s",
}
runner = CliRunner()


def head(src: Path, dst: Path, lines: int) -> Path:
    with src.open(encoding="utf-8") as f:
        dst.write_text("".join(next(f) for _ in range(lines)), encoding="utf-8")
    return dst


def simulate(tmp_path: Path, *args: str) -> tuple[int, str, Path, Path]:
    out, jobs = tmp_path / "result.json", tmp_path / "jobs.csv"
    res = runner.invoke(app, ["simulate", *args, "--out", str(out), "--jobs-out", str(jobs)])
    return res.exit_code, res.output, out, jobs


@pytest.mark.parametrize(
    ("name", "fmt", "lines", "gpus", "extra"),
    [
        ("philly.csv", "philly", 2000, "2816", ["--policy", "sjf"]),
        ("NASA-iPSC-1993-3.1-cln.swf", "swf", 1000, "128", ["--gpus-per-node", "1"]),
        ("alibaba2023_openb_pod_list_default.csv", "alibaba", 800, "64", ["--placement", "pool"]),
    ],
)
def test_real_trace_prefixes(
    tmp_path: Path, name: str, fmt: str, lines: int, gpus: str, extra: list[str]
) -> None:
    trace = head(TRACES / name, tmp_path / name, lines)
    code, output, out, jobs = simulate(
        tmp_path, "--trace", str(trace), "--format", fmt, "--gpus", gpus, *extra
    )
    assert code == 0, output
    body = json.loads(out.read_text())
    assert set(body) >= RESULT_KEYS
    assert body["gpus"] == int(gpus)
    assert 0 < body["utilisation"] <= 1
    assert set(body["wait_s"]) == {"mean", "p50", "p95", "p99"}
    assert body["series"]["bucket_s"] == 3600
    with jobs.open() as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["job_id", "submit_s", "start_s", "end_s", "gpus"]
    assert len(rows) - 1 == body["jobs"]


@pytest.mark.parametrize("policy", ["fifo", "sjf", "multifactor"])
@pytest.mark.parametrize("placement", ["pool", "node"])
@pytest.mark.parametrize("backfill", ["none", "easy"])
def test_every_policy_and_placement_is_deterministic(
    tmp_path: Path, policy: str, placement: str, backfill: str
) -> None:
    trace = head(TRACES / "philly.csv", tmp_path / "p.csv", 300)
    args = ["--trace", str(trace), "--format", "philly", "--gpus", "64", "--policy", policy]
    args += ["--placement", placement, "--backfill", backfill]
    outputs = []
    for run in ("first", "second"):
        (tmp_path / run).mkdir()
        code, output, _, jobs = simulate(tmp_path / run, *args)
        assert code == 0, output
        outputs.append(jobs.read_bytes())
    assert outputs[0] == outputs[1]


def test_plot(tmp_path: Path) -> None:
    trace = head(TRACES / "philly.csv", tmp_path / "p.csv", 300)
    png = tmp_path / "report.png"
    code, output, _, _ = simulate(
        tmp_path, "--trace", str(trace), "--format", "philly", "--gpus", "64", "--plot", str(png)
    )
    assert code == 0, output
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_rejected_jobs_are_counted_and_listed(tmp_path: Path) -> None:
    trace = tmp_path / "w.csv"
    trace.write_text(
        "job_id,submit_s,duration_s,gpus,user,group\nsmall,0,10,4,u,g\nhuge,5,10,64,u,g\n"
    )
    code, output, out, jobs = simulate(
        tmp_path, "--trace", str(trace), "--format", "csv", "--gpus", "8"
    )
    assert code == 0, output
    body = json.loads(out.read_text())
    assert body["rejected"] == 1
    assert body["rejected_jobs"] == ["huge"]
    assert jobs.read_text().splitlines()[2] == "huge,5,,,64"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--policy", "lottery"], "--policy must be one of fifo, sjf, multifactor"),
        (["--backfill", "sometimes"], "--backfill must be one of none, easy, conservative"),
        (["--placement", "rack"], "--placement"),
        (["--estimates", "guess"], "--estimates"),
        (["--gpus", "0"], "--gpus must be ≥ 1"),
        (["--gpus", "12"], "must be a multiple of --gpus-per-node"),
    ],
)
def test_bad_options_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    trace = tmp_path / "w.csv"
    trace.write_text("job_id,submit_s,duration_s,gpus,user,group\na,0,10,1,u,g\n")
    base = {"--trace": str(trace), "--format": "csv", "--gpus": "16"}
    for flag, value in zip(args[::2], args[1::2], strict=True):
        base[flag] = value
    flat = [x for kv in base.items() for x in kv]
    code, output, _, _ = simulate(tmp_path, *flat)
    assert code == 2
    assert message in output


def test_bad_line_exits_2_and_names_the_line(tmp_path: Path) -> None:
    trace = tmp_path / "w.swf"
    trace.write_text("; Version: 2\n1 0 -1 10 1 -1 -1 -1 -1 -1 1 1 1 -1 -1 -1 -1 -1\n2 5 -1 x\n")
    code, output, _, _ = simulate(tmp_path, "--trace", str(trace), "--format", "swf", "--gpus", "8")
    assert code == 2
    assert "line 3" in output


def test_unknown_format_and_missing_file_exit_2(tmp_path: Path) -> None:
    code, output, _, _ = simulate(
        tmp_path, "--trace", str(tmp_path / "none.csv"), "--format", "csv", "--gpus", "8"
    )
    assert code == 2
    assert "no such file" in output
    code, output, _, _ = simulate(
        tmp_path, "--trace", str(tmp_path), "--format", "parquet", "--gpus", "8"
    )
    assert code == 2
    assert "--format must be one of" in output
