"""Accounting ingest: resumable from a high-water mark, late records caught, nothing twice."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from computeport.backends import AccountingRecord, JobState
from computeport.kit.clock import ManualClock
from computeport.kit.errors import ValidationFailed
from computeport.metering.accounting import (
    FileCursorStore,
    IngestCursor,
    InMemoryCursorStore,
    InMemoryUsageSink,
    JsonLinesUsageSink,
    ingest_accounting,
    record_from_json,
    record_to_json,
)

T0 = datetime(2026, 10, 1, tzinfo=UTC)


def rec(job: int, end: datetime, gpus: int = 2, elapsed: int = 60) -> AccountingRecord:
    return AccountingRecord(
        cluster="c",
        job_id=str(job),
        submit_time=end - timedelta(seconds=elapsed + 5),
        account="aw1",
        user="alice",
        partition="gpu",
        gpus=gpus,
        gpu_type="h800",
        start_time=end - timedelta(seconds=elapsed),
        end_time=end,
        state=JobState.COMPLETED,
        exit_code=0,
        elapsed_seconds=elapsed,
        gpu_seconds=gpus * elapsed,
    )


class FakeSource:
    """Records that become visible at a given time (slurmdbd may learn of a job late)."""

    cluster = "c"

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.items: list[tuple[AccountingRecord, datetime]] = []
        self.calls: list[tuple[datetime, datetime]] = []
        self.fail = False

    def add(self, record: AccountingRecord, visible_at: datetime | None = None) -> None:
        self.items.append((record, visible_at or record.end_time))

    def accounting(self, since: datetime, until: datetime) -> list[AccountingRecord]:
        if self.fail:
            raise RuntimeError("slurmdbd down")
        self.calls.append((since, until))
        now = self.clock.now()
        return sorted(
            (r for r, seen in self.items if seen <= now and since <= r.end_time < until),
            key=lambda r: (r.end_time, r.job_id),
        )


class FailingSink:
    def accept(self, records: Sequence[AccountingRecord]) -> int:
        raise RuntimeError("billing down")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


def test_first_run_reads_the_lookback_and_stores_the_mark(clock: ManualClock) -> None:
    source, sink, store = FakeSource(clock), InMemoryUsageSink(), InMemoryCursorStore()
    source.add(rec(1, T0 - timedelta(hours=2)))
    clock.advance(60)
    result = ingest_accounting(
        source, sink, store, clock, first_lookback=timedelta(hours=3), window=timedelta(hours=1)
    )
    assert (result.read, result.accepted, result.windows) == (1, 1, 3)
    cursor = store.load("c")
    assert cursor is not None
    assert cursor.high_water == clock.now()


def test_rerun_skips_what_it_saw_in_the_overlap(clock: ManualClock) -> None:
    source, sink, store = FakeSource(clock), InMemoryUsageSink(), InMemoryCursorStore()
    source.add(rec(1, T0 + timedelta(minutes=1)))
    clock.advance(timedelta(minutes=5))
    ingest_accounting(source, sink, store, clock, first_lookback=timedelta(hours=1))
    clock.advance(timedelta(minutes=5))
    again = ingest_accounting(source, sink, store, clock)
    assert again.read == 1
    assert again.skipped == 1
    assert again.offered == 0
    assert sink.offered == 1


def test_a_late_record_inside_the_overlap_is_caught(clock: ManualClock) -> None:
    source, sink, store = FakeSource(clock), InMemoryUsageSink(), InMemoryCursorStore()
    late = rec(7, T0 + timedelta(minutes=1))
    source.add(late, visible_at=T0 + timedelta(minutes=20))
    clock.advance(timedelta(minutes=10))
    ingest_accounting(source, sink, store, clock, first_lookback=timedelta(hours=1))
    assert late.key not in sink.records
    clock.advance(timedelta(minutes=20))
    ingest_accounting(source, sink, store, clock, overlap=timedelta(hours=1))
    assert late.key in sink.records


def test_a_failing_sink_leaves_the_mark_so_nothing_is_lost(clock: ManualClock) -> None:
    source, store = FakeSource(clock), InMemoryCursorStore()
    source.add(rec(1, T0 + timedelta(minutes=1)))
    clock.advance(timedelta(minutes=5))
    with pytest.raises(RuntimeError, match="billing down"):
        ingest_accounting(source, FailingSink(), store, clock, first_lookback=timedelta(hours=1))
    assert store.load("c") is None
    sink = InMemoryUsageSink()
    ingest_accounting(source, sink, store, clock, first_lookback=timedelta(hours=1))
    assert len(sink.records) == 1


def test_a_failing_source_keeps_earlier_windows(clock: ManualClock) -> None:
    source, sink, store = FakeSource(clock), InMemoryUsageSink(), InMemoryCursorStore()
    clock.advance(timedelta(hours=2))
    ingest_accounting(source, sink, store, clock, first_lookback=timedelta(hours=1))
    mark = store.load("c")
    source.fail = True
    clock.advance(timedelta(hours=1))
    with pytest.raises(RuntimeError):
        ingest_accounting(source, sink, store, clock)
    assert store.load("c") == mark


def test_explicit_since_rereads_and_the_sink_dedupes(clock: ManualClock) -> None:
    source, sink, store = FakeSource(clock), InMemoryUsageSink(), InMemoryCursorStore()
    source.add(rec(1, T0 + timedelta(minutes=1)))
    clock.advance(timedelta(days=3))
    ingest_accounting(source, sink, store, clock, first_lookback=timedelta(days=4))
    result = ingest_accounting(source, sink, store, clock, since=T0)
    assert result.offered == 1
    assert result.accepted == 0


def test_bad_window_is_refused(clock: ManualClock) -> None:
    with pytest.raises(ValidationFailed):
        ingest_accounting(
            FakeSource(clock),
            InMemoryUsageSink(),
            InMemoryCursorStore(),
            clock,
            window=timedelta(0),
        )


def test_file_cursor_store_round_trips_atomically(tmp_path: Path) -> None:
    store = FileCursorStore(tmp_path / "cursor.json")
    assert store.load("c") is None
    r = rec(3, T0)
    cursor = IngestCursor(T0, {r.key: r.end_time})
    store.save("c", cursor)
    store.save("other", IngestCursor(T0 + timedelta(1)))
    assert FileCursorStore(tmp_path / "cursor.json").load("c") == cursor
    assert [p.name for p in tmp_path.iterdir()] == ["cursor.json"]


def test_file_cursor_store_names_a_broken_file(tmp_path: Path) -> None:
    path = tmp_path / "cursor.json"
    path.write_text('{"c": {"high_water": "yesterday"}}')
    with pytest.raises(ValidationFailed, match="high_water"):
        FileCursorStore(path).load("c")


def test_json_lines_sink_is_idempotent_across_instances(tmp_path: Path) -> None:
    path = tmp_path / "usage.jsonl"
    records = [rec(1, T0), rec(2, T0)]
    assert JsonLinesUsageSink(path).accept(records) == 2
    assert JsonLinesUsageSink(path).accept([*records, rec(3, T0)]) == 1
    lines = path.read_text().splitlines()
    assert len(lines) == 3
    assert record_from_json(record_to_json(records[0])) == records[0]


@settings(max_examples=60, deadline=None)
@given(
    jobs=st.lists(
        st.tuples(st.integers(0, 600), st.integers(0, 50)), min_size=1, max_size=30
    ),  # (end minute, delay in minutes before slurmdbd shows it)
    runs=st.lists(st.integers(1, 120), min_size=1, max_size=12),  # minutes between ingests
)
def test_every_record_arrives_exactly_once(jobs: list[tuple[int, int]], runs: list[int]) -> None:
    """With delays shorter than the overlap, any schedule of ingests sees each job once."""
    clock = ManualClock(T0)
    source, sink, store = FakeSource(clock), InMemoryUsageSink(), InMemoryCursorStore()
    for job_id, (end_minute, delay) in enumerate(jobs):
        end = T0 + timedelta(minutes=end_minute)
        source.add(rec(job_id, end), visible_at=end + timedelta(minutes=delay))
    for step in runs:
        clock.advance(timedelta(minutes=step))
        ingest_accounting(
            source, sink, store, clock, overlap=timedelta(hours=1), first_lookback=timedelta(days=1)
        )
    clock.advance(timedelta(hours=12))
    final = ingest_accounting(source, sink, store, clock, overlap=timedelta(hours=1))
    assert final.since > T0 - timedelta(days=1)  # resumed from the mark, did not start over
    assert sink.offered == len(jobs)  # never offered twice
    assert len(sink.records) == len(jobs)  # never lost
