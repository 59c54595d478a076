"""What every CLI command shares: settings, a unit of work, and errors → message + exit code 2."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from sqlalchemy.orm import Session

from computeport.db.engine import make_engine, make_session_factory, unit_of_work
from computeport.kit.errors import DomainError
from computeport.settings import InsecureSecretKey, Settings, require_production_secret

console = Console()
err_console = Console(stderr=True)

EXIT_BAD_INPUT = 2


def fail(message: str, code: int = EXIT_BAD_INPUT) -> typer.Exit:
    """Print ``error: message`` on stderr and return the Exit to raise."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code)


INSECURE_DEV_HELP = (
    "Allow the published default secret key on a non-default database (a throw-away "
    "development server only)."
)


def require_secret(settings: Settings, insecure_dev: bool) -> None:
    """Every server process (``serve``, ``worker``) calls this before it starts: exit 2 with
    how to set the key when the deployment runs on the published default."""
    try:
        require_production_secret(settings, insecure_dev=insecure_dev)
    except InsecureSecretKey as exc:
        raise fail(str(exc)) from None


@contextmanager
def domain_errors() -> Iterator[None]:
    """Turn a typed domain error into a clear message and exit code 2."""
    try:
        yield
    except DomainError as exc:
        where = f" ({exc.field})" if exc.field else ""
        raise fail(f"{exc.message}{where}") from None


@contextmanager
def command_session(settings: Settings | None = None) -> Iterator[Session]:
    """One command, one unit of work: commit on success, roll back on any error."""
    settings = settings or Settings()
    engine = make_engine(settings.database_url)
    try:
        with domain_errors(), unit_of_work(make_session_factory(engine)) as session:
            yield session
    finally:
        engine.dispose()
