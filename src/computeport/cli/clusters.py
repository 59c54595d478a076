"""``computeport clusters``: check the centre's inventory file and load it into the database.

``check FILE`` validates without touching the database: every problem with its line and key,
exit 2; a summary table (sites, clusters, partitions, GPUs, PFLOPS) and exit 0 when valid.
``load FILE`` validates, then upserts in one unit of work (idempotent, audited; a cluster with
history is never dropped) and prints what changed.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import typer
from rich.table import Table

from computeport.cli.common import command_session, console, domain_errors, err_console, fail
from computeport.inventory.declaration import InventoryDecl, parse_inventory
from computeport.inventory.errors import InventoryInvalid
from computeport.kit.clock import SystemClock
from computeport.models.identity import Role

app = typer.Typer(help="The centre's inventory: sites, clusters, partitions, accelerator types.")

FILE_ARG = typer.Argument(..., help="The inventory TOML file (see docs/sites.md).")


def read_inventory(path: Path) -> InventoryDecl:
    """The validated file, or the list of problems (one per line) on stderr and exit 2."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(f"{path}: cannot read: {exc}") from None
    try:
        return parse_inventory(text, str(path))
    except InventoryInvalid as exc:
        raise fail(problems_message(exc)) from None


def problems_message(exc: InventoryInvalid) -> str:
    """``FILE: N problems`` and one ``FILE:LINE: key: message`` line each (check and serve)."""
    count = len(exc.problems)
    return f"{exc.source}: {count} problem{'s' if count != 1 else ''}\n{exc.message}"


def check_prices(path: Path, decl: InventoryDecl, database_url: str) -> None:
    """Every partition's accelerator type priced in the rate card of ``database_url``, or the
    unpriced ones with their lines and exit 2."""
    from computeport.billing.inventory_prices import require_prices
    from computeport.settings import Settings

    text = path.read_text(encoding="utf-8")
    with command_session(Settings(database_url=database_url)) as session:
        try:
            require_prices(session, decl, text, str(path), SystemClock().now().date())
        except InventoryInvalid as exc:
            raise fail(problems_message(exc)) from None


def _pf(value: Decimal) -> str:
    return f"{value:,.1f}"


def summary_table(decl: InventoryDecl) -> Table:
    """One row per cluster, a total per site and for the centre."""
    table = Table(title="Inventory", show_footer=False)
    for column in ("site", "cluster", "back end", "status"):
        table.add_column(column, no_wrap=True)
    for column in ("partitions", "GPUs", "PFLOPS"):
        table.add_column(column, justify="right", no_wrap=True)
    total_gpus, total_pf = 0, Decimal(0)
    for key, site in decl.sites.items():
        names = sorted(n for n, c in decl.clusters.items() if c.site == key)
        gpus = sum(decl.gpus(n) for n in names)
        pflops = sum((decl.pflops(n) for n in names), Decimal(0))
        for name in names:
            cluster = decl.clusters[name]
            table.add_row(
                key,
                name,
                cluster.backend,
                cluster.status.value,
                str(len(cluster.partitions)),
                f"{decl.gpus(name):,}",
                _pf(decl.pflops(name)),
            )
        table.add_row(
            f"[bold]{key}[/]", "(site total)", "", site.status.value, "",
            f"[bold]{gpus:,}[/]", f"[bold]{_pf(pflops)}[/]",
        )  # fmt: skip
        total_gpus, total_pf = total_gpus + gpus, total_pf + pflops
    table.add_row(
        "[bold]centre[/]", "(all sites)", "", "", "",
        f"[bold]{total_gpus:,}[/]", f"[bold]{_pf(total_pf)}[/]",
    )  # fmt: skip
    return table


@app.command("check")
def check(
    path: Path = FILE_ARG,
    database_url: str | None = typer.Option(
        None,
        "--database-url",
        help="Also check that every accelerator type has a GPU-hour price in force, in this "
        "database's rate card (without it, prices are not checked and a warning says so).",
    ),
) -> None:
    """Validate FILE: problems with line and key (exit 2), or a summary table (exit 0)."""
    decl = read_inventory(path)
    if database_url is not None:
        check_prices(path, decl, database_url)
    console.print(summary_table(decl))
    console.print(
        f"{path}: valid — {len(decl.sites)} sites, {len(decl.clusters)} clusters, "
        f"{sum(len(c.partitions) for c in decl.clusters.values())} partitions, "
        f"{len(decl.accelerators)} accelerator types",
        highlight=False,
    )
    if database_url is None:
        err_console.print(
            "[yellow]warning:[/] prices not checked: give --database-url to check that every "
            "accelerator type has a GPU-hour price in force (the server checks at start)",
            highlight=False,
        )


@app.command("load")
def load(
    path: Path = FILE_ARG,
    as_email: str | None = typer.Option(
        None, "--as", help="The operator loading it (recorded in the audit trail)."
    ),
) -> None:
    """Validate FILE and make the database say what it says (idempotent, audited)."""
    from computeport.cli.acting import acting
    from computeport.inventory.loader import load_inventory

    decl = read_inventory(path)
    with command_session() as session, domain_errors():
        actor = acting(session, as_email) if as_email is not None else None
        if actor is not None:
            actor.require(Role.OPERATOR)
        report = load_inventory(
            session,
            decl,
            actor_id=actor.user_id if actor is not None else None,
            at=SystemClock().now(),
            source=path.name,
        )
    if not report.changed:
        console.print(f"{path}: the database already matches; nothing changed.", highlight=False)
        return
    for verb, items in (("created", report.created), ("updated", report.updated),
                        ("removed", report.removed)):  # fmt: skip
        for item in items:
            console.print(f"  {verb:8} {item}", highlight=False)
    console.print(
        f"{path}: {len(report.created)} created, {len(report.updated)} updated, "
        f"{len(report.removed)} removed",
        highlight=False,
    )
