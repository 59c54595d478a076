"""Readiness: may a load balancer send this API process requests? (``/readyz``, ``doctor``)

Liveness (``/healthz``) says only that the process answers; readiness says that what every
request needs is there: the database answers, its schema is not behind this version's
migrations, and the cluster back end answers a cheap call (its partitions).  Each check is
named and timed, and a failing one carries its error, so an operator reading the probe's body
(or ``computeport doctor``) sees which part is missing and how long each took.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Engine, text

from computeport.backends import ClusterBackend
from computeport.db.migrate import schema_lag

__all__ = [
    "Check",
    "Explained",
    "Readiness",
    "check_backend",
    "check_database",
    "check_migrations",
    "readiness",
    "timed",
]


@dataclass(frozen=True, slots=True)
class Check:
    """One named check: passed or not, how long it took, and why it failed."""

    name: str
    ok: bool
    seconds: float
    error: str | None = None
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class Readiness:
    checks: tuple[Check, ...]

    @property
    def ready(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def failing(self) -> list[str]:
        return [c.name for c in self.checks if not c.ok]

    def body(self) -> dict[str, Any]:
        """The JSON body of ``/readyz``: status, the failing checks' names, every check."""
        return {
            "status": "ready" if self.ready else "not ready",
            "failing": self.failing,
            "checks": [asdict(c) for c in self.checks],
        }


class Explained(RuntimeError):
    """A check's failure whose message already says what is wrong and what to do."""


def timed(name: str, probe: Callable[[], str | None]) -> Check:
    """Run ``probe`` (returns a detail, or raises): any exception is the check's error.

    Broad on purpose: a probe fails with whatever its driver raises (psycopg, OSError, a Slurm
    command's error), and readiness must report it rather than answer 500.
    """
    started = time.perf_counter()
    try:
        detail = probe()
    except Exception as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        if isinstance(exc, Explained):
            error = message
        else:
            error = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
        return Check(name, False, round(time.perf_counter() - started, 4), error=error)
    return Check(name, True, round(time.perf_counter() - started, 4), detail=detail)


def check_database(engine: Engine) -> Check:
    def probe() -> str:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return engine.dialect.name

    return timed("database", probe)


class SchemaBehind(Explained):
    """The database lacks migrations this version needs."""


def check_migrations(engine: Engine) -> Check:
    def probe() -> str:
        lag = schema_lag(engine)
        if lag is not None:
            raise SchemaBehind(lag)
        return "at or ahead of this version's head"

    return timed("migrations", probe)


def check_backend(backend: ClusterBackend | None) -> Check:
    def probe() -> str:
        if backend is None:
            return "no cluster configured"
        partitions = backend.partitions()
        return f"{backend.cluster}: {len(partitions)} partitions"

    return timed("backend", probe)


def readiness(engine: Engine, backend: ClusterBackend | None) -> Readiness:
    """Every check, in order; a database that does not answer skips the schema check."""
    database = check_database(engine)
    if database.ok:
        migrations = check_migrations(engine)
    else:
        migrations = Check("migrations", False, 0.0, error="database unreachable")
    return Readiness((database, migrations, check_backend(backend)))
