"""``computeport seed cyberport``: load the Cyberport scenario (idempotent)."""

from __future__ import annotations

import typer

from computeport.cli.common import command_session, console, err_console
from computeport.envelope.service import envelope_figures, get_scheme
from computeport.kit.money import Money
from computeport.seed.cyberport import SCHEME_CODE, seed_cyberport
from computeport.seed.demo import demo_logins

app = typer.Typer(help="Seed data.", no_args_is_help=True)


@app.command("cyberport")
def cyberport_command(
    show_logins: bool = typer.Option(True, help="Print the demo logins and tokens."),
) -> None:
    """The AISS scheme, ~300 organisations, 22 applications, 10 awards and demo users."""
    with command_session() as session:
        result = seed_cyberport(session)
        figures = envelope_figures(session, get_scheme(session, code=SCHEME_CODE))
    made = ", ".join(f"{n} {k}(s)" for k, n in sorted(result.created.items())) or "nothing new"
    console.print(f"seeded: {made}")
    console.print(
        f"{figures.scheme_code}: envelope {Money(figures.total_minor)}, committed "
        f"{Money(figures.committed_minor)}, remaining {Money(figures.remaining_minor)}"
    )
    if show_logins:
        err_console.print(
            "[yellow]demo logins below are public: never seed a production database[/]"
        )
        for login in demo_logins():
            console.print(
                f"{login.role.value:<17} {login.email:<40} password {login.password:<22} "
                f"token {login.token}",
                highlight=False,
                soft_wrap=True,
            )
