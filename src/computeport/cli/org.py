"""``computeport org`` and ``computeport user``: organisations, people and their roles."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from computeport.cli import acting
from computeport.cli.common import command_session, console
from computeport.identity import service
from computeport.kit.clock import SystemClock
from computeport.models.identity import OrganisationCategory, Role

org_app = typer.Typer(help="Applicant organisations.", no_args_is_help=True)
user_app = typer.Typer(help="Users and their roles.", no_args_is_help=True)


@org_app.command("create")
def create_org(
    name: str,
    category: Annotated[OrganisationCategory, typer.Option(help="Applicant category.")],
    sector: Annotated[str, typer.Option(help="Sector, e.g. fintech.")] = "general",
    registration: Annotated[str | None, typer.Option(help="Business registration no.")] = None,
) -> None:
    """Register an organisation."""
    with command_session() as session:
        org = service.create_organisation(
            session,
            name=name,
            category=category,
            sector=sector,
            registration_number=registration,
            at=SystemClock().now(),
        )
        console.print(f"organisation {org.name} ({org.category.value}) id={org.id}")


@org_app.command("list")
def list_orgs(
    category: Annotated[OrganisationCategory | None, typer.Option()] = None,
    limit: Annotated[int, typer.Option(min=1, max=10000)] = 100,
) -> None:
    """List organisations."""
    with command_session() as session:
        table = Table("name", "category", "sector", "id")
        for org in service.list_organisations(
            session, acting.CONSOLE, category=category, limit=limit
        ):
            table.add_row(org.name, org.category.value, org.sector, str(org.id))
        console.print(table)


@user_app.command("create")
def create_user(
    email: str,
    name: Annotated[str, typer.Option(help="Display name.")],
    posix: Annotated[str, typer.Option(help="POSIX username on the cluster.")],
    role: Annotated[list[Role] | None, typer.Option(help="A role to grant (repeatable).")] = None,
    org: Annotated[str | None, typer.Option(help="Organisation of the applicant roles.")] = None,
    password: Annotated[
        bool, typer.Option("--password", help="Prompt for a portal password.")
    ] = False,
) -> None:
    """Create a user, optionally with roles (org_admin/member need --org)."""
    secret = (
        typer.prompt("password", hide_input=True, confirmation_prompt=True) if password else None
    )
    with command_session() as session:
        now = SystemClock().now()
        user = service.create_user(
            session, email=email, display_name=name, posix_username=posix, password=secret, at=now
        )
        org_id = acting.organisation(session, org).id if org else None
        for r in role or []:
            service.grant_role(
                session,
                user_id=user.id,
                role=r,
                organisation_id=org_id if r in (Role.ORG_ADMIN, Role.MEMBER) else None,
                at=now,
            )
        console.print(f"user {user.email} ({user.posix_username}) id={user.id}")


@user_app.command("grant")
def grant(
    email: str,
    role: Role,
    org: Annotated[str | None, typer.Option(help="Organisation (applicant roles).")] = None,
) -> None:
    """Grant a role."""
    with command_session() as session:
        user = acting.user(session, email, option="EMAIL")
        org_id = acting.organisation(session, org).id if org else None
        service.grant_role(
            session, user_id=user.id, role=role, organisation_id=org_id, at=SystemClock().now()
        )
        console.print(f"{user.email}: granted {role.value}")


@user_app.command("list")
def list_users(limit: Annotated[int, typer.Option(min=1, max=10000)] = 100) -> None:
    """List users and their roles."""
    with command_session() as session:
        table = Table("email", "posix", "roles")
        for user in service.list_users(session, acting.CONSOLE, limit=limit):
            subject = service.subject_for(session, user)
            table.add_row(user.email, user.posix_username, ", ".join(sorted(subject.roles)))
        console.print(table)
