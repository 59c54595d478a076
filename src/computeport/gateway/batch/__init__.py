"""Batch templates that run a model deployment as a long-running Slurm job.

Why a job: the GPUs a served model holds are the centre's like any others, so its server runs
under the owning award's Slurm account and its GPU-hours are metered, rated and invoiced like
any job's (issue 13).  ``vllm.sbatch`` is the production template; :func:`batch_script` fills
it in, refusing values that could break out of the script (the job runs what it says, so every
value is checked before it is placed, never quoted after).

The job tells where it serves by writing ``endpoint=http://<node>:<port>/v1`` in its own
Comment once its server answers ``/health`` (:data:`ENDPOINT_PREFIX`); that is what a
deployment's upstream list follows.
"""

from __future__ import annotations

import re
import sys
from importlib.resources import files
from string import Template

from computeport.kit.errors import ValidationFailed

TEMPLATES = ("vllm", "llama")
"""``vllm``: production, on GPUs; ``llama``: llama.cpp on CPU, the stand-in for tests."""
ENDPOINT_PREFIX = "endpoint="
_MODEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,99}$")
_PATH = re.compile(r"^[A-Za-z0-9._/@:+-]{1,500}$")
_TIME = re.compile(r"^(\d+-)?\d{1,2}:\d{2}:\d{2}$|^\d{1,7}$")


def _check(name: str, value: str, pattern: re.Pattern[str]) -> str:
    if not pattern.match(value):
        raise ValidationFailed(f"{name}: {value!r} is not allowed in a batch script", field=name)
    return value


def batch_script(
    template: str,
    *,
    model: str,
    model_path: str,
    port: int,
    gpus: int,
    time_limit: str = "7-00:00:00",
    python: str = sys.executable,
) -> str:
    """The batch script of ``template`` (one of :data:`TEMPLATES`) for a deployment of
    ``model`` (the name clients send) served from ``model_path`` (a Hugging Face id or a
    directory) on ``port`` with ``gpus`` GPUs."""
    if template not in TEMPLATES:
        raise ValidationFailed(
            f"template: {template!r} is not one of {', '.join(TEMPLATES)}", field="template"
        )
    if not 1024 <= port <= 65535:
        raise ValidationFailed(f"port: {port} is not from 1024 to 65535", field="port")
    if not 1 <= gpus <= 64:
        raise ValidationFailed(f"gpus: {gpus} is not from 1 to 64", field="gpus")
    text = files(__package__).joinpath(f"{template}.sbatch").read_text(encoding="utf-8")
    return Template(text).substitute(
        model=_check("model", model, _MODEL),
        job_name=job_name(model),
        python=_check("python", python, _PATH),
        model_path=_check("model_path", model_path, _PATH),
        port=str(port),
        gpus=str(gpus),
        time_limit=_check("time_limit", time_limit, _TIME),
    )


def job_name(model: str) -> str:
    """The Slurm job name of ``model``'s deployment jobs (``serve-<model>``, made safe)."""
    return "serve-" + re.sub(r"[^A-Za-z0-9._-]", "-", model)


def endpoint_of(comment: str | None) -> str | None:
    """The endpoint a deployment job reported in its Comment, if it has reported one."""
    if not comment or not comment.startswith(ENDPOINT_PREFIX):
        return None
    url = comment[len(ENDPOINT_PREFIX) :].strip()
    return url if re.match(r"^https?://[^\s/]+/v1$", url) else None


__all__ = ["ENDPOINT_PREFIX", "TEMPLATES", "batch_script", "endpoint_of", "job_name"]
