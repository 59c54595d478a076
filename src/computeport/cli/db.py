"""``computeport db``: migrate the database the settings point at."""

from __future__ import annotations

import typer

from computeport.cli.common import console
from computeport.db.engine import make_engine
from computeport.db.migrate import current_revision, upgrade
from computeport.settings import Settings

app = typer.Typer(help="Database schema.", no_args_is_help=True)


@app.command("upgrade")
def upgrade_command(
    revision: str = typer.Argument("heads", help="Target revision."),
) -> None:
    """Apply the migrations up to REVISION (default: the newest)."""
    settings = Settings()
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine, revision)
        console.print(f"database at revision [bold]{current_revision(engine)}[/]")
    finally:
        engine.dispose()


@app.command("current")
def current_command() -> None:
    """Print the database's current revision."""
    engine = make_engine(Settings().database_url)
    try:
        console.print(current_revision(engine) or "(empty database)")
    finally:
        engine.dispose()
