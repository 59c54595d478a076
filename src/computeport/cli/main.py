"""``computeport``: one Typer app; each domain adds a sub-command group in its own module."""

from __future__ import annotations

import typer

from computeport import __version__

app = typer.Typer(
    name="computeport",
    help="Run a publicly subsidised AI supercomputing centre.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


def _register() -> None:
    """Attach the sub-command groups (imported here so `computeport --help` lists them)."""
    from computeport.cli import db

    app.add_typer(db.app, name="db")

    from computeport.cli import application, org, review, scheme, token

    app.add_typer(org.org_app, name="org")
    app.add_typer(org.user_app, name="user")
    app.add_typer(token.app, name="token")
    app.add_typer(scheme.app, name="scheme")
    app.add_typer(application.app, name="app")
    app.add_typer(review.app, name="review")

    from computeport.cli import demo, serve, worker

    app.command("serve")(serve.serve)

    from computeport.cli import doctor

    app.command("doctor")(doctor.doctor)
    app.command("demo")(demo.demo)
    app.add_typer(worker.app, name="worker")

    from computeport.cli import simulate

    app.command("simulate")(simulate.simulate_command)

    from computeport.cli import award, award_shares, notify, reservation

    reservation.register(award.app)
    award_shares.register(award.app)
    app.add_typer(award.app, name="award")
    app.add_typer(notify.app, name="notify")

    from computeport.cli import seed

    app.add_typer(seed.app, name="seed")

    from computeport.cli import capacity

    app.add_typer(capacity.app, name="capacity")

    from computeport.cli import billing

    app.add_typer(billing.app, name="billing")

    from computeport.cli import clusters, gateway, prices, slurm

    app.add_typer(gateway.app, name="gateway")

    app.add_typer(clusters.app, name="clusters")
    app.add_typer(prices.app, name="prices")

    app.add_typer(slurm.app, name="slurm")

    from computeport.cli import lab

    app.add_typer(lab.app, name="lab")


_register()
