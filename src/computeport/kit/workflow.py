"""Transition tables: the one place that says which state may follow which.

A workflow is data, not ``if`` chains scattered over views (ColdFront's weakness): a
:class:`TransitionTable` lists the legal ``(from, to)`` moves of one entity, each with optional
guards.  Services call :meth:`TransitionTable.check` before they change a status and then write
the audit record (``computeport.audit.service.record_transition``).  The table is pure: it
imports nothing of the database, so the core and property tests can use it directly.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from computeport.kit.errors import IllegalTransition

S = TypeVar("S", bound=enum.Enum)

Guard = Callable[[object], str | None]
"""A guard looks at the context object and returns ``None`` (allowed) or the reason it is not."""


@dataclass(frozen=True)
class Transition(Generic[S]):
    """One legal move, with the guards that must all pass for it."""

    source: S
    target: S
    guards: tuple[Guard, ...] = ()
    requires_reason: bool = False
    """Some moves (e.g. a revision request) are meaningless without a stated reason."""


@dataclass(frozen=True)
class TransitionTable(Generic[S]):
    """The legal moves of one workflow.

    Build it with :meth:`of` from ``{source: [targets…]}``; add guards per move with
    :meth:`guard`.  Terminal states are those with no outgoing move.
    """

    name: str
    moves: Mapping[tuple[S, S], Transition[S]] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        name: str,
        edges: Mapping[S, Iterable[S]],
        *,
        reason_required: Iterable[tuple[S, S]] = (),
    ) -> TransitionTable[S]:
        need_reason = set(reason_required)
        moves: dict[tuple[S, S], Transition[S]] = {}
        for source, targets in edges.items():
            for target in targets:
                moves[(source, target)] = Transition(
                    source, target, requires_reason=(source, target) in need_reason
                )
        unknown = need_reason - set(moves)
        if unknown:
            raise ValueError(
                f"reason required on moves that do not exist: {sorted(map(str, unknown))}"
            )
        return cls(name, moves)

    def guard(self, source: S, target: S, *guards: Guard) -> TransitionTable[S]:
        """A copy of the table with ``guards`` added to the move ``source → target``."""
        move = self.moves.get((source, target))
        if move is None:
            raise ValueError(f"{self.name}: no move {source.value} → {target.value} to guard")
        moves = dict(self.moves)
        moves[(source, target)] = Transition(
            source, target, move.guards + guards, move.requires_reason
        )
        return TransitionTable(self.name, moves)

    def allowed(self, source: S, target: S) -> bool:
        """Whether the table has the move at all (guards not evaluated)."""
        return (source, target) in self.moves

    def targets(self, source: S) -> list[S]:
        """The states reachable from ``source`` in one move, in declaration order."""
        return [t for (s, t) in self.moves if s == source]

    def is_terminal(self, state: S) -> bool:
        return not self.targets(state)

    def states(self) -> set[S]:
        found: set[S] = set()
        for s, t in self.moves:
            found.update((s, t))
        return found

    def check(self, source: S, target: S, context: object = None, reason: str = "") -> None:
        """Raise :class:`IllegalTransition` unless ``source → target`` is legal now.

        The error names both states (and, for a failed guard, the guard's reason) so the API
        can answer 409 with a message a person understands.
        """
        move = self.moves.get((source, target))
        if move is None:
            allowed = ", ".join(t.value for t in self.targets(source)) or "none (final state)"
            raise IllegalTransition(
                f"{self.name}: cannot move from {source.value} to {target.value}; "
                f"allowed from {source.value}: {allowed}",
                field="status",
                from_state=str(source.value),
                to_state=str(target.value),
            )
        if move.requires_reason and not reason.strip():
            raise IllegalTransition(
                f"{self.name}: moving from {source.value} to {target.value} needs a reason",
                field="reason",
                from_state=str(source.value),
                to_state=str(target.value),
            )
        for guard in move.guards:
            why = guard(context)
            if why is not None:
                raise IllegalTransition(
                    f"{self.name}: cannot move from {source.value} to {target.value}: {why}",
                    field="status",
                    from_state=str(source.value),
                    to_state=str(target.value),
                )
