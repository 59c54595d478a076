"""The declarative base, naming conventions and the column types every model shares.

Why a custom ``UtcDateTime``: SQLite stores datetimes without a zone; the type makes both
engines hand back aware UTC datetimes and refuses naive ones on the way in.
"""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Enum,
    MetaData,
    Numeric,
    String,
    TypeDecorator,
    Uuid,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from computeport.kit.ids import uuid7

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every engine."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime not allowed: {value!r}")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    """Base of all tables: naming conventions and Python → SQL type defaults."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: dict[Any, Any] = {  # noqa: RUF012 - SQLAlchemy reads it as a class var
        uuid.UUID: Uuid(),
        datetime: UtcDateTime(),
        Decimal: Numeric(18, 8),
        int: BigInteger().with_variant(BigInteger(), "postgresql"),
        str: String(),
        enum.StrEnum: Enum(
            enum.StrEnum,
            native_enum=False,
            length=32,
            values_callable=lambda members: [m.value for m in members],
        ),
        dict[str, Any]: JSON(),
        list[str]: JSON(),
    }


class IdMixin:
    """A time-ordered UUID primary key."""

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)


class TimestampMixin:
    """Creation time, set by the service from its injected clock (never by the database)."""

    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
