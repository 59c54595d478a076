"""Set-based writes on the hot path: binary COPY on PostgreSQL, ``executemany`` on SQLite.

Why not the ORM: a million usage records through per-row ORM objects costs minutes; through
the driver it costs seconds.  Values are encoded here exactly as SQLAlchemy's own column
types store them (SQLite: datetimes as ``YYYY-MM-DD HH:MM:SS.ffffff`` text in UTC, UUIDs as
32 hex digits, booleans as 0/1), so rows written here read back through the ORM unchanged.
On PostgreSQL rows carry Python values (aware datetimes, UUIDs, bools) and go through
``COPY … (FORMAT BINARY)``: the server parses no text (timestamps were half its COPY time)
and psycopg's C dumpers do the encoding (no per-value Python escaping).
Everything runs on the session's own connection, inside its transaction.

In ``db`` because it knows tables, not domains: metering (ingest) and billing (posting) both
write through it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

Row = Sequence[Any]


def sqlite_datetime(value: datetime) -> str:
    """An aware datetime as SQLAlchemy stores it in SQLite (naive UTC text, microseconds)."""
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.isoformat(" ", "microseconds")[:26]


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return sqlite_datetime(value)
    if isinstance(value, uuid.UUID):
        return value.hex
    if isinstance(value, bool):
        return int(value)
    return value


_BINARY_TYPES = frozenset(
    {"int2", "int4", "int8", "text", "varchar", "bpchar", "uuid", "timestamptz", "bool"}
)
"""PostgreSQL column types the binary COPY path takes (others, e.g. JSON, go as text)."""

SQLITE_CACHE_KIB = 256 * 1024
"""Page cache for bulk work on SQLite: index maintenance on a million rows thrashes the
default 2 MiB cache."""


class BulkWriter:
    """Writes many rows at once through the session's DBAPI connection.

    Rows may be given as Python values (encoded here) or pre-encoded with :meth:`dt`,
    :meth:`uuid` and :meth:`flag` (``encoded=True``), which the hot paths do once per value.
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        connection = session.connection()
        self.dialect = connection.dialect.name
        raw = connection.connection.driver_connection
        assert raw is not None
        self.raw: Any = raw
        self._types: dict[str, dict[str, tuple[str, int]]] = {}
        if not self.is_postgres:
            cursor = self.raw.cursor()
            cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
            cursor.close()

    def dt(self, value: datetime | None) -> Any:
        """A datetime as this writer takes it (pre-encoding): SQLite text, else aware UTC."""
        if value is None:
            return None
        if self.is_postgres:
            return value if value.tzinfo is UTC else value.astimezone(UTC)
        return sqlite_datetime(value)

    def uuid(self, value: uuid.UUID | None) -> Any:
        if value is None:
            return None
        return value if self.is_postgres else value.hex

    def flag(self, value: bool) -> Any:
        if self.is_postgres:
            return value
        return 1 if value else 0

    @property
    def is_postgres(self) -> bool:
        return self.dialect == "postgresql"

    def encode_sqlite_rows(self, rows: Iterable[Row]) -> list[tuple[Any, ...]]:
        """Rows with datetimes/UUIDs/booleans converted for SQLite (str values pass through)."""
        return [tuple(_sqlite_value(v) for v in row) for row in rows]

    def insert(
        self,
        table: str,
        columns: Sequence[str],
        rows: Sequence[Row],
        *,
        conflict: Sequence[str] | None = None,
        encoded: bool = False,
    ) -> int:
        """Insert ``rows`` (in order); with ``conflict``, skip rows that clash on those columns.

        Returns how many rows were written.  ``encoded`` says the rows already hold
        database-ready values (SQLite only: a fast path for values read straight back;
        PostgreSQL takes Python values either way).
        """
        if not rows:
            return 0
        cols = ", ".join(columns)
        if self.is_postgres:
            return self._pg_insert(table, columns, rows, conflict)
        marks = ", ".join("?" * len(columns))
        sql = f"INSERT INTO {table} ({cols}) VALUES ({marks})"  # noqa: S608 - names are ours
        if conflict:
            sql += f" ON CONFLICT ({', '.join(conflict)}) DO NOTHING"
        data = rows if encoded else self.encode_sqlite_rows(rows)
        cursor = self.raw.cursor()
        try:
            cursor.executemany(sql, data)
            return int(cursor.rowcount)
        finally:
            cursor.close()

    def _column_types(self, table: str) -> dict[str, tuple[str, int]]:
        """``column → (type name, type oid)`` of a PostgreSQL table (once per writer)."""
        types = self._types.get(table)
        if types is None:
            rows = self.fetch(
                "SELECT a.attname, t.typname, a.atttypid FROM pg_attribute a "
                "JOIN pg_type t ON t.oid = a.atttypid "
                "WHERE a.attrelid = CAST(? AS regclass) AND a.attnum > 0 AND NOT a.attisdropped",
                (table,),
            )
            types = self._types[table] = {name: (typ, int(oid)) for name, typ, oid in rows}
        return types

    def _copy(
        self,
        cursor: Any,
        table: str,
        columns: Sequence[str],
        rows: Iterable[Row],
        types_of: str | None = None,
    ) -> None:
        """COPY ``rows`` into ``table``: binary when every column's type allows it.

        ``types_of`` names the table whose column types to use (a staging table's source).
        """
        cols = ", ".join(columns)
        known = self._column_types(types_of or table)
        types = [known.get(c, ("int8", 20)) for c in columns]
        binary = all(name in _BINARY_TYPES for name, _ in types)
        fmt = " (FORMAT BINARY)" if binary else ""
        with cursor.copy(f"COPY {table} ({cols}) FROM STDIN{fmt}") as copy:
            if binary:
                copy.set_types([oid for _, oid in types])
            write = copy.write_row
            for row in rows:
                write(row)

    def _pg_insert(
        self,
        table: str,
        columns: Sequence[str],
        rows: Sequence[Row],
        conflict: Sequence[str] | None,
    ) -> int:
        cursor = self.raw.cursor()
        try:
            if not conflict:
                self._copy(cursor, table, columns, rows)
                return len(rows)
            stage = f"_stage_{table}"
            cols = ", ".join(columns)
            cursor.execute(
                f"CREATE TEMP TABLE IF NOT EXISTS {stage} ON COMMIT DELETE ROWS AS "  # noqa: S608
                f"SELECT {cols}, 0::bigint AS _seq FROM {table} WITH NO DATA"
            )
            cursor.execute(f"TRUNCATE {stage}")
            self._copy(
                cursor,
                stage,
                [*columns, "_seq"],
                ((*row, i) for i, row in enumerate(rows)),
                types_of=table,
            )
            cursor.execute(
                f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {stage} ORDER BY _seq "  # noqa: S608
                f"ON CONFLICT ({', '.join(conflict)}) DO NOTHING"
            )
            return int(cursor.rowcount)
        finally:
            cursor.close()

    def fetch_nested_loop(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """A join that must probe an index per outer row (a few thousand rows against a
        million): PostgreSQL is told not to hash or merge the whole inner table."""
        if not self.is_postgres:
            return self.fetch(sql, params)
        cursor = self.raw.cursor()
        try:
            cursor.execute("SET LOCAL enable_hashjoin = off")
            cursor.execute("SET LOCAL enable_mergejoin = off")
            return self.fetch(sql, params)
        finally:
            cursor.execute("SET LOCAL enable_hashjoin = on")
            cursor.execute("SET LOCAL enable_mergejoin = on")
            cursor.close()

    def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a read with driver placeholders (``?`` on SQLite, ``%s`` on PostgreSQL)."""
        if self.is_postgres:
            sql = sql.replace("?", "%s")
        cursor = self.raw.cursor()
        try:
            cursor.execute(
                sql,
                tuple(_sqlite_value(p) for p in params) if not self.is_postgres else tuple(params),
            )
            if cursor.description is None:
                return []
            return [tuple(r) for r in cursor.fetchall()]
        finally:
            cursor.close()


__all__ = ["BulkWriter", "sqlite_datetime"]
