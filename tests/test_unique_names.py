"""One name, one class: an ``except`` must catch every raise of the error it names.

Two ``AwardNotFound`` classes (award's and billing's) once rendered the same problem type
(``type_slug`` is the class name) while ``except AwardNotFound`` caught only one of them. These
tests import every module of computeport and fail on such a pair, for errors and for every other
public class (two ``JobState`` enums or two ``Journal`` types make a reader guess which one a
signature means).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections import defaultdict
from types import ModuleType

import computeport
from computeport.kit.errors import DomainError

# Public classes that may share a name, each with why. Keep it short: rename instead.
SHARED_NAMES: dict[str, str] = {
    "DemoLogin": "seed's demo account (role, token) vs the sign-in page's hint (three strings)",
    "RetryPolicy": "the e-mail outbox's backoff vs Slurm command retries; different layers",
}


def all_modules() -> list[ModuleType]:
    """Every module of computeport, imported (a module that fails to import fails the test).

    Migrations are left out: Alembic runs them by path inside its own context (``env.py`` reads
    ``alembic.context.config``), and they define no public classes of ours.
    """
    names = [
        m.name
        for m in pkgutil.walk_packages(computeport.__path__, "computeport.")
        if not m.name.startswith("computeport.db.migrations")
    ]
    return [importlib.import_module(name) for name in sorted(names)]


def public_classes(modules: list[ModuleType]) -> dict[str, set[str]]:
    """Class name -> the modules defining a public class of that name (re-exports not counted)."""
    where: dict[str, set[str]] = defaultdict(set)
    for module in modules:
        for name, obj in vars(module).items():
            if inspect.isclass(obj) and obj.__module__ == module.__name__ and name[0] != "_":
                where[obj.__name__].add(module.__name__)
    return where


def domain_errors() -> list[type[DomainError]]:
    all_modules()  # a subclass exists only once its module is imported
    found: list[type[DomainError]] = []
    todo = [DomainError]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub not in found:
                found.append(sub)
                todo.append(sub)
    return found


def test_every_domain_error_has_its_own_name() -> None:
    by_name: dict[str, list[str]] = defaultdict(list)
    for error in domain_errors():
        by_name[error.__name__].append(f"{error.__module__}.{error.__qualname__}")
    shared = {name: where for name, where in by_name.items() if len(where) > 1}
    assert shared == {}
    assert len(by_name) > 40  # the walk found the domains' errors, not only kit's


def test_no_two_public_classes_share_a_name() -> None:
    where = public_classes(all_modules())
    shared = {
        name: sorted(modules)
        for name, modules in where.items()
        if len(modules) > 1 and name not in SHARED_NAMES
    }
    assert shared == {}
    assert {"AwardNotFound", "Scheduler", "LedgerJournal"} <= where.keys()  # the walk got there


def test_a_second_class_of_a_taken_name_is_seen() -> None:
    """The check can fail: two modules defining a name give two places; a re-export adds none."""
    first, second, reexport = (ModuleType(f"probe_{n}") for n in ("a", "b", "c"))
    for module in (first, second):
        vars(module)["AwardNotFound"] = type("AwardNotFound", (), {"__module__": module.__name__})
    vars(reexport)["AwardNotFound"] = vars(first)["AwardNotFound"]
    assert public_classes([first, second, reexport]) == {"AwardNotFound": {"probe_a", "probe_b"}}
