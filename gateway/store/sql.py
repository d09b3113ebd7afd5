"""Statements whose spelling differs between SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite


def _insert(conn: sa.Connection, table: sa.Table) -> Any:
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    if conn.dialect.name == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"no upsert for {conn.dialect.name}")


def insert_new(conn: sa.Connection, table: sa.Table, keys: list[str], **values: Any) -> bool:
    """Insert a row unless one with the same `keys` exists; True when it was inserted."""
    stmt = _insert(conn, table).values(**values).on_conflict_do_nothing(index_elements=keys)
    # RETURNING, not rowcount: psycopg reports -1 for an INSERT … ON CONFLICT here.
    return conn.execute(stmt.returning(table.c[keys[0]])).first() is not None


def upsert(
    conn: sa.Connection, table: sa.Table, keys: list[str], values: dict[str, Any], update: dict
) -> None:
    """Insert `values`, or apply `update` (column -> expression) to the row with the same keys."""
    stmt = _insert(conn, table).values(**values)
    conn.execute(stmt.on_conflict_do_update(index_elements=keys, set_=update))
