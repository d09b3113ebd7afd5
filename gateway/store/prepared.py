"""Hot statements compiled once per dialect and run straight on the driver's cursor.

SQLAlchemy's execute() bookkeeping (execution context, events, result metadata) costs 40-70 µs
a call here, three to five times what SQLite needs for an indexed statement, and the ingest's
hooks run several statements per event (bench/gateway_ingest). `Prepared` compiles a Core
statement once per dialect and runs it on the DBAPI connection of the SAME sa.Connection, so it
is part of that connection's transaction and savepoints like any other statement.

Parameters are converted as SQLAlchemy would (JSON, booleans); a statement whose result columns
need converting falls back to conn.execute(), so a result never differs. Where each caller's
value goes among the parameters is worked out once per dialect, so a call only fills slots
(SQLAlchemy's construct_params() was a third of a prepared statement's cost).

`NewRows` is the ingest's batch INSERT … ON CONFLICT DO NOTHING RETURNING in the same manner.
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect


class _Required:
    """Stands for a caller's value while the parameter layout is worked out."""

    def __init__(self, key: str) -> None:
        self.key = key


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
        self._layout(column_keys or [])

    def _layout(self, column_keys: list[str]) -> None:
        """Work out once where each caller's value goes, so a call only fills the slots.

        construct_params() is asked with a stand-in for every value a caller gives: what comes
        back as a stand-in is a slot, anything else (LIMIT 1, a literal) a constant."""
        binds = self.compiled.binds.values()
        keys = {b.key for b in binds if b.required} | set(column_keys)
        probe = self.compiled.construct_params({key: _Required(key) for key in keys})
        names = list(self.order) if self.order is not None else list(probe)
        template: list[Any] = []
        self.slots: list[tuple[int, str, Any]] = []  # (position, caller's key, conversion)
        for position, name in enumerate(names):
            value = probe[name]
            if isinstance(value, _Required):
                template.append(None)
                self.slots.append((position, value.key, self.convert.get(name)))
            else:
                process = self.convert.get(name)
                template.append(process(value) if process else value)
        self.names = names
        self.template = template

    def params(self, values: dict[str, Any]) -> Any:
        full = list(self.template)
        for position, key, process in self.slots:
            try:
                value = values[key]
            except KeyError:
                raise sa.exc.ArgumentError(f"a value is required for {key!r}") from None
            full[position] = process(value) if process is not None else value
        return tuple(full) if self.order is not None else dict(zip(self.names, full, strict=True))

    def reference_params(self, values: dict[str, Any]) -> Any:
        """The parameters as SQLAlchemy's own construct_params() gives them (for the tests)."""
        full = self.compiled.construct_params(values)
        for name, process in self.convert.items():
            if name in full:
                full[name] = process(full[name])
        return full if self.order is None else tuple(full[name] for name in self.order)


def run_on_cursor(conn: sa.Connection, sql: str, params: Any) -> Any:
    """Run SQL on the DBAPI connection of `conn` (its transaction); returns the open cursor.
    A driver error is raised as SQLAlchemy would raise it, so callers see one kind of error."""
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    dbapi_error = conn.dialect.loaded_dbapi.Error
    try:
        cursor.execute(sql, params)
    except dbapi_error as exc:
        cursor.close()
        raise sa.exc.DBAPIError.instance(sql, params, exc, dbapi_error) from exc
    return cursor


class Prepared:
    """A Core statement for the hot path: `first`/`one` for a SELECT, `run` for DML.

    `column_keys`: for an INSERT, the columns every call gives (the others take their defaults)."""

    ALL: list[Prepared] = []  # every one made, for the test that checks their parameters

    def __init__(
        self, statement: Any, column_keys: list[str] | None = None, dialect: str | None = None
    ) -> None:
        """`dialect`: the one store the statement is written for (an upsert), None for any."""
        self.statement = statement
        self.column_keys = column_keys
        self.dialect = dialect
        self._by_dialect: dict[str, _Compiled] = {}
        Prepared.ALL.append(self)

    def _compiled(self, conn: sa.Connection) -> _Compiled:
        found = self._by_dialect.get(conn.dialect.name)
        if found is None:
            found = self._by_dialect[conn.dialect.name] = _Compiled(
                self.statement, conn.dialect, self.column_keys
            )
        return found

    def _cursor(self, conn: sa.Connection, c: _Compiled, values: dict[str, Any]) -> Any:
        return run_on_cursor(conn, c.sql, c.params(values))

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


class InsertId(Prepared):
    """An INSERT of one row into a table with an integer primary key `id`; `insert` returns it.

    SQLite hands the new id over as the cursor's lastrowid; its RETURNING clause cost twice the
    rest of the insert (20 µs of 29 for a rating). Other stores are asked with RETURNING."""

    def __init__(self, table: sa.Table, column_keys: list[str]) -> None:
        super().__init__(table.insert(), column_keys)
        self.returning = Prepared(table.insert().returning(table.c.id), column_keys)

    def insert(self, conn: sa.Connection, values: dict[str, Any]) -> int:
        if conn.dialect.name != "sqlite":
            return int(self.returning.one(conn, values).id)
        c = self._compiled(conn)
        if not c.direct:
            key = conn.execute(self.statement, values).inserted_primary_key
            return int(key[0])  # type: ignore[index]
        cursor = self._cursor(conn, c, values)
        try:
            return int(cursor.lastrowid)
        finally:
            cursor.close()


class NewRows:
    """Insert rows unless their `keys` are taken (by a stored row or an earlier one of the same
    call); returns the keys of the rows inserted. One multi-row INSERT … ON CONFLICT DO NOTHING
    RETURNING per CHUNK rows, run on the driver's cursor.

    Rows are tuples in `columns` order, already as the driver takes them: a column named in
    `json_text` is given as JSON text (the payload as received, not parsed and encoded again)."""

    CHUNK = 500  # 500 rows × 10 columns stays far below SQLite's and PostgreSQL's parameter limits

    def __init__(
        self, table: sa.Table, keys: list[str], columns: list[str], json_text: tuple[str, ...] = ()
    ) -> None:
        self.table = table
        self.keys = keys
        self.columns = columns
        self.json_text = json_text
        self._sql: dict[tuple[str, int], str] = {}

    def sql(self, dialect: Dialect, rows: int) -> str:
        found = self._sql.get((dialect.name, rows))
        if found is None:
            quote = dialect.identifier_preparer.quote
            mark = "?" if dialect.paramstyle == "qmark" else "%s"
            # PostgreSQL takes JSON text for a json column only when told; SQLite stores the text.
            cast = dialect.name == "postgresql"
            marks = ", ".join(
                f"CAST({mark} AS JSON)" if cast and c in self.json_text else mark
                for c in self.columns
            )
            group = f"({marks})"
            found = self._sql[(dialect.name, rows)] = (
                f"INSERT INTO {quote(self.table.name)} "
                f"({', '.join(quote(c) for c in self.columns)}) "
                f"VALUES {', '.join([group] * rows)} "
                f"ON CONFLICT ({', '.join(quote(k) for k in self.keys)}) DO NOTHING "
                f"RETURNING {', '.join(quote(k) for k in self.keys)}"
            )
        return found

    def insert(self, conn: sa.Connection, rows: list[tuple]) -> list[tuple]:
        inserted: list[tuple] = []
        for start in range(0, len(rows), self.CHUNK):
            chunk = rows[start : start + self.CHUNK]
            params = [value for row in chunk for value in row]
            cursor = run_on_cursor(conn, self.sql(conn.dialect, len(chunk)), params)
            try:
                inserted.extend(tuple(found) for found in cursor.fetchall())
            finally:
                cursor.close()
        return inserted
