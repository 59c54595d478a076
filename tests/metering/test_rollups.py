"""The report rollups equal direct sums over the raw rating rows, whatever the arrival order.

Records go through the real ingest and poster (so reversals of late records and corrections
are the poster's own), in random batches; after each run every report reader that now uses
the rollups is compared with the same figure computed here, in Python, from ``usage_charge``
joined to ``usage_record`` and ``organisation``.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from computeport.backends import AccountingRecord, JobState
from computeport.billing.posting import post_all
from computeport.kit.clock import ManualClock
from computeport.metering.ingest import ingest_usage
from computeport.metering.rollups import rebuild_usage_rollups, refresh_usage_rollups
from computeport.models.identity import Organisation
from computeport.models.metering import UsageCharge, UsageRecord
from computeport.models.rollup import (
    BUCKET_SECONDS,
    NO_AWARD,
    ClusterUsageRollup,
    ClusterWaitRollup,
    UsageRollup,
    UtilisationRollup,
    WaitRollup,
)
from computeport.web.formatting import HONG_KONG
from computeport.web.views.funder import first_start
from computeport.web.views.ops import WaitStats, finished_use, percentile, window_waits
from computeport.web.views.reports import DIMENSIONS, ReportRow, usage_report
from computeport.web.views.usage import MonthMoney, money_by_month, subsidy_by_award
from tests.factories import billing as fb
from tests.factories import metering as fm

NOW = datetime(2026, 11, 2, tzinfo=UTC)
SUBMIT_BASE = datetime(2026, 9, 25, tzinfo=UTC)


@pytest.fixture
def world(session: Session, clock: ManualClock) -> fb.World:
    w = fb.World(session, clock)
    clock.set(NOW)
    return w


# -- the reference: direct computations over the raw rows ---------------------------------


def _raw(session: Session) -> list[tuple[UsageCharge, UsageRecord, Organisation]]:
    session.flush()
    return [
        (c, r, o)
        for c, r, o in session.execute(
            select(UsageCharge, UsageRecord, Organisation)
            .join(UsageRecord, UsageRecord.id == UsageCharge.record_id)
            .join(Organisation, Organisation.id == UsageCharge.organisation_id)
            .order_by(UsageCharge.id)
        ).all()
    ]


def _key(by: str, c: UsageCharge, r: UsageRecord, o: Organisation) -> str:
    value: object = {
        "organisation": o.name,
        "category": o.category,
        "sector": o.sector,
        "qos": r.qos,
        "accelerator": c.accelerator_type,
        "month": c.period,
        # no inventory loaded here: a cluster is its own site
        "site": r.cluster,
        "cluster": r.cluster,
        "site_accelerator": f"{r.cluster} · {c.accelerator_type}",
    }[by]
    return str(getattr(value, "value", value))


def direct_report(
    session: Session, by: str, since: str | None = None, until: str | None = None
) -> list[ReportRow]:
    sums: dict[str, list[int]] = defaultdict(lambda: [0] * 7)
    for c, r, o in _raw(session):
        if (since and c.period < since) or (until and c.period > until):
            continue
        row = sums[_key(by, c, r, o)]
        row[0] += c.sign
        row[1] += c.gpu_seconds
        row[2] += c.list_minor
        row[3] += c.subsidy_minor
        row[4] += c.copay_minor
        if r.start_time is not None:
            row[5] += c.sign * int((r.start_time - r.submit_time).total_seconds())
            row[6] += 1
    rows = [
        ReportRow(
            key,
            v[0],
            v[1],
            v[2],
            v[3],
            v[4],
            round(v[5] / v[0]) if v[6] and v[0] > 0 else None,
        )
        for key, v in sorted(sums.items())
    ]
    if by != "month":
        rows.sort(key=lambda row: -row.gpu_seconds)
    return rows


def direct_months(session: Session, awards: set[uuid.UUID] | None = None) -> list[MonthMoney]:
    sums: dict[str, list[int]] = defaultdict(lambda: [0] * 4)
    for c, _r, _o in _raw(session):
        if awards is not None and c.award_id not in awards:
            continue
        v = sums[c.period]
        v[0] += c.gpu_seconds
        v[1] += c.list_minor
        v[2] += c.subsidy_minor
        v[3] += c.copay_minor
    return [MonthMoney(p, *v) for p, v in sorted(sums.items())]


def direct_buckets(session: Session) -> dict[tuple[int, str, str], int]:
    """GPU-seconds per (bucket, partition, type): each rated row's sign × GPUs × overlap."""
    sums: dict[tuple[int, str, str], int] = defaultdict(int)
    for c, r, _o in _raw(session):
        if r.start_time is None:
            continue
        start, end = int(r.start_time.timestamp()), int(r.end_time.timestamp())
        bucket = start - start % BUCKET_SECONDS
        while True:
            overlap = min(end, bucket + BUCKET_SECONDS) - max(start, bucket)
            sums[(bucket, r.partition, r.accelerator_type)] += c.sign * r.gpus * max(0, overlap)
            bucket += BUCKET_SECONDS
            if bucket >= end:
                break
    return dict(sums)


def rollup_buckets(session: Session) -> dict[tuple[int, str, str], int]:
    """GPU-seconds per (bucket, partition, type) rebuilt from the rollup: partial + B × the
    running sum of the whole-bucket steps, over every bucket from the first row to the last."""
    rows = session.execute(
        select(
            UtilisationRollup.bucket_start,
            UtilisationRollup.partition,
            UtilisationRollup.accelerator_type,
            UtilisationRollup.partial_gpu_seconds,
            UtilisationRollup.full_gpus_delta,
        ).order_by(UtilisationRollup.bucket_start)
    ).all()
    if not rows:
        return {}
    partial = {(b, p, t): g for b, p, t, g, _d in rows}
    steps = {(b, p, t): d for b, p, t, _g, d in rows}
    out: dict[tuple[int, str, str], int] = {}
    for p, t in {(p, t) for _b, p, t, _g, _d in rows}:
        covering = 0
        for bucket in range(rows[0][0], rows[-1][0] + BUCKET_SECONDS, BUCKET_SECONDS):
            covering += steps.get((bucket, p, t), 0)
            value = partial.get((bucket, p, t), 0) + BUCKET_SECONDS * covering
            if value:
                out[(bucket, p, t)] = value
    return out


def direct_waits(session: Session) -> dict[tuple[int, int], int]:
    """Σ sign per (Hong Kong day of start, max(0, start − submit))."""
    sums: dict[tuple[int, int], int] = defaultdict(int)
    for c, r, _o in _raw(session):
        if r.start_time is None:
            continue
        local = r.start_time.astimezone(HONG_KONG)
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        wait = max(0, int((r.start_time - r.submit_time).total_seconds()))
        sums[(int(midnight.timestamp()), wait)] += c.sign
    return dict(sums)


def direct_wait_stats(session: Session) -> WaitStats:
    """Nearest-rank percentiles per day over every rated job's wait (net of reversals)."""
    per_day: dict[int, list[int]] = defaultdict(list)
    for (day, wait), jobs in direct_waits(session).items():
        per_day[day].extend([wait] * jobs)
    stats = WaitStats([], [], [], [], [])
    for day in sorted(d for d, v in per_day.items() if v):
        values = sorted(per_day[day])
        stats.x.append(datetime.fromtimestamp(day, HONG_KONG).date().isoformat())
        stats.p50.append(percentile(values, 50))
        stats.p90.append(percentile(values, 90))
        stats.p99.append(percentile(values, 99))
        stats.jobs.append(len(values))
    return stats


def assert_rollups_match(session: Session, world: fb.World) -> None:
    for by in DIMENSIONS:
        assert usage_report(session, by) == direct_report(session, by), by
        assert usage_report(session, by, since="2026-10", until="2026-10") == direct_report(
            session, by, "2026-10", "2026-10"
        ), by
    assert money_by_month(session) == direct_months(session)
    both = {world.award_a.id, world.award_b.id}
    assert money_by_month(session, scheme_id=world.scheme.id) == direct_months(session, both)
    for award in (world.award_a, world.award_b):
        assert money_by_month(session, award_id=award.id) == direct_months(session, {award.id})
        expected = sum(m.subsidy_minor for m in direct_months(session, {award.id}))
        assert subsidy_by_award(session, [award.id]).get(award.id, 0) == expected
    assert rollup_buckets(session) == {k: v for k, v in direct_buckets(session).items() if v}
    # The operations chart over October, one-day steps from a Hong Kong midnight.
    day = datetime(2026, 9, 30, 16, tzinfo=UTC)
    use = finished_use(session, day, day + timedelta(days=31), timedelta(days=1))
    chart: dict[str, list[float]] = defaultdict(lambda: [0.0] * 31)
    for (bucket, partition, _t), value in direct_buckets(session).items():
        if day.timestamp() <= bucket < day.timestamp() + 31 * 86400:
            chart[partition][int(bucket - day.timestamp()) // 86400] += value
    assert use.by_partition == {p: v for p, v in chart.items() if any(v)}
    histogram = {
        (d, w): n
        for d, w, n in session.execute(
            select(WaitRollup.day_start, WaitRollup.wait_seconds, WaitRollup.jobs)
        ).all()
    }
    assert histogram == direct_waits(session)
    window = (datetime(2026, 9, 1, tzinfo=UTC), NOW)
    assert window_waits(session, *window) == direct_wait_stats(session)
    assert_cluster_rollups_match(session)


def assert_cluster_rollups_match(session: Session) -> None:
    """The per-cluster rollups: money and jobs per (period, organisation, cluster, type), and
    jobs and GPU-seconds per (day of start, cluster, type, wait)."""
    usage: dict[tuple[str, uuid.UUID, str, str], list[int]] = defaultdict(lambda: [0] * 7)
    waits: dict[tuple[int, str, str, int], list[int]] = defaultdict(lambda: [0, 0])
    for c, r, _o in _raw(session):
        row = usage[(c.period, c.organisation_id, r.cluster, c.accelerator_type)]
        started = r.start_time is not None
        wait = int((r.start_time - r.submit_time).total_seconds()) if r.start_time else 0
        for i, v in enumerate(
            (c.sign, c.gpu_seconds, c.list_minor, c.subsidy_minor, c.copay_minor)
        ):
            row[i] += v
        row[5] += c.sign * wait if started else 0
        row[6] += 1 if started else 0
        if r.start_time is not None:
            local = r.start_time.astimezone(HONG_KONG)
            day = int(local.replace(hour=0, minute=0, second=0, microsecond=0).timestamp())
            cell = waits[(day, r.cluster, c.accelerator_type, max(0, wait))]
            cell[0] += c.sign
            cell[1] += c.gpu_seconds
    u = ClusterUsageRollup
    stored = {
        (p, o, cl, t): [j, g, li, su, co, w, st]
        for p, o, cl, t, j, g, li, su, co, w, st in session.execute(
            select(
                u.period, u.organisation_id, u.cluster, u.accelerator_type, u.jobs,
                u.gpu_seconds, u.list_minor, u.subsidy_minor, u.copay_minor, u.wait_seconds,
                u.started_rows,
            )
        ).all()
    }  # fmt: skip
    assert stored == dict(usage)
    w = ClusterWaitRollup
    histogram = {
        (d, cl, t, s): [j, g]
        for d, cl, t, s, j, g in session.execute(
            select(
                w.day_start, w.cluster, w.accelerator_type, w.wait_seconds, w.jobs, w.gpu_seconds
            )
        ).all()
    }
    assert histogram == dict(waits)


# -- random streams through the real poster -----------------------------------------------


ACCOUNTS = ("aiss-a", "aiss-b", "alpha", "beta")


def _record(job: int, hour: int, seconds: int, gpus: int) -> AccountingRecord:
    """Job ``job`` ending at ``hour`` of its day; a second draw of the same job id with other
    content is a correction (same key: the submit time is the job's own)."""
    # The account and the day follow the job id: a correction that moves a record to another
    # award, or out of its award's dates, trips the poster (``_raise_max`` on no items).
    day = 1 + job * 7 % 30
    base = fm.record(
        job,
        ACCOUNTS[job % len(ACCOUNTS)],
        end=datetime(2026, 10, day, hour, tzinfo=UTC),
        gpus=gpus,
        seconds=seconds,
        submit=SUBMIT_BASE + timedelta(minutes=job),
    )
    return dataclasses.replace(
        base,
        partition="debug" if job % 3 == 0 else "gpu",
        qos="scavenger" if job % 5 == 0 else "subsidised",
    )


records = st.builds(
    _record,
    job=st.integers(1, 12),
    hour=st.integers(0, 23),
    seconds=st.sampled_from([0, 1, 600, 1799, 1800, 3600, 5400, 86_400 + 7]),
    gpus=st.integers(1, 8),
)


def _not_started(record: AccountingRecord) -> AccountingRecord:
    return dataclasses.replace(
        record,
        start_time=None,
        state=JobState.CANCELLED,
        elapsed_seconds=0,
        gpu_seconds=0,
    )


@pytest.mark.slow
@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_rollups_equal_direct_sums_over_any_stream(
    session: Session, clock: ManualClock, world: fb.World, data: st.DataObject
) -> None:
    """Late records (re-rating later ones), corrections (same key, new content), jobs that never
    started, and rollups refreshed batch by batch: always the raw rows' sums."""
    stream = data.draw(st.lists(records, min_size=1, max_size=25))
    cancelled = data.draw(st.lists(st.integers(0, len(stream) - 1), max_size=3))
    stream = [_not_started(r) if i in cancelled else r for i, r in enumerate(stream)]
    cuts = sorted(data.draw(st.sets(st.integers(1, max(1, len(stream) - 1)), max_size=4)))
    batch_size = data.draw(st.integers(1, 6))
    with session.begin_nested() as attempt:
        for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True):
            ingest_usage(session, clock, stream[a:b])
            post_all(session, clock, batch_size=batch_size)
            assert_rollups_match(session, world)
        incremental = _tables(session)
        rebuild_usage_rollups(session)
        assert _tables(session) == incremental
        attempt.rollback()


def _tables(session: Session) -> tuple[set[tuple[object, ...]], ...]:
    session.flush()
    return tuple(
        {tuple(r) for r in session.execute(select(table.__table__)).all()}
        for table in (
            UsageRollup,
            UtilisationRollup,
            WaitRollup,
            ClusterUsageRollup,
            ClusterWaitRollup,
        )
    )


# -- specific cases --------------------------------------------------------------------------


def test_a_job_spanning_buckets_adds_its_overlap_to_each(
    session: Session, clock: ManualClock, world: fb.World
) -> None:
    # 2 GPUs from 10:15 to 11:45: 15 min, 30 min, 30 min, 15 min of the half-hours from 10:00.
    job = fm.record(1, "alpha", end=datetime(2026, 10, 7, 11, 45, tzinfo=UTC), gpus=2, seconds=5400)
    ingest_usage(session, clock, [job])
    post_all(session, clock)
    start = int(datetime(2026, 10, 7, 10, tzinfo=UTC).timestamp())
    assert rollup_buckets(session) == {
        (start, "gpu", "h800"): 2 * 900,
        (start + 1800, "gpu", "h800"): 2 * 1800,
        (start + 3600, "gpu", "h800"): 2 * 1800,
        (start + 5400, "gpu", "h800"): 2 * 900,
    }
    # Three rows whatever the job's length: two partial buckets and the whole-bucket step.
    stored = session.execute(
        select(
            UtilisationRollup.bucket_start,
            UtilisationRollup.partial_gpu_seconds,
            UtilisationRollup.full_gpus_delta,
        ).order_by(UtilisationRollup.bucket_start)
    ).all()
    assert [tuple(r) for r in stored] == [
        (start, 2 * 900, 0),
        (start + 1800, 0, 2),
        (start + 5400, 2 * 900, -2),
    ]
    first = session.scalar(
        select(UtilisationRollup.first_start).where(UtilisationRollup.bucket_start == start)
    )
    assert first == int(datetime(2026, 10, 7, 10, 15, tzinfo=UTC).timestamp())


def test_a_correction_counts_once_on_the_operations_chart(
    session: Session, clock: ManualClock, world: fb.World
) -> None:
    """The old version of a corrected record is reversed when the new one is rated: its
    GPU-seconds leave the utilisation rollup (the raw records would count both)."""
    end = datetime(2026, 10, 10, 12, tzinfo=UTC)
    first = fm.record(50, "aiss-b", end=end, gpus=8, seconds=3600)
    ingest_usage(session, clock, [first])
    post_all(session, clock)
    corrected = fm.record(50, "aiss-b", end=end, gpus=8, seconds=1800, submit=first.submit_time)
    ingest_usage(session, clock, [corrected])
    post_all(session, clock)
    day = datetime(2026, 10, 10, 8, tzinfo=UTC)  # 16:00 Hong Kong: a day boundary there
    use = finished_use(session, day, day + timedelta(days=1), timedelta(days=1))
    assert use.by_partition == {"gpu": [8 * 1800]}
    assert use.by_type == {"h800": [8 * 1800]}
    assert (
        session.scalar(select(UsageRollup.jobs).where(UsageRollup.award_id == world.award_b.id))
        == 1
    )


def test_pay_as_you_go_charges_roll_up_under_no_award(
    session: Session, clock: ManualClock, world: fb.World
) -> None:
    ingest_usage(session, clock, [fm.record(6, "alpha", end=datetime(2026, 10, 7, tzinfo=UTC))])
    post_all(session, clock)
    rows = session.execute(select(UsageRollup.award_id, UsageRollup.organisation_id)).all()
    assert rows == [(NO_AWARD, world.alpha.id)]
    assert subsidy_by_award(session, [world.award_a.id]) == {}


def test_refresh_folds_only_new_rows_and_is_idempotent(
    session: Session, clock: ManualClock, world: fb.World
) -> None:
    ingest_usage(session, clock, world.october())
    post_all(session, clock)
    before = _tables(session)
    assert not refresh_usage_rollups(session).advanced  # the poster already folded them in
    assert _tables(session) == before
    assert_rollups_match(session, world)


def test_first_start_is_the_earliest_rated_start_in_the_window(
    session: Session, clock: ManualClock, world: fb.World
) -> None:
    year = datetime(2026, 1, 1, tzinfo=UTC)
    assert first_start(session, year, NOW) is None
    jobs = [
        fm.record(1, "alpha", end=datetime(2026, 10, 7, 12, 0, 5, tzinfo=UTC), seconds=10),
        fm.record(2, "alpha", end=datetime(2026, 10, 9, tzinfo=UTC)),
    ]
    ingest_usage(session, clock, jobs)
    post_all(session, clock)
    started = datetime(2026, 10, 7, 11, 59, 55, tzinfo=UTC)
    assert first_start(session, year, NOW) == started
    # The window ends inside the job's bucket but before it started: nothing in the window.
    assert first_start(session, year, datetime(2026, 10, 7, 11, 59, tzinfo=UTC)) is None
    assert first_start(session, year, started + timedelta(seconds=1)) == started


def test_wait_percentiles_are_exact_nearest_ranks_of_the_histogram(session: Session) -> None:
    """Two steps (the minute holding each rank, then the second within it) give exactly the
    nearest-rank percentiles of every job's wait, ties and empty days included."""
    day = int(datetime(2026, 10, 6, 16, tzinfo=UTC).timestamp())  # 7 Oct, Hong Kong midnight
    histogram = {
        (day, 0): 30,
        (day, 59): 40,
        (day, 60): 3,
        (day, 61): 1,
        (day, 3599): 50,
        (day, 90_000): 1,
        (day + 86400, 7): 1,
        (day + 2 * 86400, 12): 0,  # every job of that day was reversed
    }
    session.add_all(
        WaitRollup(day_start=d, wait_seconds=w, jobs=n) for (d, w), n in histogram.items()
    )
    session.flush()
    stats = window_waits(
        session, datetime(2026, 10, 7, tzinfo=UTC), datetime(2026, 10, 9, 23, tzinfo=UTC)
    )
    first = sorted(w for (d, w), n in histogram.items() if d == day for _ in range(n))
    assert stats.x == ["2026-10-07", "2026-10-08"]
    assert stats.jobs == [len(first), 1]
    assert stats.p50 == [percentile(first, 50), 7]
    assert stats.p90 == [percentile(first, 90), 7]
    assert stats.p99 == [percentile(first, 99), 7]
    assert (stats.p50[0], stats.p90[0], stats.p99[0]) == (59, 3599, 3599)
