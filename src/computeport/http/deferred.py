"""Work a refused request leaves to be done after its answer, outside its unit of work.

A request that fails rolls its unit of work back, and with it anything written there; yet a
failed API token check must leave an audit row.  The check calls :func:`defer` with the write;
the problem+json handler sends the answer with the deferred work as its background task, which
Starlette runs once the answer is out and the request's own transaction has ended (so it never
waits for a write lock that request holds).
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.background import BackgroundTasks
from starlette.requests import Request

_KEY = "computeport_deferred"


def defer(request: Request, task: Callable[[], None]) -> None:
    """Run ``task`` (in the thread pool) after the answer to ``request`` is sent."""
    tasks: list[Callable[[], None]] = request.scope.setdefault(_KEY, [])
    tasks.append(task)


def deferred_tasks(request: Request) -> BackgroundTasks | None:
    """The request's deferred work as a response's background, or ``None`` when there is none."""
    tasks: list[Callable[[], None]] = request.scope.get(_KEY) or []
    if not tasks:
        return None
    background = BackgroundTasks()
    for task in tasks:
        background.add_task(task)
    return background
