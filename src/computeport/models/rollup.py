"""Rollups of the rating sub-ledger, so reports read thousands of rows instead of millions.

Why these shapes (issue 6: usage reports over 10,000,000 job records in ≤ 1 s):

- :class:`UsageRollup` sums ``usage_charge`` (joined to its record for the QOS and the wait) per
  (period, organisation, award, QOS, accelerator type).  Every report dimension (organisation,
  category, sector via a join to ``organisation`` at read time; QOS, accelerator, month) is a
  ``GROUP BY`` over it.  Amounts are the signed rows' plain sums, so reversals net out exactly
  as they do in the sub-ledger.
- :class:`UtilisationRollup` holds each rated record's GPUs × seconds per fixed
  :data:`BUCKET_SECONDS` bucket, per partition and accelerator type, for the operations page,
  in at most three rows per record however long the job: the partial overlaps of its first and
  last buckets, and a +GPUs / −GPUs step in the count of GPUs covering whole buckets (a
  running sum over buckets gives that count).  It is driven by the same signed rating rows: a
  corrected record's old version is reversed (−1) when the new one is rated, so a correction
  counts once, never twice.
- :class:`WaitRollup` counts rated jobs per Hong Kong day of their start and exact wait in
  seconds: a histogram, from which the operations page's daily wait percentiles (nearest
  rank) come out exactly, without reading every job of the window.

All three are maintained incrementally in the poster's transaction (``metering.rollups``) from a
``billing_cursor`` position over ``usage_charge.id``, and can be rebuilt from scratch.

The keys are primary keys with no NULL column (an upsert needs a conflict target, and
PostgreSQL's unique keys treat NULLs as distinct): a charge on no award is stored under
:data:`NO_AWARD`, the nil UUID.
"""

from __future__ import annotations

import uuid

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from computeport.db.base import Base

NO_AWARD = uuid.UUID(int=0)
"""``award_id`` of the rollup rows for charges on no award (pay-as-you-go)."""

BUCKET_SECONDS = 1800
"""Width of a utilisation bucket: half an hour, the operations page's finest step."""

DAY_OFFSET_SECONDS = 8 * 3600
"""Hong Kong's UTC offset (no daylight saving since 1979): wait days are Hong Kong days."""


class UsageRollup(Base):
    """Σ of the signed rating rows per (period, organisation, award, QOS, accelerator type)."""

    __tablename__ = "usage_rollup"

    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    """UTC month of the jobs' end, ``YYYY-MM`` (the charges' ``period``)."""
    organisation_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    award_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    """The award, or :data:`NO_AWARD` for pay-as-you-go charges."""
    qos: Mapped[str] = mapped_column(String(32), primary_key=True)
    accelerator_type: Mapped[str] = mapped_column(String(32), primary_key=True)
    jobs: Mapped[int] = mapped_column(BigInteger, default=0)
    """Σ sign: a record rated, reversed and re-rated counts once."""
    gpu_seconds: Mapped[int] = mapped_column(BigInteger, default=0)
    list_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    subsidy_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    copay_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    credited_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    wait_seconds: Mapped[int] = mapped_column(BigInteger, default=0)
    """Σ sign × (start − submit) in whole seconds, over rows whose record started."""
    started_rows: Mapped[int] = mapped_column(BigInteger, default=0)
    """Rating rows (unsigned) whose record has a start: 0 means "no wait to report"."""


class UtilisationRollup(Base):
    """Rated usage per bucket, partition and type, as partial overlaps plus a step function.

    GPU-seconds in bucket b = ``partial_gpu_seconds`` (b) + :data:`BUCKET_SECONDS` × Σ
    ``full_gpus_delta`` over buckets ≤ b.  All Σ sign × …, so reversals take back exactly what
    the reversed rating added.
    """

    __tablename__ = "utilisation_rollup"

    bucket_start: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    """Epoch seconds, a multiple of :data:`BUCKET_SECONDS`."""
    partition: Mapped[str] = mapped_column(String(64), primary_key=True)
    accelerator_type: Mapped[str] = mapped_column(String(32), primary_key=True)
    partial_gpu_seconds: Mapped[int] = mapped_column(BigInteger, default=0)
    """GPUs × seconds in this bucket of the jobs starting or ending in it."""
    full_gpus_delta: Mapped[int] = mapped_column(BigInteger, default=0)
    """Change, from this bucket on, of the GPUs of jobs covering whole buckets."""
    first_start: Mapped[int | None] = mapped_column(BigInteger, default=None)
    """Earliest start (epoch seconds) of a rated record starting in this bucket, if any."""


class WaitRollup(Base):
    """Σ sign of the rating rows per (Hong Kong day of the job's start, wait in seconds)."""

    __tablename__ = "wait_rollup"

    day_start: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    """Epoch seconds of the Hong Kong midnight that starts the day."""
    wait_seconds: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    """max(0, start − submit), whole seconds."""
    jobs: Mapped[int] = mapped_column(BigInteger, default=0)


class ClusterUsageRollup(Base):
    """Σ of the signed rating rows per (period, organisation, cluster, accelerator type).

    The site dimension of the reports (issue 12): a record names its cluster, and the site is
    joined from the inventory at read time (a cluster's site is configuration, its usage is
    history).  A table beside :class:`UsageRollup` rather than a wider key on it, so adding it
    is an expand-only migration: the previous version keeps writing the rollups it knows.
    """

    __tablename__ = "cluster_usage_rollup"

    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    organisation_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    cluster: Mapped[str] = mapped_column(String(64), primary_key=True)
    accelerator_type: Mapped[str] = mapped_column(String(32), primary_key=True)
    jobs: Mapped[int] = mapped_column(BigInteger, default=0)
    gpu_seconds: Mapped[int] = mapped_column(BigInteger, default=0)
    list_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    subsidy_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    copay_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    wait_seconds: Mapped[int] = mapped_column(BigInteger, default=0)
    started_rows: Mapped[int] = mapped_column(BigInteger, default=0)


class ClusterWaitRollup(Base):
    """Rated jobs and their GPU-seconds per (Hong Kong day of start, cluster, accelerator type,
    wait in seconds): the operations page's wait percentiles and use per site and type."""

    __tablename__ = "cluster_wait_rollup"

    day_start: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    cluster: Mapped[str] = mapped_column(String(64), primary_key=True)
    accelerator_type: Mapped[str] = mapped_column(String(32), primary_key=True)
    wait_seconds: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    jobs: Mapped[int] = mapped_column(BigInteger, default=0)
    gpu_seconds: Mapped[int] = mapped_column(BigInteger, default=0)
