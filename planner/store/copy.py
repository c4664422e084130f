"""Copying a whole database between DuckDB and PostgreSQL (either way), checked row by row afterwards.

``backplan copy-db --from data/backplan.duckdb --to postgresql://…`` moves a
team's data onto a server; backups of a PostgreSQL database go through it
too (into a DuckDB file, then DuckDB's folder format, see
:mod:`planner.store.backups`). The source is read in one snapshot; the target
is written in one transaction (every table, parents before the tables whose
foreign keys point at them, and every sequence carried over), so a copy lands
whole or not at all. Then each table is read back from both and compared: the
same number of rows, and the same rows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from math import isnan

import duckdb

from planner.store import (
    LATEST_VERSION,
    Connection,
    StoreError,
    Target,
    connect,
    describe,
    retry_conflicts,
    schema_version,
    transaction,
)
from planner.store.dialect import GENERATION_SEQUENCE, PgConnection, PgCursor

__all__ = ["CopyReport", "copy_database", "copy_into", "table_rows"]


@dataclass(frozen=True, slots=True)
class CopyReport:
    """What a copy moved: each table's rows (all checked), and the sequences carried over."""

    tables: dict[str, int]
    sequences: dict[str, int]

    @property
    def rows(self) -> int:
        return sum(self.tables.values())


def _tables(con: Connection) -> list[str]:
    """The schema's tables, each after every table its foreign keys point at; ``schema_migrations`` left out."""
    if isinstance(con, PgConnection):
        names = con.execute(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
        ).fetchall()
        links = con.execute(
            "SELECT c.conrelid::regclass::text, c.confrelid::regclass::text FROM pg_constraint c"
            " JOIN pg_namespace n ON n.oid = c.connamespace WHERE c.contype = 'f' AND n.nspname = current_schema()"
        ).fetchall()
    else:
        names = con.execute(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
        ).fetchall()
        links = con.execute(
            "SELECT table_name, referenced_table FROM duckdb_constraints()"
            " WHERE constraint_type = 'FOREIGN KEY' AND schema_name = current_schema()"
        ).fetchall()
    parents: dict[str, set[str]] = {name: set() for (name,) in names if name != "schema_migrations"}
    for child, parent in links:
        if child in parents and parent != child:
            parents[child].add(parent)
    ordered: list[str] = []
    while parents:
        ready = sorted(t for t, needs in parents.items() if not needs - set(ordered))
        if not ready:  # a cycle of foreign keys: none in this schema, and none is ever to be added
            raise StoreError(f"The tables {sorted(parents)} refer to each other in a circle; they cannot be copied.")
        ordered.extend(ready)
        for table in ready:
            del parents[table]
    return ordered


def _columns(con: Connection, table: str) -> list[str]:
    rows = con.execute(
        "SELECT column_name FROM information_schema.columns"
        " WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position",
        [table],
    ).fetchall()
    return [name for (name,) in rows]


def _sequences(cur: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Each sequence's last value handed out (0 when none was), but the data generation's (not data)."""
    if not isinstance(cur, PgCursor):
        rows = cur.execute(
            "SELECT sequence_name, coalesce(last_value, start_value - 1) FROM duckdb_sequences()"
            " WHERE schema_name = current_schema()"
        ).fetchall()
        return {name: int(value) for name, value in rows}
    names = cur.execute(
        "SELECT sequence_name FROM information_schema.sequences WHERE sequence_schema = current_schema()"
    ).fetchall()
    values = {}
    for (name,) in names:
        if name == GENERATION_SEQUENCE:
            continue
        handed_out = "CASE WHEN is_called THEN last_value ELSE last_value - 1 END"
        row = cur.execute(f'SELECT {handed_out} FROM "{name}"').fetchone()
        values[name] = int(row[0]) if row else 0
    return values


def _plain(value: object) -> object:
    """A value as both engines give it back, so a row read from each compares equal when it holds the same."""
    if isinstance(value, float) and isnan(value):
        return None
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None)
    if isinstance(value, date | datetime | str | int | float | bool) or value is None:
        return value
    return str(value)


def table_rows(cur: duckdb.DuckDBPyConnection, table: str, columns: list[str]) -> Counter[tuple]:
    """Every row of ``table`` (these columns), counted: what a copy is checked by."""
    quoted = ", ".join(f'"{c}"' for c in columns)
    rows = cur.execute(f'SELECT {quoted} FROM "{table}"').fetchall()
    return Counter(tuple(_plain(v) for v in row) for row in rows)


@contextmanager
def _snapshot(con: Connection) -> Iterator[duckdb.DuckDBPyConnection]:
    """A cursor reading the whole database as of one moment, while other sessions go on writing."""
    cur = con.cursor()
    try:
        if isinstance(con, PgConnection):
            cur.execute("BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        else:
            cur.execute("BEGIN TRANSACTION")
        yield cur
        cur.execute("COMMIT")
    finally:
        cur.close()


def _is_empty(con: Connection, tables: list[str]) -> bool:
    return all(con.execute(f'SELECT count(*) FROM "{t}"').fetchone() == (0,) for t in tables)


@retry_conflicts
def _write(
    target: Connection, tables: list[str], columns: dict[str, list[str]], data: dict, sequences: dict[str, int]
) -> None:
    with transaction(target) as cur:
        for table in reversed(tables):  # children first: a replaced target's rows go before their parents'
            cur.execute(f'DELETE FROM "{table}"')
        for table in tables:
            frame = data[table]
            if frame.empty:
                continue
            quoted = ", ".join(f'"{c}"' for c in columns[table])
            cur.register("copied_rows", frame)
            try:
                cur.execute(f'INSERT INTO "{table}" ({quoted}) SELECT {quoted} FROM copied_rows')
            finally:
                cur.unregister("copied_rows")
        for name, value in sequences.items():
            if value > 0:
                cur.execute("SELECT setval(?, ?)", [name, value])


def copy_into(source: Connection, target: Connection, *, replace: bool = False) -> CopyReport:
    """Copy every table of ``source`` into ``target`` (both at this Backplan's schema), then check every row.

    ``target`` must hold no rows unless ``replace``, which removes them in the
    same transaction. Raises :class:`StoreError` when the copy would overwrite,
    or when any table reads back differently.
    """
    for con, which in ((source, "source"), (target, "target")):
        if schema_version(con) != LATEST_VERSION:
            raise StoreError(f"The {which} database is not at this Backplan's schema — open it in the app once first.")
    tables = _tables(target)
    if _tables(source) != tables:
        raise StoreError("The two databases do not have the same tables; they cannot be copied one into the other.")
    if replace and not isinstance(target, PgConnection) and not _is_empty(target, tables):
        # DuckDB fails a transaction that deletes rows and then the rows their foreign keys point at.
        raise StoreError("A DuckDB file cannot be replaced in place — copy into a new file instead.")
    if not replace and not _is_empty(target, tables):
        raise StoreError(
            "The target database already holds data — copy into an empty one, or pass --replace to overwrite it."
        )
    columns = {t: _columns(target, t) for t in tables}
    with _snapshot(source) as cur:
        data = {t: cur.execute(f"SELECT {', '.join(chr(34) + c + chr(34) for c in columns[t])} FROM \"{t}\"").df()
                for t in tables}  # fmt: skip
        expected = {t: table_rows(cur, t, columns[t]) for t in tables}
        sequences = _sequences(cur)
    _write(target, tables, columns, data, sequences)
    with _snapshot(target) as cur:
        for table in tables:
            found = table_rows(cur, table, columns[table])
            if found != expected[table]:
                missing = expected[table] - found
                row = next(iter(missing or (found - expected[table])))
                raise StoreError(
                    f"The copy of {table} does not match: {sum(found.values())} rows of "
                    f"{sum(expected[table].values())}, and the row {row!r} differs. The target was left as copied."
                )
    return CopyReport({t: sum(expected[t].values()) for t in tables}, sequences)


def copy_database(source: Target, target: Target, *, replace: bool = False) -> CopyReport:
    """Copy the database at ``source`` into the one at ``target`` (a path or a ``postgresql://`` URL each).

    The source must exist at this Backplan's schema and is only read; the
    target is created or migrated as needed. See :func:`copy_into`.
    """
    if str(source) == str(target):
        raise StoreError("The source and the target are the same database.")
    src = connect(source, read_only=True)
    try:
        dst = connect(target)
        try:
            return copy_into(src, dst, replace=replace)
        except StoreError as error:
            raise StoreError(f"{describe(target)}: {error}") from None
        finally:
            dst.close()
    finally:
        src.close()
