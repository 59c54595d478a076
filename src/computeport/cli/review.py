"""``computeport review``: assign reviewers, declare conflicts, score, and the panel."""

from __future__ import annotations

import uuid
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from computeport.cli import acting
from computeport.cli.common import command_session, console, fail
from computeport.kit.clock import SystemClock
from computeport.kit.rates import percent
from computeport.models.review import ReviewAssignment
from computeport.review import service

app = typer.Typer(help="Review: assignments, declarations, scores.", no_args_is_help=True)

AsOption = Annotated[str, typer.Option("--as", help="E-mail of the user acting.")]


def _assignment(
    session: Session, reviewer_id: uuid.UUID, application_id: uuid.UUID
) -> ReviewAssignment:
    found = session.scalar(
        select(ReviewAssignment).where(
            ReviewAssignment.reviewer_id == reviewer_id,
            ReviewAssignment.application_id == application_id,
        )
    )
    if found is None:
        raise fail("you are not assigned to this application")
    return found


@app.command("assign")
def assign(reference: str, reviewer: str, as_: AsOption) -> None:
    """Assign REVIEWER (an e-mail) to the application REFERENCE."""
    with command_session() as session:
        officer = acting.acting(session, as_)
        person = acting.user(session, reviewer, option="REVIEWER")
        a = service.assign_reviewer(
            session, officer, acting.application_id(session, reference), person.id,
            at=SystemClock().now(),
        )  # fmt: skip
        console.print(f"assigned {person.email}: {a.status.value} (id={a.id})")


@app.command("declare")
def declare(
    reference: str,
    as_: AsOption,
    conflict: Annotated[str | None, typer.Option(help="Describe a conflict (recuses you).")] = None,
) -> None:
    """Declare conflicts of interest (none, unless --conflict is given)."""
    with command_session() as session:
        me = acting.acting(session, as_)
        a = _assignment(session, me.user_id, acting.application_id(session, reference))
        service.declare(
            session, me, a.id, has_conflict=conflict is not None, statement=conflict or "",
            at=SystemClock().now(),
        )  # fmt: skip
        console.print(f"{reference}: {a.status.value}")


@app.command("score")
def score(
    reference: str,
    marks: Annotated[list[str], typer.Argument(help="criterion=score (0–10), e.g. alignment=8")],
    as_: AsOption,
) -> None:
    """Score criteria."""
    given: dict[str, service.ScoreInput] = {}
    for raw in marks:
        key, sep, value = raw.partition("=")
        if not sep or not value.strip().lstrip("-").isdigit():
            raise fail(f"expected criterion=score such as alignment=8, got {raw!r}")
        given[key.strip()] = service.ScoreInput(int(value))
    with command_session() as session:
        me = acting.acting(session, as_)
        a = _assignment(session, me.user_id, acting.application_id(session, reference))
        service.score(session, me, a.id, given, at=SystemClock().now())
        console.print(f"{reference}: scored {', '.join(given)}")


@app.command("submit")
def submit(reference: str, as_: AsOption, comment: Annotated[str, typer.Option()] = "") -> None:
    """Make your scores final."""
    with command_session() as session:
        me = acting.acting(session, as_)
        a = _assignment(session, me.user_id, acting.application_id(session, reference))
        service.submit_review(session, me, a.id, comment=comment, at=SystemClock().now())
        console.print(f"{reference}: review submitted")


@app.command("panel")
def panel(reference: str, as_: AsOption) -> None:
    """Every review side by side (committee and scheme officers)."""
    with command_session() as session:
        me = acting.acting(session, as_)
        p = service.panel(session, me, acting.application_id(session, reference))
        keys = [k for k, _n, _w in p.criteria]
        table = Table(
            "reviewer", "status", *(f"{k} ({percent(w)})" for k, _n, w in p.criteria), "total"
        )
        for r in p.reviews:
            table.add_row(
                r.reviewer_name, r.status.value, *(str(r.scores.get(k, "")) for k in keys),
                str(r.weighted_total if r.weighted_total is not None else ""),
            )  # fmt: skip
        table.add_row(
            "mean (submitted)", "", *(str(p.mean_by_criterion.get(k) or "") for k in keys),
            str(p.mean_weighted_total or ""),
        )  # fmt: skip
        console.print(table)
