"""Does every accelerator type the inventory's clusters run have a GPU-hour price in force?

A partition whose accelerator type has no price would run jobs that rating cannot price: every
record of it would wait in quarantine, and its users would be billed weeks late.  That is a
configuration error, found before the cluster takes work: ``computeport clusters check FILE
--database-url URL`` and the server's start (``COMPUTEPORT_INVENTORY_FILE``) ask this module.

It lives in billing because it is billing's question (the rule rating applies), asked of two
domains below it: the inventory file (sites, clusters, partitions) and the rate card.  A price
counts with the same precedence rating uses (the cluster's, then its site's, then the centre's),
with the site taken from the *file*, so a file not loaded yet is checked as it will be rated.

When: an active cluster needs a price in force ``today``; a planned one on the later of today
and its commissioning date (a price drafted ahead, from that date, is enough); a retired cluster
takes no work and needs none.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from computeport.inventory.declaration import ClusterStatus, InventoryDecl, parse_inventory
from computeport.inventory.errors import InventoryInvalid, InventoryProblem
from computeport.inventory.locate import key_lines, line_of
from computeport.models.pricing import PriceVersion
from computeport.pricing.book import PriceBook, entries_of

__all__ = ["check_inventory_file", "price_problems", "rate_card_for", "require_prices"]


def rate_card_for(session: Session, decl: InventoryDecl) -> PriceBook:
    """The database's rate card, with the clusters placed at the sites the *file* says."""
    rows = session.scalars(select(PriceVersion)).all()
    return PriceBook(entries_of(rows), {name: c.site for name, c in decl.clusters.items()})


def _needed_on(status: ClusterStatus, commissioned: date | None, today: date) -> date | None:
    if status == ClusterStatus.RETIRED:
        return None
    if status == ClusterStatus.PLANNED and commissioned is not None:
        return max(today, commissioned)
    return today


def price_problems(
    decl: InventoryDecl, text: str, book: PriceBook, today: date
) -> list[InventoryProblem]:
    """One problem per partition whose accelerator type has no GPU-hour price when needed,
    at the line of its ``accelerator`` key."""
    lines = key_lines(text)
    found: list[InventoryProblem] = []
    for name, cluster in decl.clusters.items():
        on = _needed_on(cluster.status, cluster.commissioned, today)
        if on is None:
            continue
        at = datetime(on.year, on.month, on.day, tzinfo=UTC).timestamp()
        for part_name, part in cluster.partitions.items():
            if book.at(part.accelerator, at, cluster=name) is not None:
                continue
            path = ("clusters", name, "partitions", part_name, "accelerator")
            message = (
                f"no GPU-hour price in force for accelerator type '{part.accelerator}' on "
                f"{on.isoformat()} (cluster {name}, site {cluster.site}): draft and approve one "
                f"(computeport prices draft gpu-hour {part.accelerator} PRICE --from "
                f"{on.isoformat()} …)"
            )
            found.append(InventoryProblem(".".join(path), message, line_of(lines, path)))
    return found


def require_prices(
    session: Session, decl: InventoryDecl, text: str, source: str, today: date
) -> None:
    """Raise :class:`InventoryInvalid` (every unpriced partition, with its line) or return."""
    problems = price_problems(decl, text, rate_card_for(session, decl), today)
    if problems:
        raise InventoryInvalid(source, problems)


def check_inventory_file(session: Session, path: Path, today: date) -> InventoryDecl:
    """The file at ``path`` read, validated and priced, or :class:`InventoryInvalid` naming
    every problem with its line (an unreadable file is one problem without a line)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InventoryInvalid(str(path), [InventoryProblem("", f"cannot read: {exc}")]) from None
    decl = parse_inventory(text, str(path))
    require_prices(session, decl, text, str(path), today)
    return decl
