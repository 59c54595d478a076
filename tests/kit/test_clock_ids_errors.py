"""Clocks never go back and refuse naive times; UUIDv7s are ordered; errors carry statuses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from computeport.kit.clock import (
    AcceleratedClock,
    ManualClock,
    ensure_aware,
    from_epoch_seconds,
    isoformat_z,
    to_epoch_seconds,
)
from computeport.kit.errors import BudgetExceeded, Conflict, DomainError, ValidationFailed
from computeport.kit.ids import uuid7

T0 = datetime(2026, 10, 1, tzinfo=UTC)


def test_manual_clock_moves_only_forward() -> None:
    clock = ManualClock(T0)
    assert clock.advance(90) == T0 + timedelta(seconds=90)
    with pytest.raises(ValueError, match="never goes back"):
        clock.advance(-1)
    with pytest.raises(ValueError, match="never goes back"):
        clock.set(T0)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        ensure_aware(datetime(2026, 1, 1))


def test_accelerated_clock_runs_speed_times_faster_than_its_source() -> None:
    source = ManualClock(T0)
    sim = AcceleratedClock(datetime(2025, 1, 1, tzinfo=UTC), speed=1440, monotonic=source)
    source.advance(60)  # one wall minute
    assert sim.now() == datetime(2025, 1, 2, tzinfo=UTC)  # one simulated day


def test_epoch_round_trip_and_iso_z() -> None:
    assert from_epoch_seconds(to_epoch_seconds(T0)) == T0
    assert isoformat_z(T0) == "2026-10-01T00:00:00Z"


def test_uuid7_is_version_7_and_time_ordered() -> None:
    ids = [uuid7(now_ms=1_700_000_000_000 + i) for i in range(50)]
    assert all(u.version == 7 for u in ids)
    assert ids == sorted(ids)
    same_ms = [uuid7(now_ms=1_800_000_000_000) for _ in range(50)]
    assert same_ms == sorted(same_ms)
    assert len(set(same_ms)) == 50


def test_error_tree_maps_to_http_statuses() -> None:
    assert ValidationFailed("x").status_code == 422
    assert BudgetExceeded("x").status_code == 409
    assert isinstance(BudgetExceeded("x"), Conflict)
    err = BudgetExceeded("over", field="cap")
    assert isinstance(err, DomainError)
    assert err.type_slug == "budget-exceeded"
    assert err.field == "cap"
