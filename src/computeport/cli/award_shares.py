"""``computeport award shares show | move``: where an award's GPU-hours may be spent.

``move`` is an amendment: it takes ``--as`` (recorded in the audit trail) and ``--reason``. A
domain error names the command-line option it came from (``--to``, ``--hours`` …), exit 2, and
the unit of work rolls back, so nothing is written.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy.orm import Session

from computeport.award.places import set_places
from computeport.award.share_commitments import committed_on_source
from computeport.award.shares import RESERVE, SHARE_MOVERS, move_hours, show_shares
from computeport.backends import BackendUnavailable
from computeport.cli.acting import acting
from computeport.cli.award import _award, clock_for
from computeport.cli.common import command_session, console, fail
from computeport.kit.errors import DomainError
from computeport.models.award import Award
from computeport.settings import Settings

app = typer.Typer(help="An award's GPU-hours per cluster and its reserve.", no_args_is_help=True)

OPTION_OF_FIELD = {
    "from": "--from",
    "to": "--to",
    "hours": "--hours",
    "reason": "--reason",
    "accelerator_type": "--type",
}

PLACE_OPTIONS = {"sites": "--site", "clusters": "--cluster", "reason": "--reason"}


@app.command("show")
def show_command(award: str = typer.Argument(..., help="Award reference or id.")) -> None:
    """Each accelerator type's hours: the share on each cluster, the reserve, where eligible."""
    with command_session() as session:
        view = show_shares(session, _award(session, award).id)
        console.print(
            f"[bold]{view.reference}[/] places: {', '.join(view.places) or 'open (any cluster)'}"
        )
        table = Table("type", "placed on", "GPU-hours")
        for line in view.lines:
            for cluster, hours in line.shares.items():
                table.add_row(line.accelerator_type, cluster, f"{hours:,}")
            table.add_row(line.accelerator_type, RESERVE, f"{line.reserve:,}")
            table.add_row(line.accelerator_type, "[bold]award[/]", f"[bold]{line.gpu_hours:,}[/]")
        console.print(table)
        for line in view.lines:
            eligible = ", ".join(line.eligible) or "none in the inventory"
            console.print(f"{line.accelerator_type} may be placed on: {eligible}")


@app.command("move")
def move_command(
    award: str = typer.Argument(..., help="Award reference or id."),
    source: str = typer.Option(..., "--from", help="Cluster to shrink, or 'reserve'."),
    target: str = typer.Option(..., "--to", help="Cluster to grow, or 'reserve'."),
    hours: str = typer.Option(..., "--hours", help="Whole GPU-hours to move (> 0)."),
    reason: str = typer.Option(..., "--reason", help="Why (the amendment's reason)."),
    accelerator_type: str | None = typer.Option(
        None, "--type", help="Accelerator type (needed when the award grants several)."
    ),
    as_user: str | None = typer.Option(None, "--as", help="Operator's or officer's e-mail."),
    now: str | None = typer.Option(None, help="The clock (ISO 8601), default: now."),
) -> None:
    """Move GPU-hours between clusters or the reserve (shrink first; an audited amendment)."""
    text = hours.strip().replace(",", "").replace("_", "")
    if not text.isdigit() or int(text) <= 0:
        raise fail(f"--hours: a whole number of GPU-hours above 0, got {hours!r}")
    clock = clock_for(now)
    with command_session() as session:
        subject = acting(session, as_user)
        subject.require(*SHARE_MOVERS)
        the_award = _award(session, award)
        try:
            move = move_hours(
                session,
                the_award.id,
                source=source.strip(),
                target=target.strip(),
                hours=int(text),
                reason=reason,
                actor_id=subject.user_id,
                clock=clock,
                accelerator_type=accelerator_type,
                committed=lambda: _committed(session, the_award, source.strip()),
            )
        except DomainError as exc:
            option = OPTION_OF_FIELD.get(exc.field or "", exc.field or "award")
            raise fail(f"{option}: {exc.message}") from None
        console.print(
            f"moved {move.gpu_hours:,} {move.accelerator_type} GPU-hours of "
            f"{the_award.reference}: {move.source} → {move.target}"
        )


def _committed(session: Session, award: Award, source: str) -> dict[str, int]:
    """What the award's queued and running jobs on ``source`` reserve (the floor's live part),
    asked as the API asks (``award/share_commitments``); a controller that does not answer
    stops the move, a virtual cluster (run inside the API process) is said to be unseen."""
    try:
        committed = committed_on_source(session, award, source, None, Settings())
    except BackendUnavailable as exc:
        raise fail(
            f"--from: {source}'s controller did not answer, so the award's queued and running "
            f"jobs there are unknown; nothing moved ({exc.message})"
        ) from None
    if committed is None:
        console.print(
            f"[yellow]note:[/] {source} is a virtual cluster run by the API process: its queued "
            "and running jobs are not visible here, so its floor is its ingested usage; move "
            "through the API or the portal to keep them"
        )
        return {}
    return committed


@app.command("limit")
def limit_command(
    award: str = typer.Argument(..., help="Award reference or id."),
    sites: Annotated[list[str] | None, typer.Option("--site", help="Site key, repeatable.")] = None,
    clusters: Annotated[
        list[str] | None, typer.Option("--cluster", help="Cluster name, repeatable.")
    ] = None,
    reason: str = typer.Option(..., "--reason", help="Why (recorded in the audit trail)."),
    as_user: str | None = typer.Option(None, "--as", help="Operator's or officer's e-mail."),
    now: str | None = typer.Option(None, help="The clock (ISO 8601), default: now."),
) -> None:
    """Limit the award to sites and/or clusters; with neither, open it (any cluster)."""
    clock = clock_for(now)
    with command_session() as session:
        subject = acting(session, as_user)
        subject.require(*SHARE_MOVERS)
        the_award = _award(session, award)
        try:
            set_places(
                session,
                the_award.id,
                sites=sites or [],
                clusters=clusters or [],
                reason=reason,
                actor_id=subject.user_id,
                clock=clock,
            )
        except DomainError as exc:
            field = (exc.field or "").split(".")[0]
            option = PLACE_OPTIONS.get(field, field or "award")
            raise fail(f"{option}: {exc.message}") from None
        where = ", ".join(show_shares(session, the_award.id).places) or "open (any cluster)"
        console.print(f"{the_award.reference} places: {where}")


def register(award_app: typer.Typer) -> None:
    award_app.add_typer(app, name="shares")


__all__ = ["app", "register"]
