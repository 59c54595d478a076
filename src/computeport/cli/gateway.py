"""``computeport gateway``: deployments, keys and allowances of the inference gateway.

Deployments run as Slurm jobs are launched (``launch``) and followed (``follow``) here too.
The same services as the management API (``/api/v1/model-deployments``, ``/gateway-keys``,
``/awards/{id}/inference-allowance``), for an operator at the console: bad input is a message
naming the field and exit code 2, with nothing written.
"""

from __future__ import annotations

import uuid
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from computeport.cli.common import command_session, console, fail
from computeport.cli.gateway_budgets import app as budget_app
from computeport.cli.slurm import ClusterOption, ConfOption, TimeoutOption, slurm_backend
from computeport.gateway import keys as service
from computeport.gateway.data_policy import set_policy
from computeport.gateway.repository import policy_of
from computeport.kit.clock import SystemClock
from computeport.models.award import Award
from computeport.models.data_policy import DataPolicy
from computeport.models.identity import Organisation
from computeport.models.inference import ModelDeployment, ModelUpstream

app = typer.Typer(
    help="The inference gateway: deployments, keys, allowances.", no_args_is_help=True
)
key_app = typer.Typer(help="Gateway keys (shown once).", no_args_is_help=True)
app.add_typer(key_app, name="key")
policy_app = typer.Typer(
    help="Data policies: redaction and allowed sites, per organisation.", no_args_is_help=True
)
app.add_typer(policy_app, name="policy")
app.add_typer(budget_app, name="budget")


def organisation_named(session: Session, name_or_id: str) -> Organisation:
    try:
        found = session.get(Organisation, uuid.UUID(name_or_id))
    except ValueError:
        found = session.scalar(select(Organisation).where(Organisation.name == name_or_id))
    if found is None:
        raise fail(f"no organisation {name_or_id!r} (--org takes its name or id)")
    return found


@app.command("deploy")
def deploy(
    name: Annotated[str, typer.Argument(help="The model name clients send.")],
    org: Annotated[str, typer.Option(help="The owning organisation (name or id).")],
    upstream: Annotated[
        list[str],
        typer.Option(
            help="An OpenAI-compatible base URL ending in /v1, or SITE=URL for an upstream at "
            "a site of its own (repeatable)."
        ),
    ],
    accelerator: Annotated[str, typer.Option(help="The accelerator type it runs on.")] = "h800",
    award: Annotated[str | None, typer.Option(help="The award running it (reference).")] = None,
    modality: Annotated[
        str, typer.Option(help="text (chat, completions, embeddings) or speech (/v1/audio/…).")
    ] = "text",
    site: Annotated[
        str | None, typer.Option(help="The inventory site of the plain URLs (residency).")
    ] = None,
) -> None:
    """Register a model deployment and its upstream endpoints (tagged with their sites)."""
    clock = SystemClock()
    with command_session() as session:
        owner = organisation_named(session, org)
        award_id = None
        if award is not None:
            award_id = session.scalar(select(Award.id).where(Award.reference == award))
            if award_id is None:
                raise fail(f"no award {award!r} (--award)")
        d = service.register_deployment(
            session,
            clock,
            name=name,
            organisation_id=owner.id,
            accelerator_type=accelerator,
            upstreams=[_placed(u) for u in upstream],
            award_id=award_id,
            modality=modality,
            site=site,
        )
        console.print(
            f"deployment {d.name} ({d.modality}) on {d.accelerator_type}: "
            f"{len(upstream)} upstream(s)"
        )


@app.command("site")
def site(
    name: Annotated[str, typer.Argument(help="The deployment's model name.")],
    site_key: Annotated[str, typer.Option("--site", help="The inventory site they run at.")],
    upstream: Annotated[
        list[str] | None,
        typer.Option(help="One of its upstream URLs (repeatable; none: all of them)."),
    ] = None,
) -> None:
    """Tag a deployment's upstreams with the site they run at (data residency)."""
    with command_session() as session:
        d = session.scalar(select(ModelDeployment).where(ModelDeployment.name == name))
        if d is None:
            raise fail(f"no deployment {name!r}")
        urls = upstream or list(
            session.scalars(
                select(ModelUpstream.base_url).where(ModelUpstream.deployment_id == d.id)
            )
        )
        service.tag_upstreams(session, SystemClock(), d.id, dict.fromkeys(urls, site_key), None)
        console.print(f"deployment {name}: {len(urls)} upstream(s) at {site_key}")


def _placed(value: str) -> str | tuple[str, str | None]:
    """``SITE=URL`` as (URL, SITE); a plain URL as it is."""
    at, sep, url = value.partition("=")
    if sep and "://" not in at:
        return (url, at)
    return value


@key_app.command("issue")
def issue(
    org: Annotated[str, typer.Option(help="The organisation (name or id).")],
    application: Annotated[str, typer.Option(help="The application that will use the key.")],
) -> None:
    """Issue a key; it is printed once and never shown again."""
    with command_session() as session:
        owner = organisation_named(session, org)
        issued = service.issue_key(session, SystemClock(), owner.id, application)
        console.print(f"key id={issued.key.id} for {owner.name} / {application}")
        console.print(issued.plaintext, soft_wrap=True)


@key_app.command("list")
def list_keys(org: Annotated[str, typer.Option(help="The organisation (name or id).")]) -> None:
    """The organisation's keys (prefix only)."""
    with command_session() as session:
        owner = organisation_named(session, org)
        table = Table("application", "prefix", "created", "revoked", "id")
        for k in service.organisation_keys(session, owner.id):
            revoked = k.revoked_at.isoformat() if k.revoked_at else ""
            table.add_row(k.application, k.prefix, k.created_at.isoformat(), revoked, str(k.id))
        console.print(table)


@key_app.command("revoke")
def revoke(key_id: Annotated[str, typer.Argument(help="The key's id.")]) -> None:
    """Revoke a key (API processes stop accepting it within their cache time)."""
    try:
        kid = uuid.UUID(key_id)
    except ValueError:
        raise fail(f"key_id: {key_id!r} is not an id") from None
    with command_session() as session:
        service.revoke_key(session, SystemClock(), kid, None)
        console.print(f"key {kid} revoked")


@app.command("allowance")
def allowance(
    award: Annotated[str, typer.Argument(help="The award's reference.")],
    monthly_tokens: Annotated[int, typer.Option(min=0, help="Tokens per calendar month.")],
    rpm: Annotated[int | None, typer.Option(min=1, help="Requests/min (organisation).")] = None,
    tpm: Annotated[int | None, typer.Option(min=1, help="Tokens/min (organisation).")] = None,
) -> None:
    """Set an award's monthly token budget for its organisation's keys."""
    with command_session() as session:
        award_id = session.scalar(select(Award.id).where(Award.reference == award))
        if award_id is None:
            raise fail(f"no award {award!r}")
        service.set_allowance(
            session,
            SystemClock(),
            award_id,
            monthly_tokens,
            requests_per_minute=rpm,
            tokens_per_minute=tpm,
        )
        console.print(f"award {award}: {monthly_tokens} tokens a month")


@policy_app.command("set")
def set_data_policy(
    org: Annotated[str, typer.Argument(help="The organisation (name or id).")],
    redact: Annotated[
        bool,
        typer.Option(
            "--redact/--no-redact",
            help="Replace HKID numbers, phone numbers and e-mail addresses in its prompts.",
        ),
    ] = False,
    site: Annotated[
        list[str] | None,
        typer.Option(help="An inventory site whose deployments may serve it (repeatable)."),
    ] = None,
) -> None:
    """Replace an organisation's data policy (no --site: any site may serve it)."""
    with command_session() as session:
        owner = organisation_named(session, org)
        row = set_policy(
            session,
            SystemClock(),
            owner.id,
            redact=redact,
            allowed_sites=site or None,
            actor_id=None,
        )
        console.print(_describe(owner.name, row))


@policy_app.command("show")
def show_data_policy(
    org: Annotated[str, typer.Argument(help="The organisation (name or id).")],
) -> None:
    """An organisation's data policy."""
    with command_session() as session:
        owner = organisation_named(session, org)
        console.print(_describe(owner.name, policy_of(session, owner.id)))


def _describe(name: str, row: DataPolicy | None) -> str:
    redact = row is not None and row.redact
    sites = row.sites if row is not None else None
    where = ", ".join(sites) if sites is not None else "any site"
    return f"{name}: redaction {'on' if redact else 'off'}; served from {where}"


@app.command("launch")
def launch_command(
    name: Annotated[str, typer.Argument(help="The deployment (registered, with its award).")],
    model_path: Annotated[
        str, typer.Option(help="What the server loads: a Hugging Face id or a directory.")
    ],
    port: Annotated[int, typer.Option(help="Port the server listens on, on its node.")] = 8000,
    gpus: Annotated[int, typer.Option(help="GPUs (vLLM's tensor parallelism).")] = 1,
    template: Annotated[str, typer.Option(help="Batch template: vllm, or llama (CPU).")] = "vllm",
    hours: Annotated[int, typer.Option(min=1, max=24 * 30, help="Time limit in hours.")] = 168,
    user: Annotated[
        str | None, typer.Option(help="The POSIX user the job runs as (default: you).")
    ] = None,
    workdir: Annotated[str | None, typer.Option(help="Where the job writes its log.")] = None,
    conf: ConfOption = None,
    cluster: ClusterOption = None,
    timeout: TimeoutOption = 30.0,
) -> None:
    """Run a deployment's server as a Slurm job under its award's account (docs/gateway.md,
    "On Slurm"); the worker (or `gateway follow`) then points the deployment at it."""
    import getpass

    from computeport.gateway.follow import launch

    with command_session() as session:
        launched = launch(
            session,
            slurm_backend(conf, cluster, timeout),
            name,
            user=user or getpass.getuser(),
            template=template,
            model_path=model_path,
            port=port,
            gpus=gpus,
            time_limit_minutes=hours * 60,
            workdir=workdir,
        )
        console.print(
            f"deployment {name}: job {launched.job_id} under account {launched.account} on "
            f"{launched.cluster}; its endpoint becomes the upstream once the server answers"
        )


@app.command("follow")
def follow_command(
    conf: ConfOption = None, cluster: ClusterOption = None, timeout: TimeoutOption = 30.0
) -> None:
    """Point every launched deployment at the endpoints its running jobs report (ended jobs'
    endpoints are removed)."""
    from computeport.gateway.follow import follow

    with command_session() as session:
        changed = follow(session, slurm_backend(conf, cluster, timeout))
    for model, upstreams in changed.items():
        console.print(f"{model}: {', '.join(upstreams) or 'no running job: no upstream'}")
    if not changed:
        console.print("no change")
