"""``computeport doctor``: check a deployment's configuration and say what is wrong.

Run it with the same environment as the services (``EnvironmentFile=`` of the systemd units)
after installing or changing anything.  Every check is named and timed; the table shows them
all, and each failure is repeated below it on one line with what to do.  Exit 0 when nothing is
wrong, 1 when something is, 2 for bad usage (Typer's own exit code for a bad option).

The checks are read-only: the embedded virtual cluster is not opened (it lives in the database,
so it is reachable when the database is); a Slurm cluster is asked for its partitions.
"""

from __future__ import annotations

import os
import smtplib
from pathlib import Path
from urllib.parse import urlsplit

import typer
from pydantic import ValidationError
from rich.table import Table

from computeport.cli.common import console
from computeport.http.health import Check, Explained, check_database, check_migrations, timed
from computeport.settings import Settings

MIN_SECRET_CHARS = 32
"""Shorter keys can be guessed offline from a signed cookie; ``secrets.token_urlsafe(48)`` is 64."""

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


class Misconfigured(Explained):
    """A setting's value is wrong; the message names the setting and how to fix it."""


def check_secret(settings: Settings) -> Check:
    def probe() -> str:
        default = Settings.model_fields["secret_key"].default
        how = (
            "set COMPUTEPORT_SECRET_KEY to a random value, e.g. "
            "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`"
        )
        if settings.secret_key == default:
            raise Misconfigured(f"COMPUTEPORT_SECRET_KEY is the built-in default: {how}")
        if len(settings.secret_key) < MIN_SECRET_CHARS:
            raise Misconfigured(
                f"COMPUTEPORT_SECRET_KEY has {len(settings.secret_key)} characters, "
                f"fewer than {MIN_SECRET_CHARS}: {how}"
            )
        return f"{len(settings.secret_key)} characters, not the default"

    return timed("secret key", probe)


def check_smtp(settings: Settings, timeout_s: float = 5.0) -> Check:
    def probe() -> str:
        if not settings.smtp_enabled:
            return "disabled (COMPUTEPORT_SMTP_ENABLED is false): no mail is sent"
        where = f"{settings.smtp_host}:{settings.smtp_port}"
        try:
            with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=timeout_s) as smtp:
                code, _ = smtp.noop()
        except (OSError, smtplib.SMTPException) as exc:
            raise Misconfigured(
                f"no SMTP server answers at {where} (COMPUTEPORT_SMTP_HOST/_PORT): {exc}"
            ) from exc
        if code != 250:
            raise Misconfigured(f"the SMTP server at {where} answered NOOP with {code}")
        return f"{where} answers"

    return timed("smtp", probe)


def check_oidc(settings: Settings) -> Check:
    def probe() -> str:
        values = {
            "COMPUTEPORT_OIDC_ISSUER": settings.oidc_issuer,
            "COMPUTEPORT_OIDC_CLIENT_ID": settings.oidc_client_id,
            "COMPUTEPORT_OIDC_CLIENT_SECRET": settings.oidc_client_secret,
        }
        if not any(values.values()):
            return "not configured (password sign-in only)"
        missing = [name for name, value in values.items() if not value]
        if missing:
            raise Misconfigured(
                f"single sign-on is half configured: set {', '.join(missing)} as well "
                "(or unset all three)"
            )
        issuer = urlsplit(settings.oidc_issuer or "")
        if issuer.scheme not in {"https", "http"} or not issuer.hostname:
            raise Misconfigured(
                f"COMPUTEPORT_OIDC_ISSUER must be the issuer's URL, not {settings.oidc_issuer!r}"
            )
        if issuer.scheme == "http" and issuer.hostname not in LOCAL_HOSTS:
            raise Misconfigured("COMPUTEPORT_OIDC_ISSUER must use https (tokens travel over it)")
        if issuer.query or issuer.fragment:
            raise Misconfigured("COMPUTEPORT_OIDC_ISSUER must not carry a query or fragment")
        return f"issuer {settings.oidc_issuer}"

    return timed("oidc", probe)


def check_attachments(settings: Settings) -> Check:
    def probe() -> str:
        directory = settings.attachments_dir
        existing = next((p for p in (directory, *directory.parents) if p.exists()), Path("."))
        if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
            raise Misconfigured(
                f"COMPUTEPORT_ATTACHMENTS_DIR {directory}: {existing} is not a writable folder"
            )
        return str(directory)

    return timed("attachments", probe)


def check_cluster(settings: Settings, database: Check) -> Check:
    if settings.backend == "sim":
        if database.ok:
            return Check("backend", True, 0.0, detail="embedded virtual cluster (in the database)")
        return Check("backend", False, 0.0, error="the virtual cluster lives in the database")

    def probe() -> str:
        from computeport.backends.slurm import SlurmBackend, SlurmConfig

        config = SlurmConfig(cluster=settings.slurm_cluster, slurm_conf=settings.slurm_conf)
        partitions = SlurmBackend(config).partitions()
        return f"Slurm cluster {settings.slurm_cluster}: {len(partitions)} partitions"

    return timed("backend", probe)


def run_checks(settings: Settings) -> list[Check]:
    from sqlalchemy.engine import make_url

    from computeport.db.engine import make_engine

    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and not Path(url.database or "").is_file():
        # connecting would create an empty file (and its folder): say so instead
        missing = Check(
            "database",
            False,
            0.0,
            error=f"no SQLite database at {url.database}: run `computeport db upgrade`",
        )
        unreached = Check("migrations", False, 0.0, error="database unreachable")
        return [missing, unreached, *_database_free_checks(settings, missing)]
    # a doctor that hangs on an unreachable host helps nobody: give up after 5 seconds
    extra = {"connect_args": {"connect_timeout": 5}} if url.get_backend_name() != "sqlite" else {}
    engine = make_engine(settings.database_url, **extra)
    try:
        database = check_database(engine)
        migrations = (
            check_migrations(engine)
            if database.ok
            else Check("migrations", False, 0.0, error="database unreachable")
        )
    finally:
        engine.dispose()
    return [database, migrations, *_database_free_checks(settings, database)]


def _database_free_checks(settings: Settings, database: Check) -> list[Check]:
    return [
        check_secret(settings),
        check_smtp(settings),
        check_oidc(settings),
        check_attachments(settings),
        check_cluster(settings, database),
    ]


def doctor() -> None:
    """Check this deployment's configuration (database, migrations, secret key, SMTP, OIDC,
    attachments, cluster back end) and print what is wrong; exit 1 if anything is."""
    try:
        settings = Settings()
    except ValidationError as exc:
        for error in exc.errors():
            field = ".".join(str(part) for part in error["loc"])
            console.print(
                f"[red]✗[/] COMPUTEPORT_{field.upper()}: {error['msg']}",
                soft_wrap=True,
                highlight=False,
            )
        raise typer.Exit(1) from None
    checks = run_checks(settings)
    table = Table(title="computeport doctor")
    for column in ("check", "result", "ms", "detail"):
        table.add_column(column, overflow="fold")
    for check in checks:
        table.add_row(
            check.name,
            "[green]ok[/]" if check.ok else "[bold red]WRONG[/]",
            f"{check.seconds * 1000:.0f}",
            check.detail if check.ok else check.error,
        )
    console.print(table)
    wrong = [c for c in checks if not c.ok]
    for check in wrong:
        console.print(f"[red]✗[/] {check.name}: {check.error}", soft_wrap=True, highlight=False)
    if wrong:
        raise typer.Exit(1)
    console.print("[green]✓[/] nothing wrong found", highlight=False)
