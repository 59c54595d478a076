"""On the real local Slurm cluster: a deployment launched as a job, found, used and dropped.

``gateway.follow.launch`` submits the deployment's server under its award's Slurm account (the
``llama`` batch template: llama.cpp's server serving SmolLM2 on CPU, the stand-in for the vLLM
template on a machine without GPUs or vLLM), with one of the cluster's GPUs, so its GPU-hours
are an ordinary job's.  The job reports its endpoint in its Comment once the server answers;
the worker's ``follow-deployments`` duty (``gateway.follow``) makes that the deployment's
upstream; the official ``openai`` client then calls the
model through the gateway; when the job is cancelled, ``follow`` removes the endpoint and the
gateway no longer offers the model.

Skipped without the cluster (``COMPUTEPORT_TEST_SLURM_DIR``), except in CI where that fails.
"""

from __future__ import annotations

import getpass
import os
import socket
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest
from sqlalchemy import Engine, select

from computeport.backends import AwardAllocation, DesiredState, JobState, reconcile
from computeport.backends.slurm import SlurmBackend
from computeport.gateway.follow import follow, launch
from computeport.gateway.keys import register_deployment
from computeport.models.award import Award
from computeport.models.inference import ModelDeployment, ModelUpstream
from computeport.worker.duties import FollowDeployments
from tests.gateway.rig import GatewayRig, build_rig
from tests.support.processes import free_port, poll
from tests.support.slurm import local_slurm_backend

pytestmark = [pytest.mark.slurm, pytest.mark.slow, pytest.mark.xdist_group("slurm")]

MODEL = "smollm2-on-slurm"
MEMBER = getpass.getuser()
"""The job runs as the test's own user: it starts this virtual environment's Python, which
another user (``nobody``, as in tests/integration) may not be able to read."""


@pytest.fixture(scope="module")
def backend() -> SlurmBackend:
    return local_slurm_backend()


@pytest.fixture(scope="module")
def slurm_rig(gateway_engine: Engine, backend: SlurmBackend) -> Iterator[GatewayRig]:
    served = build_rig(
        gateway_engine, ["http://127.0.0.1:9/v1"], settings={"gateway_cache_seconds": 0.2}
    )
    yield served
    served.stop()


def _upstreams(rig: GatewayRig) -> list[str]:
    with rig.sessions() as s:
        return sorted(
            s.scalars(
                select(ModelUpstream.base_url)
                .join(ModelDeployment, ModelDeployment.id == ModelUpstream.deployment_id)
                .where(ModelDeployment.name == MODEL)
            )
        )


def test_a_deployment_job_is_found_used_and_dropped(
    slurm_rig: GatewayRig, backend: SlurmBackend
) -> None:
    rig = slurm_rig
    # The cluster's shared work folder (mode 1777): the job writes its log there.
    workdir = Path(tempfile.mkdtemp(dir=Path(os.environ["COMPUTEPORT_TEST_SLURM_DIR"]) / "work"))
    workdir.chmod(0o1777)
    dept = rig.departments["dept"]
    with rig.sessions.begin() as s:
        award = s.get(Award, dept.award_id)
        assert award is not None
        account = award.slurm_account
        register_deployment(
            s,
            rig.clock,
            name=MODEL,
            organisation_id=award.organisation_id,
            accelerator_type="h800",
            upstreams=["http://127.0.0.1:9/v1"],  # replaced by the job's own endpoint
            award_id=award.id,
        )
    allocation = AwardAllocation(
        account_name=account,
        org_account=f"gworg{os.getpid() % 100000}",
        members=frozenset({MEMBER}),
        gpu_minutes=600,
    )
    reconcile(backend, DesiredState((allocation,)))
    port = free_port()
    job_id = None
    try:
        with rig.sessions.begin() as s:
            launched = launch(
                s,
                backend,
                MODEL,
                user=MEMBER,
                template="llama",
                model_path="smollm2",
                port=port,
                gpus=1,
                time_limit_minutes=10,
                workdir=str(workdir),
            )
        job_id = launched.job_id
        assert launched.account == account
        endpoint = f"http://{socket.gethostname().split('.')[0]}:{port}/v1"

        duty = FollowDeployments(rig.sessions, backend)  # the worker's duty, run by hand

        def served() -> bool:
            if backend.job(launched.job_id).state.finished:
                logs = "\n".join(p.read_text() for p in workdir.glob("slurm-*.out"))
                raise AssertionError(f"job {launched.job_id} ended:\n{logs}")
            duty.run(rig.clock.now())
            return _upstreams(rig) == [endpoint]

        assert poll(served, 120), f"no endpoint reported by job {job_id}"
        job = backend.job(job_id)
        assert (job.state, job.account, job.gpus) == (JobState.RUNNING, account, 1)

        client = openai.OpenAI(base_url=rig.base_url, api_key=dept.key, max_retries=0)
        assert poll(lambda: MODEL in {m.id for m in client.models.list()}, 10)
        reply = client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "Hello"}], max_tokens=5
        )
        assert reply.usage is not None
        assert reply.usage.completion_tokens > 0

        backend.cancel(job_id)

        def dropped() -> bool:
            with rig.sessions.begin() as s:
                return follow(s, backend).get(MODEL) == ()

        assert poll(dropped, 60), "the ended job's endpoint stayed"
        assert poll(lambda: MODEL not in {m.id for m in client.models.list()}, 10)
        with pytest.raises(openai.NotFoundError):
            client.chat.completions.create(
                model=MODEL, messages=[{"role": "user", "content": "Hello"}], max_tokens=5
            )
    finally:
        if job_id is not None:
            backend.cancel(job_id)
        deadline = time.monotonic() + 60  # bounded: a deferred removal is retried, no sleep
        while reconcile(backend, DesiredState()).deferred and time.monotonic() < deadline:
            pass
