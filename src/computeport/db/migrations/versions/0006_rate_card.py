"""the rate card: one append-only price_version for every priced thing, and price_change drafts

Revision ID: 0006_rate_card
Revises: 0005_worker_leases
Create Date: 2026-12-04 17:30:00

``price_version`` was one GPU-hour price per accelerator type with an edited ``valid_to``;
``qos_multiplier`` a single, unversioned factor per QOS.  Both become rows of the new
``price_version`` keyed by (kind, subject, site, cluster, valid_from), append-only (the ledger's
triggers), with no stored end (a version ends where its key's next one starts).

``document_line`` gains the version that rated each line (``price_version_id``, with its
price and start as issued); lines issued before keep NULL there.

Carried over, with their ids (``usage_charge.price_version_id`` names them):

- every old price version, as a ``gpu_hour`` row (``valid_to`` was always the next version's
  ``valid_from``, so nothing is lost by deriving it);
- every QOS multiplier, as a ``qos_multiplier`` row in force from the earliest instant any price
  was (it was in force for every rating so far), or its creation if there was none.

The tables are small (a price list), so rows are read into memory, the old tables dropped and
the new ones created: the same on both engines, with no constraint names to rename.  Downgrade
does the reverse (tokens and audio prices, which the old shape cannot hold, are dropped).
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

from computeport.db.base import UtcDateTime
from computeport.db.guards import append_only_triggers

revision: str = "0006_rate_card"
down_revision: str | Sequence[str] | None = "0005_worker_leases"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = UtcDateTime(timezone=True)
_MONEY = sa.Numeric(precision=18, scale=8)
_KIND = sa.Enum(
    "gpu_hour",
    "qos_multiplier",
    "tokens",
    "audio_minute",
    name="pricekind",
    native_enum=False,
    length=32,
)
_STATUS = sa.Enum(
    "drafted", "approved", "rejected", name="pricechangestatus", native_enum=False, length=32
)

_old_price = sa.table(
    "price_version",
    sa.column("id", sa.Uuid()),
    sa.column("accelerator_type", sa.String()),
    sa.column("price_per_gpu_hour", _MONEY),
    sa.column("currency", sa.String()),
    sa.column("valid_from", _TS),
    sa.column("valid_to", _TS),
    sa.column("is_assumption", sa.Boolean()),
    sa.column("note", sa.Text()),
    sa.column("created_at", _TS),
)
_old_qos = sa.table(
    "qos_multiplier",
    sa.column("id", sa.Uuid()),
    sa.column("qos", sa.String()),
    sa.column("multiplier", _MONEY),
    sa.column("is_assumption", sa.Boolean()),
    sa.column("note", sa.Text()),
    sa.column("created_at", _TS),
)
_new_price = sa.table(
    "price_version",
    sa.column("id", sa.Uuid()),
    sa.column("kind", sa.String()),
    sa.column("subject", sa.String()),
    sa.column("site", sa.String()),
    sa.column("cluster", sa.String()),
    sa.column("unit_price", _MONEY),
    sa.column("unit_price_output", _MONEY),
    sa.column("currency", sa.String()),
    sa.column("valid_from", _TS),
    sa.column("is_assumption", sa.Boolean()),
    sa.column("note", sa.Text()),
    sa.column("drafted_by", sa.Uuid()),
    sa.column("approved_by", sa.Uuid()),
    sa.column("change_id", sa.Uuid()),
    sa.column("created_at", _TS),
)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _drop_guard(dialect: str, table: str) -> None:
    if dialect == "sqlite":
        for operation in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{operation}")
    elif dialect == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")


def upgrade() -> None:
    bind = op.get_bind()
    prices = bind.execute(sa.select(_old_price)).mappings().all()
    multipliers = bind.execute(sa.select(_old_qos)).mappings().all()
    earliest = min((_aware(p["valid_from"]) for p in prices), default=None)
    op.drop_table("qos_multiplier")
    op.drop_table("price_version")
    _create_new_tables()
    rows: list[dict[str, Any]] = [
        {
            "id": p["id"],
            "kind": "gpu_hour",
            "subject": p["accelerator_type"],
            "site": None,
            "cluster": None,
            "unit_price": p["price_per_gpu_hour"],
            "unit_price_output": None,
            "currency": p["currency"],
            "valid_from": _aware(p["valid_from"]),
            "is_assumption": p["is_assumption"],
            "note": p["note"],
            "drafted_by": None,
            "approved_by": None,
            "change_id": None,
            "created_at": _aware(p["created_at"]),
        }
        for p in prices
    ]
    for m in multipliers:
        created = _aware(m["created_at"])
        rows.append(
            {
                "id": m["id"],
                "kind": "qos_multiplier",
                "subject": m["qos"],
                "site": None,
                "cluster": None,
                "unit_price": m["multiplier"],
                "unit_price_output": None,
                "currency": "HKD",
                "valid_from": min(earliest, created) if earliest is not None else created,
                "is_assumption": m["is_assumption"],
                "note": m["note"],
                "drafted_by": None,
                "approved_by": None,
                "change_id": None,
                "created_at": created,
            }
        )
    if rows:
        bind.execute(sa.insert(_new_price), rows)
    for statement in append_only_triggers(bind.dialect.name, ["price_version"]):
        op.execute(statement)
    # Invoice lines name the version that rated them (NULL on lines issued before).  ADD
    # COLUMN keeps the table (and, on SQLite, its append-only triggers) as it is.
    op.add_column("document_line", sa.Column("price_version_id", sa.Uuid(), nullable=True))
    op.add_column("document_line", sa.Column("unit_price", _MONEY, nullable=True))
    op.add_column("document_line", sa.Column("price_from", _TS, nullable=True))


def _create_new_tables() -> None:
    op.create_table(
        "price_version",
        sa.Column("kind", _KIND, nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("site", sa.String(length=64), nullable=True),
        sa.Column("cluster", sa.String(length=64), nullable=True),
        sa.Column("unit_price", _MONEY, nullable=False),
        sa.Column("unit_price_output", _MONEY, nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("valid_from", _TS, nullable=False),
        sa.Column("is_assumption", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("drafted_by", sa.Uuid(), nullable=True),
        sa.Column("approved_by", sa.Uuid(), nullable=True),
        sa.Column("change_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.CheckConstraint("unit_price >= 0", name=op.f("ck_price_version_price_non_negative")),
        sa.CheckConstraint(
            "unit_price_output IS NULL OR unit_price_output >= 0",
            name=op.f("ck_price_version_output_non_negative"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_price_version")),
        sa.UniqueConstraint(
            "kind",
            "subject",
            "site",
            "cluster",
            "valid_from",
            name=op.f("uq_price_version_kind_subject_site_cluster_valid_from"),
        ),
    )
    op.create_table(
        "price_change",
        sa.Column("kind", _KIND, nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("site", sa.String(length=64), nullable=True),
        sa.Column("cluster", sa.String(length=64), nullable=True),
        sa.Column("unit_price", _MONEY, nullable=False),
        sa.Column("unit_price_output", _MONEY, nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("valid_from", _TS, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", _STATUS, nullable=False),
        sa.Column("drafted_by", sa.Uuid(), nullable=False),
        sa.Column("decided_by", sa.Uuid(), nullable=True),
        sa.Column("decided_at", _TS, nullable=True),
        sa.Column("version_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.CheckConstraint("unit_price > 0", name=op.f("ck_price_change_price_positive")),
        sa.CheckConstraint(
            "unit_price_output IS NULL OR unit_price_output > 0",
            name=op.f("ck_price_change_output_positive"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_price_change")),
    )


def downgrade() -> None:
    bind = op.get_bind()
    for column in ("price_from", "unit_price", "price_version_id"):
        # Native DROP COLUMN on both engines (SQLite ≥ 3.35): batch mode's table rebuild would
        # lose the append-only triggers.
        op.execute(f"ALTER TABLE document_line DROP COLUMN {column}")
    rows = bind.execute(sa.select(_new_price)).mappings().all()
    _drop_guard(bind.dialect.name, "price_version")
    op.drop_table("price_change")
    op.drop_table("price_version")
    _create_old_tables()
    gpu = sorted(
        (r for r in rows if r["kind"] == "gpu_hour" and r["site"] is None and r["cluster"] is None),
        key=lambda r: (r["subject"], _aware(r["valid_from"])),
    )
    old: list[dict[str, Any]] = []
    for i, r in enumerate(gpu):
        following = gpu[i + 1] if i + 1 < len(gpu) else None
        old.append(
            {
                "id": r["id"],
                "accelerator_type": r["subject"],
                "price_per_gpu_hour": r["unit_price"],
                "currency": r["currency"],
                "valid_from": _aware(r["valid_from"]),
                "valid_to": _aware(following["valid_from"])
                if following is not None and following["subject"] == r["subject"]
                else None,
                "is_assumption": r["is_assumption"],
                "note": r["note"],
                "created_at": _aware(r["created_at"]),
            }
        )
    if old:
        bind.execute(sa.insert(_old_price), old)
    latest: dict[str, Any] = {}
    for r in sorted(rows, key=lambda r: _aware(r["valid_from"])):
        if r["kind"] == "qos_multiplier" and r["site"] is None and r["cluster"] is None:
            latest[r["subject"]] = r
    qos = [
        {
            "id": r["id"],
            "qos": r["subject"],
            "multiplier": r["unit_price"],
            "is_assumption": r["is_assumption"],
            "note": r["note"],
            "created_at": _aware(r["created_at"]),
        }
        for r in latest.values()
    ]
    if qos:
        bind.execute(sa.insert(_old_qos), qos)


def _create_old_tables() -> None:
    op.create_table(
        "price_version",
        sa.Column("accelerator_type", sa.String(length=32), nullable=False),
        sa.Column("price_per_gpu_hour", _MONEY, nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("valid_from", _TS, nullable=False),
        sa.Column("valid_to", _TS, nullable=True),
        sa.Column("is_assumption", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.CheckConstraint(
            "price_per_gpu_hour >= 0", name=op.f("ck_price_version_price_non_negative")
        ),
        sa.CheckConstraint(
            "valid_to IS NULL OR valid_from < valid_to", name=op.f("ck_price_version_dates_ordered")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_price_version")),
        sa.UniqueConstraint(
            "accelerator_type",
            "valid_from",
            name=op.f("uq_price_version_accelerator_type_valid_from"),
        ),
    )
    op.create_table(
        "qos_multiplier",
        sa.Column("qos", sa.String(length=32), nullable=False),
        sa.Column("multiplier", _MONEY, nullable=False),
        sa.Column("is_assumption", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.CheckConstraint(
            "multiplier >= 0", name=op.f("ck_qos_multiplier_multiplier_non_negative")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qos_multiplier")),
        sa.UniqueConstraint("qos", name=op.f("uq_qos_multiplier_qos")),
    )
