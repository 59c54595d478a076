"""The vLLM batch template: a valid bash script with every value placed and checked, and the
endpoint a running deployment job reports in its Comment."""

from __future__ import annotations

import subprocess

import pytest

from computeport.gateway.batch import batch_script, endpoint_of
from computeport.kit.errors import ValidationFailed


def test_the_vllm_script_is_valid_bash_with_every_value_placed() -> None:
    script = batch_script(
        "vllm", model="qwen2.5-72b-instruct", model_path="/models/qwen2.5-72b", port=8000, gpus=4
    )
    assert script.startswith("#!/bin/bash\n")
    checked = subprocess.run(["bash", "-n"], input=script, text=True, capture_output=True)
    assert checked.returncode == 0, checked.stderr
    assert "#SBATCH --gres=gpu:4\n" in script
    assert "#SBATCH --job-name=serve-qwen2.5-72b-instruct\n" in script
    assert "vllm serve /models/qwen2.5-72b" in script
    assert "--served-model-name qwen2.5-72b-instruct" in script
    assert "--tensor-parallel-size 4" in script
    assert "PORT=8000\n" in script
    assert "--disable-log-requests" in script  # no prompt text in the server's log
    assert 'Comment="endpoint=http://$HOST:$PORT/v1"' in script
    assert "${" not in script  # no placeholder left


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"model": "m; rm -rf /"}, "model"),
        ({"model_path": "$(reboot)"}, "model_path"),
        ({"port": 80}, "port"),
        ({"gpus": 0}, "gpus"),
        ({"time_limit": "forever"}, "time_limit"),
    ],
)
def test_a_value_that_could_break_the_script_is_refused(
    values: dict[str, object], field: str
) -> None:
    base: dict[str, object] = {"model": "m", "model_path": "org/m", "port": 8000, "gpus": 1}
    with pytest.raises(ValidationFailed) as refused:
        batch_script("vllm", **{**base, **values})  # type: ignore[arg-type]
    assert refused.value.field == field


def test_an_unknown_template_is_named() -> None:
    with pytest.raises(ValidationFailed, match="template"):
        batch_script("tgi", model="m", model_path="m", port=8000, gpus=1)


def test_the_endpoint_a_job_reports() -> None:
    assert endpoint_of("endpoint=http://gpu-017:8000/v1") == "http://gpu-017:8000/v1"
    assert endpoint_of("endpoint=http://gpu-017:8000/v1; rm") is None
    assert endpoint_of("training run 4") is None
    assert endpoint_of(None) is None
