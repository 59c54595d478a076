"""Typed errors of capacity planning (the CLI prints them; the API renders them as problems)."""

from __future__ import annotations

from collections.abc import Sequence

from computeport.kit.errors import DomainError, ValidationFailed


class FanoutFailed(DomainError):
    """A fanned-out task failed or returned nothing."""


class ScenarioError(ValidationFailed):
    """A scenario file that does not validate; ``problems`` lists ``(field path, message)``."""

    def __init__(self, source: str, problems: Sequence[tuple[str, str]]) -> None:
        lines = [f"{path}: {msg}" if path else msg for path, msg in problems]
        super().__init__(
            f"{source}: invalid scenario\n  " + "\n  ".join(lines),
            field=problems[0][0] if problems else None,
        )
        self.problems = list(problems)


__all__ = ["FanoutFailed", "ScenarioError"]
