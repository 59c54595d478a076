"""The demo's Sandy Ridge comes online during the demo: on the demo's seed, the worker's duties
for ``sandy-ridge-a`` are deferred to its commissioning (midnight UTC of the seeded date), which
the demo's clock reaches within minutes at the default speed (a simulated day a minute)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from computeport.cli.demo import demo_settings, open_state, prepare_database, seed
from computeport.inventory.repository import all_clusters
from computeport.worker.loop import Deferred, Loop
from computeport.worker.start import build_loops

DEFAULT_SPEED = 1440.0


@pytest.mark.slow
def test_the_demo_opens_sandy_ridge_a_simulated_week_in(tmp_path: Path) -> None:
    settings = demo_settings(tmp_path, DEFAULT_SPEED)
    prepare_database(settings)
    seed(settings)
    state = open_state(settings, timedelta(days=1))
    loops: list[Loop] = []
    try:
        with state.sessions() as session:
            ridge = next(c for c in all_clusters(session) if c.name == "sandy-ridge-a")
            assert ridge.commissioned is not None
            opens = datetime.combine(ridge.commissioned, datetime.min.time(), tzinfo=UTC)
        loops = build_loops(state)
        deferred = {loop.name: loop for loop in loops if isinstance(loop, Deferred)}
        assert set(deferred) == {
            "advance-cluster@sandy-ridge-a",
            "reconcile-awards@sandy-ridge-a",
            "ingest-usage@sandy-ridge-a",
        }
        assert {loop.start for loop in deferred.values()} == {opens}
        assert "advance-cluster@cyberport-h800" in {loop.name for loop in loops}
        now = state.clock.now()
        assert not any(loop.due(now) for loop in deferred.values())  # planned until then
        wait = (opens - now) / DEFAULT_SPEED  # wall time until it opens at the default speed
        assert timedelta(0) < wait <= timedelta(minutes=8)
        assert all(loop.due(opens) for loop in deferred.values())
    finally:
        for loop in loops:
            close = getattr(loop, "close", None)
            if close is not None:
                close()
        state.engine.dispose()
