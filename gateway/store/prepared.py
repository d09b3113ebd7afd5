"""Hot statements compiled once per dialect and run straight on the driver's cursor.

SQLAlchemy's execute() bookkeeping (execution context, events, result metadata) costs 40-70 µs
a call here, three to five times what SQLite needs for an indexed statement, and the ingest's
hooks run several statements per event (bench/gateway_ingest). `Prepared` compiles a Core
statement once per dialect and runs it on the DBAPI connection of the SAME sa.Connection, so it
is part of that connection's transaction and savepoints like any other statement.

Parameters are converted as SQLAlchemy would (JSON, booleans); a statement whose result columns
need converting falls back to conn.execute(), so a result never differs.
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect


class _Compiled:
    def __init__(self, statement: Any, dialect: Dialect, column_keys: list[str] | None) -> None:
        compiled = statement.compile(dialect=dialect, column_keys=column_keys)
        self.compiled = compiled
        self.sql = str(compiled)
        self.order = compiled.positiontup if compiled.positional else None
        columns = list(statement.exported_columns)  # a SELECT's, or an INSERT's RETURNING
        self.row = namedtuple("Row", [c.key for c in columns]) if columns else None  # type: ignore[misc]
        # Parameter conversions (JSON to text, booleans on SQLite …), applied as SQLAlchemy would.
        self.convert = {
            name: process
            for name, bind in compiled.binds.items()
            if (process := bind.type.dialect_impl(dialect).bind_processor(dialect)) is not None
        }
        self.direct = not any(
            c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns
        )

    def params(self, values: dict[str, Any]) -> Any:
        full = self.compiled.construct_params(values)
        for name, process in self.convert.items():
            full[name] = process(full[name])
        return full if self.order is None else tuple(full[name] for name in self.order)


class Prepared:
    """A Core statement for the hot path: `first`/`one` for a SELECT, `run` for DML.

    `column_keys`: for an INSERT, the columns every call gives (the others take their defaults)."""

    def __init__(self, statement: Any, column_keys: list[str] | None = None) -> None:
        self.statement = statement
        self.column_keys = column_keys
        self._by_dialect: dict[str, _Compiled] = {}

    def _compiled(self, conn: sa.Connection) -> _Compiled:
        found = self._by_dialect.get(conn.dialect.name)
        if found is None:
            found = self._by_dialect[conn.dialect.name] = _Compiled(
                self.statement, conn.dialect, self.column_keys
            )
        return found

    def _cursor(self, conn: sa.Connection, c: _Compiled, values: dict[str, Any]) -> Any:
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        params = c.params(values)
        dbapi_error = conn.dialect.loaded_dbapi.Error
        try:
            cursor.execute(c.sql, params)
        except dbapi_error as exc:  # raised as SQLAlchemy would, so callers see one kind
            cursor.close()
            raise sa.exc.DBAPIError.instance(c.sql, params, exc, dbapi_error) from exc
        return cursor

    def first(self, conn: sa.Connection, values: dict[str, Any]) -> Any:
        """The first row (attributes named as the statement's columns), or None."""
        c = self._compiled(conn)
        if not c.direct or c.row is None:
            return conn.execute(self.statement, values).first()
        cursor = self._cursor(conn, c, values)
        try:
            found = cursor.fetchone()
        finally:
            cursor.close()
        return None if found is None else c.row._make(found)  # type: ignore[attr-defined]

    def one(self, conn: sa.Connection, values: dict[str, Any]) -> Any:
        row = self.first(conn, values)
        if row is None:
            raise sa.exc.NoResultFound("Prepared.one(): no row")
        return row

    def run(self, conn: sa.Connection, values: dict[str, Any]) -> int:
        """Run an INSERT/UPDATE/DELETE; returns the rows it changed."""
        c = self._compiled(conn)
        if not c.direct:
            return int(conn.execute(self.statement, values).rowcount)
        cursor = self._cursor(conn, c, values)
        try:
            return int(cursor.rowcount)
        finally:
            cursor.close()
