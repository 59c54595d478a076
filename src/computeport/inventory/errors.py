"""Typed errors of the inventory domain: a raise and its ``except`` name one class."""

from __future__ import annotations

from dataclasses import dataclass

from computeport.kit.errors import Conflict, NotFound, ValidationFailed


@dataclass(frozen=True)
class InventoryProblem:
    """One thing wrong in an inventory file: where (line, dotted key) and what."""

    key: str
    message: str
    line: int | None = None

    def render(self, source: str) -> str:
        where = f"{source}:{self.line}" if self.line is not None else source
        return f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"


class InventoryInvalid(ValidationFailed):
    """The inventory file does not parse or does not validate; every problem is listed."""

    def __init__(self, source: str, problems: list[InventoryProblem]) -> None:
        self.source = source
        self.problems = problems
        first = problems[0] if problems else InventoryProblem("", "invalid")
        super().__init__("\n".join(p.render(source) for p in problems), field=first.key or None)


class ClusterHasHistory(Conflict):
    """A cluster the file no longer declares still has usage, bookings or an ingest mark."""


class ClusterNotFound(NotFound):
    """No cluster of that name in the inventory."""


__all__ = ["ClusterHasHistory", "ClusterNotFound", "InventoryInvalid", "InventoryProblem"]
