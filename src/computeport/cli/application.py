"""``computeport app``: applications from draft to recommendation, attachments, estimates."""

from __future__ import annotations

import mimetypes
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from computeport.application import service
from computeport.application.estimator import DEFAULT_UTILISATION, estimate_gpu_hours
from computeport.cli import acting
from computeport.cli.common import command_session, console, domain_errors
from computeport.models.application import (
    ApplicationStatus,
    AttachmentKind,
    Precision,
    WorkloadKind,
)
from computeport.scheme.service import scheme_by_code
from computeport.settings import Settings

app = typer.Typer(help="Applications for subsidised compute.", no_args_is_help=True)

AsOption = Annotated[str, typer.Option("--as", help="E-mail of the user acting.")]
NowOption = Annotated[str | None, typer.Option(help="Act at this time (ISO 8601).")]


@app.command("create")
def create(
    as_: AsOption,
    scheme: Annotated[str, typer.Option(help="Scheme code, e.g. AISS.")],
    org: Annotated[str, typer.Option(help="Applicant organisation name.")],
    title: Annotated[str, typer.Option()],
    sector: Annotated[str, typer.Option()],
    accelerator: Annotated[str, typer.Option(help="Accelerator type, e.g. h800.")],
    gpus: Annotated[int, typer.Option()],
    gpu_hours: Annotated[int, typer.Option()],
    months: Annotated[int, typer.Option(help="Duration in months.")],
    params: Annotated[int | None, typer.Option(help="Model parameters.")] = None,
    tokens: Annotated[int | None, typer.Option(help="Dataset tokens.")] = None,
    precision: Annotated[Precision, typer.Option()] = Precision.BF16,
    workload: Annotated[WorkloadKind, typer.Option()] = WorkloadKind.TRAINING,
    abstract: Annotated[str, typer.Option()] = "",
    justification: Annotated[str, typer.Option()] = "",
    now: NowOption = None,
) -> None:
    """Start a draft application; prints its reference."""
    with command_session() as session:
        subject = acting.acting(session, as_)
        application = service.create_application(
            session,
            subject,
            scheme_id=scheme_by_code(session, scheme).id,
            organisation_id=acting.organisation(session, org).id,
            title=title,
            abstract=abstract,
            sector=sector,
            request=service.ComputeRequest(
                accelerator_type=accelerator,
                gpus=gpus,
                gpu_hours=gpu_hours,
                duration_months=months,
                model_parameters=params,
                dataset_tokens=tokens,
                precision=precision,
                workload=workload,
                justification=justification,
            ),
            at=acting.clock_for(now).now(),
        )
        reference = application.reference
    typer.echo(reference)


@app.command("list")
def list_applications(
    as_: Annotated[str | None, typer.Option("--as", help="See what this user sees.")] = None,
    status: Annotated[ApplicationStatus | None, typer.Option()] = None,
    limit: Annotated[int, typer.Option(min=1, max=10000)] = 100,
) -> None:
    with command_session() as session:
        subject = acting.acting(session, as_, write=False)
        table = Table("reference", "status", "title", "GPUs", "GPU-hours", "type")
        for a in service.list_applications(session, subject, status=status, limit=limit):
            table.add_row(
                a.reference, a.status.value, a.title, str(a.gpus), f"{a.gpu_hours:,}",
                a.accelerator_type,
            )  # fmt: skip
        console.print(table)


@app.command("show")
def show(
    reference: str,
    as_: Annotated[str | None, typer.Option("--as", help="See what this user sees.")] = None,
) -> None:
    """An application, its estimate and its audit trail."""
    with command_session() as session:
        subject = acting.acting(session, as_, write=False)
        a = service.get_application(session, subject, acting.application_id(session, reference))
        console.print(f"[bold]{a.reference}[/] {a.title} — {a.status.value}")
        console.print(
            f"{a.gpus} × {a.accelerator_type}, {a.gpu_hours:,} GPU-hours over "
            f"{a.duration_months} months ({a.precision.value}, {a.workload.value})"
        )
        if a.model_parameters and a.dataset_tokens:
            e = estimate_gpu_hours(
                a.model_parameters, a.dataset_tokens, a.precision.value, a.accelerator_type,
                workload=a.workload.value,
            )  # fmt: skip
            console.print(
                f"estimate {e.gpu_hours:,} GPU-hours ({e.assumption}); requested "
                f"{Decimal(a.gpu_hours) / Decimal(e.gpu_hours):.2f}× the estimate"
            )
        trail = Table("at", "from", "to", "reason")
        for r in service.history(session, subject, a.id):
            trail.add_row(r.at.isoformat(), r.from_state or "", r.to_state or "", r.reason)
        console.print(trail)


@app.command("move")
def move(
    reference: str,
    to: ApplicationStatus,
    as_: AsOption,
    reason: Annotated[str, typer.Option()] = "",
    now: NowOption = None,
) -> None:
    """Move an application (submitted, under_review, revision_requested, recommended, …)."""
    with command_session() as session:
        subject = acting.acting(session, as_)
        a = service.move(
            session,
            subject,
            acting.application_id(session, reference),
            to,
            reason=reason,
            at=acting.clock_for(now).now(),
        )
        console.print(f"{a.reference}: {a.status.value}")


@app.command("attach")
def attach(
    reference: str,
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    as_: AsOption,
    kind: Annotated[AttachmentKind, typer.Option()] = AttachmentKind.PROPOSAL,
    content_type: Annotated[str | None, typer.Option(help="Default: from the extension.")] = None,
) -> None:
    """Attach a file (pdf, png, jpeg, xlsx, csv, docx)."""
    settings = Settings()
    ctype = content_type or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    with command_session(settings) as session, path.open("rb") as stream:
        subject = acting.acting(session, as_)
        row = service.add_attachment(
            session,
            subject,
            acting.application_id(session, reference),
            kind=kind,
            filename=path.name,
            content_type=ctype,
            stream=stream,
            root=settings.attachments_dir,
            max_bytes=settings.attachment_max_bytes,
            at=acting.clock_for(None).now(),
        )
        console.print(f"{row.filename}: {row.size_bytes:,} bytes, sha256 {row.sha256}")


@app.command("estimate")
def estimate(
    params: Annotated[int, typer.Option(help="Model parameters, e.g. 7000000000.")],
    tokens: Annotated[int, typer.Option(help="Tokens, e.g. 2000000000000.")],
    precision: Annotated[Precision, typer.Option()] = Precision.BF16,
    accelerator: Annotated[str, typer.Option()] = "h800",
    utilisation: Annotated[str, typer.Option(help="Model FLOPs utilisation.")] = str(
        DEFAULT_UTILISATION
    ),
    workload: Annotated[WorkloadKind, typer.Option()] = WorkloadKind.TRAINING,
) -> None:
    """GPU-hours by the 6·N·D rule at a stated utilisation (reviewers judge reasonableness)."""
    with domain_errors():
        e = estimate_gpu_hours(
            params, tokens, precision.value, accelerator, Decimal(utilisation),
            workload=workload.value,
        )  # fmt: skip
    console.print(f"{e.gpu_hours:,} GPU-hours ({e.gpu_hours_exact} exact); {e.flops:.3e} FLOPs")
    console.print(e.assumption)
