"""Statements whose spelling differs between SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from gateway.store.prepared import Prepared


def _insert(conn: sa.Connection, table: sa.Table) -> Any:
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    if conn.dialect.name == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"no upsert for {conn.dialect.name}")


_INSERT_NEW: dict[tuple[str, str, tuple[str, ...]], Any] = {}


def insert_new(conn: sa.Connection, table: sa.Table, keys: list[str], **values: Any) -> bool:
    """Insert a row unless one with the same `keys` exists; True when it was inserted."""
    # Built once and run with parameters: on the ingest's hot path, building is the cost.
    key = (conn.dialect.name, table.name, tuple(keys))
    if key not in _INSERT_NEW:
        stmt = _insert(conn, table).on_conflict_do_nothing(index_elements=keys)
        # RETURNING, not rowcount: psycopg reports -1 for an INSERT … ON CONFLICT here.
        _INSERT_NEW[key] = stmt.returning(table.c[keys[0]])
    return conn.execute(_INSERT_NEW[key], values).first() is not None


def _upsert_statement(
    conn: sa.Connection, table: sa.Table, keys: list[str], columns: list[str], add: tuple[str, ...]
) -> Any:
    stmt = _insert(conn, table)
    changed = {
        name: table.c[name] + stmt.excluded[name] if name in add else stmt.excluded[name]
        for name in columns
        if name not in keys
    }
    return stmt.on_conflict_do_update(index_elements=keys, set_=changed)


class Upsert:
    """upsert() for the ingest's hot path: built once per store and run as a Prepared statement.
    Every call gives the same `columns`."""

    def __init__(
        self, table: sa.Table, keys: list[str], columns: list[str], add: tuple[str, ...] = ()
    ) -> None:
        self.table, self.keys, self.columns, self.add = table, keys, columns, add
        self._by_dialect: dict[str, Prepared] = {}

    def run(self, conn: sa.Connection, values: dict[str, Any]) -> None:
        found = self._by_dialect.get(conn.dialect.name)
        if found is None:
            stmt = _upsert_statement(conn, self.table, self.keys, self.columns, self.add)
            found = Prepared(stmt, self.columns, dialect=conn.dialect.name)
            self._by_dialect[conn.dialect.name] = found
        found.run(conn, values)


_UPSERT: dict[tuple, Any] = {}


def upsert(
    conn: sa.Connection,
    table: sa.Table,
    keys: list[str],
    values: dict[str, Any],
    add: tuple[str, ...] = (),
) -> None:
    """Insert `values`, or update the row with the same keys: columns in `add` are increased by
    the new value, the other non-key columns replaced."""
    key = (conn.dialect.name, table.name, tuple(keys), tuple(sorted(values)), add)
    if key not in _UPSERT:
        _UPSERT[key] = _upsert_statement(conn, table, keys, list(values), add)
    conn.execute(_UPSERT[key], values)
