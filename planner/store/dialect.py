"""PostgreSQL behind the interface the store already speaks: DuckDB's connection, cursor and errors.

The store's modules are written once, against DuckDB's Python API:
``con.cursor()``, ``cur.execute(sql, params)`` with ``?`` placeholders,
``fetchone`` / ``fetchall`` / ``df``, ``register`` of a DataFrame, and
DuckDB's exception classes. :class:`PgConnection` gives them the same on
PostgreSQL (psycopg 3 and its connection pool), and the few places where the
two SQL dialects differ are translated here, once:

- ``?`` placeholders become psycopg's ``%s`` (and a literal ``%`` becomes
  ``%%``), outside string literals, quoted names and comments; values are
  bound on the client, as DuckDB binds them, so ``? IS NULL`` works with None;
- ``DOUBLE`` becomes ``DOUBLE PRECISION``; ``list_contains(list, x)`` becomes
  ``x = ANY(list)``; renaming a table renames its primary key's index too, so
  a migration that rebuilds a table under its old name works on both;
- ``cur.register(name, frame)`` becomes a temporary table filled by ``COPY``
  when a statement first names it, its columns typed as the target table's;
- psycopg's errors are raised as the DuckDB errors the store already handles
  (a serialization failure, deadlock or lock timeout as a conflict to run
  again, a unique violation as a duplicate key), the original as the cause.

Each cursor borrows its own connection from the pool until it is closed: a
DuckDB cursor is a connection of its own, with its own transaction. With
PostgreSQL's default READ COMMITTED, a write that first updates the row it
depends on (``UPDATE plans SET writes = writes + 1 ...``, the statement that
makes DuckDB see a conflict) waits there for the other writer and then reads
what it committed: the same statement is a row lock on PostgreSQL.

>>> translate("SELECT 1 FROM t WHERE a = ? AND b LIKE '50%?' -- why?", True)
"SELECT 1 FROM t WHERE a = %s AND b LIKE '50%%?' -- why?"
>>> translate("SELECT x FROM t WHERE list_contains(?::DATE[], t.week)", True)
'SELECT x FROM t WHERE (t.week = ANY(%s::DATE[]))'
>>> translate("CREATE TABLE t (v DOUBLE NOT NULL)", False)
'CREATE TABLE t (v DOUBLE PRECISION NOT NULL)'
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any

import duckdb
import pandas as pd

__all__ = ["PgConnection", "PgCursor", "is_server_url", "translate"]

#: What a ``BACKPLAN_DB`` naming a PostgreSQL database starts with.
URL_SCHEMES = ("postgresql://", "postgres://")

#: Connections one app process keeps open at most; two servers and the command line fit PostgreSQL's default 100.
POOL_SIZE = 20

#: The sequence every committed write advances, so every process sees when its cached reads are stale.
GENERATION_SEQUENCE = "backplan_data_generation"

#: A row lock waited for longer than this is given up as a conflict, and the write is run again.
_SESSION_SETTINGS = (
    "SET lock_timeout = '10s'",
    # A process stopped mid-transaction (SIGSTOP, a debugger) must not hold its row locks for ever.
    "SET idle_in_transaction_session_timeout = '60s'",
)

#: One key for the lock two processes starting at once take before migrating (pg_advisory_lock).
_MIGRATION_LOCK = 0x6261636B706C616E  # "backplan"


def is_server_url(target: object) -> bool:
    """True when ``target`` names a PostgreSQL database rather than a DuckDB file."""
    return isinstance(target, str) and target.startswith(URL_SCHEMES)


# --------------------------------------------------------------------------- SQL text

_DOUBLE = re.compile(r"\bDOUBLE\b(?!\s+PRECISION)", re.IGNORECASE)
_LIST_CONTAINS = re.compile(r"\blist_contains\(\s*([^,()]+?)\s*,\s*([^,()]+?)\s*\)", re.IGNORECASE)
_RENAME_TABLE = re.compile(r"ALTER\s+TABLE\s+(\w+)\s+RENAME\s+TO\s+(\w+)\s*;", re.IGNORECASE)


def _placeholders(sql: str) -> str:
    """``?`` → ``%s`` and ``%`` → ``%%``, leaving string literals, quoted names and comments as they are
    (but for ``%``, which psycopg reads everywhere)."""
    out: list[str] = []
    i, n = 0, len(sql)
    while i < n:
        c = sql[i]
        if c in "'\"":
            end = i + 1
            while end < n:
                if sql[end] == c:
                    if end + 1 < n and sql[end + 1] == c:  # '' inside a literal
                        end += 2
                        continue
                    break
                end += 1
            out.append(sql[i : end + 1].replace("%", "%%"))
            i = end + 1
        elif sql.startswith("--", i):
            end = sql.find("\n", i)
            end = n if end < 0 else end
            out.append(sql[i:end].replace("%", "%%"))
            i = end
        elif c == "?":
            out.append("%s")
            i += 1
        elif c == "%":
            out.append("%%")
            i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


@functools.lru_cache(maxsize=2048)
def translate(sql: str, has_params: bool) -> str:
    """The store's DuckDB SQL as PostgreSQL takes it (``has_params``: values will be bound into ``?``)."""
    sql = _DOUBLE.sub("DOUBLE PRECISION", sql)
    sql = _LIST_CONTAINS.sub(r"(\2 = ANY(\1))", sql)
    sql = _RENAME_TABLE.sub(r"ALTER TABLE \1 RENAME TO \2; ALTER INDEX IF EXISTS \1_pkey RENAME TO \2_pkey;", sql)
    return _placeholders(sql) if has_params else sql


# --------------------------------------------------------------------------- errors


def _as_duckdb_error(error: Exception) -> duckdb.Error:
    """``error`` (psycopg's) as the DuckDB error the store and the pages already handle."""
    import psycopg
    from psycopg import errors

    text = str(error).strip()
    if isinstance(error, errors.SerializationFailure | errors.DeadlockDetected | errors.LockNotAvailable):
        return duckdb.TransactionException(f"Conflict with a concurrent transaction (PostgreSQL): {text}")
    if isinstance(error, errors.UniqueViolation):
        return duckdb.ConstraintException(f"Duplicate key (PostgreSQL): {text}")
    if isinstance(error, errors.ForeignKeyViolation):
        return duckdb.ConstraintException(f"Violates foreign key constraint (PostgreSQL): {text}")
    if isinstance(error, psycopg.IntegrityError):
        return duckdb.ConstraintException(f"Constraint Error (PostgreSQL): {text}")
    if isinstance(error, errors.InFailedSqlTransaction | errors.ActiveSqlTransaction | errors.NoActiveSqlTransaction):
        return duckdb.TransactionException(text)
    if isinstance(error, psycopg.DataError):
        return duckdb.ConversionException(text)
    if isinstance(error, errors.UndefinedTable | errors.UndefinedColumn | errors.UndefinedObject):
        return duckdb.CatalogException(text)
    if isinstance(error, psycopg.ProgrammingError):
        return duckdb.ProgrammingError(text)
    if isinstance(error, psycopg.OperationalError):
        return duckdb.ConnectionException(f"PostgreSQL: {text}")
    return duckdb.Error(f"PostgreSQL: {text}")


@contextmanager
def _duckdb_errors() -> Iterator[None]:
    import psycopg

    try:
        yield
    except psycopg.Error as error:
        raise _as_duckdb_error(error) from error


# --------------------------------------------------------------------------- results


_PANDAS_TYPES = {
    1082: "datetime64[us]",  # date, as DuckDB's .df() gives it
    1114: "datetime64[us]",  # timestamp
    701: "float64",
    700: "float64",
    1700: "float64",
    21: "Int16",
    23: "Int32",
    20: "Int64",
    16: "boolean",
}


def _frame(description: Sequence[Any] | None, rows: list[tuple]) -> pd.DataFrame:
    """Rows as a DataFrame with the column types DuckDB's ``.df()`` gives."""
    columns = [d.name for d in description or ()]
    frame = pd.DataFrame(rows, columns=columns)
    for d in description or ():
        wanted = _PANDAS_TYPES.get(d.type_code)
        if wanted is not None:
            frame[d.name] = frame[d.name].astype(wanted)
    return frame


class _Rows:
    """A statement's whole result, fetched already: what ``PgConnection.execute`` returns."""

    def __init__(self, description: Sequence[Any] | None, rows: list[tuple]) -> None:
        self.description = description
        self._rows = rows

    def fetchone(self) -> tuple | None:
        return self._rows.pop(0) if self._rows else None

    def fetchall(self) -> list[tuple]:
        rows, self._rows = self._rows, []
        return rows

    def df(self) -> pd.DataFrame:
        return _frame(self.description, self.fetchall())


# --------------------------------------------------------------------------- frames as tables

_INSERT_TARGET = re.compile(r"\bINSERT\s+INTO\s+(\w+)", re.IGNORECASE)


def _column_type(values: pd.Series) -> str:
    """The PostgreSQL type for a column of ``values`` with no target column to take it from."""
    if pd.api.types.is_bool_dtype(values):
        return "BOOLEAN"
    if pd.api.types.is_integer_dtype(values):
        return "BIGINT"
    if pd.api.types.is_float_dtype(values):
        return "DOUBLE PRECISION"
    if pd.api.types.is_datetime64_any_dtype(values):
        return "TIMESTAMP"
    kind = pd.api.types.infer_dtype(values, skipna=True)
    return {"date": "DATE", "datetime": "TIMESTAMP", "integer": "BIGINT", "floating": "DOUBLE PRECISION"}.get(
        kind, "TEXT"
    )


def _copy_values(values: pd.Series, pg_type: str) -> list[object]:
    """A column as COPY writes it: None for what pandas calls missing, plain Python values else."""
    plain = values.astype(object).where(values.notna(), None).tolist()
    if pg_type.lower() == "date":
        return [v.date() if isinstance(v, pd.Timestamp) else v for v in plain]
    return [v.to_pydatetime() if isinstance(v, pd.Timestamp) else v for v in plain]


# --------------------------------------------------------------------------- cursor and connection


class PgCursor:
    """A DuckDB-shaped cursor on one pooled PostgreSQL connection, borrowed until :meth:`close`."""

    def __init__(self, owner: PgConnection) -> None:
        self._owner = owner
        self._conn: Any = None
        self._cur: Any = None
        self._frames: dict[str, pd.DataFrame] = {}
        self._tables: set[str] = set()

    # The connection is taken at the first statement, not at cursor(): many cursors are opened and closed unused.
    def _cursor(self) -> Any:
        if self._cur is None:
            if self._owner.closed:
                raise duckdb.ConnectionException("Connection already closed!")
            with _duckdb_errors():
                self._conn = self._owner.pool.getconn()
            self._cur = self._conn.cursor()
        return self._cur

    @property
    def description(self) -> Sequence[Any] | None:
        return self._cur.description if self._cur is not None else None

    def execute(self, sql: str, params: Sequence[object] | None = None) -> PgCursor:
        cur = self._cursor()
        if self._frames:
            self._materialise(sql)
        with _duckdb_errors():
            cur.execute(translate(sql, params is not None), list(params) if params is not None else None)
        return self

    def executemany(self, sql: str, rows: Iterable[Sequence[object]]) -> PgCursor:
        cur = self._cursor()
        with _duckdb_errors():
            cur.executemany(translate(sql, True), [list(row) for row in rows])
        return self

    def fetchone(self) -> tuple | None:
        with _duckdb_errors():
            return self._cur.fetchone() if self._cur is not None and self._cur.description else None

    def fetchall(self) -> list[tuple]:
        with _duckdb_errors():
            return self._cur.fetchall() if self._cur is not None and self._cur.description else []

    def df(self) -> pd.DataFrame:
        return _frame(self.description, self.fetchall())

    def register(self, name: str, frame: pd.DataFrame) -> PgCursor:
        """As DuckDB's: ``frame`` becomes readable as table ``name`` (made when a statement names it)."""
        self._frames[name] = frame
        return self

    def unregister(self, name: str) -> PgCursor:
        self._frames.pop(name, None)
        if name in self._tables:
            self._tables.discard(name)
            # A failed transaction takes the table with it, and must keep its own error.
            if self._conn is not None and self._conn.info.transaction_status in (0, 2):  # idle, or in a transaction
                with _duckdb_errors():
                    self._cur.execute(f'DROP TABLE IF EXISTS "{name}"')
        return self

    def _materialise(self, sql: str) -> None:
        """Make each registered frame that ``sql`` names a temporary table, typed as the columns it goes into."""
        for name, frame in self._frames.items():
            if name in self._tables or not re.search(rf"\b{re.escape(name)}\b", sql):
                continue
            target = _INSERT_TARGET.search(sql)
            types = self._owner.column_types(self._cur, target.group(1)) if target else {}
            columns = {str(c): types.get(str(c)) or _column_type(frame[c]) for c in frame.columns}
            in_transaction = self._conn.info.transaction_status != 0
            with _duckdb_errors():
                self._cur.execute(
                    f'CREATE TEMP TABLE "{name}" ('
                    + ", ".join(f'"{c}" {t}' for c, t in columns.items())
                    + (") ON COMMIT DROP" if in_transaction else ")")
                )
                values = [_copy_values(frame[c], columns[str(c)]) for c in frame.columns]
                quoted = ", ".join(f'"{c}"' for c in columns)
                with self._cur.copy(f'COPY "{name}" ({quoted}) FROM STDIN') as copy:
                    for row in zip(*values, strict=True):
                        copy.write_row(row)
            self._tables.add(name)

    def close(self) -> None:
        """Give the connection back to the pool (which rolls back a transaction left open)."""
        conn, self._conn = self._conn, None
        if self._cur is not None:
            self._cur.close()
            self._cur = None
        if conn is not None and not self._owner.closed:
            self._owner.pool.putconn(conn)

    def __enter__(self) -> PgCursor:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def __del__(self) -> None:  # a cursor dropped unclosed still gives its connection back
        with suppress(Exception):  # the interpreter may be shutting down: nothing to tell anyone
            self.close()


class PgConnection:
    """A DuckDB-shaped connection to one PostgreSQL database: a pool of connections, a cursor borrowing one each.

    ``read_only`` makes every transaction read only (the command line's reports).
    """

    dialect = "postgresql"

    def __init__(self, url: str, *, read_only: bool = False, max_size: int = POOL_SIZE) -> None:
        import psycopg
        from psycopg_pool import ConnectionPool

        self.url = url
        self.read_only = read_only
        self.closed = False
        self._types: dict[str, dict[str, str]] = {}
        self._types_lock = threading.Lock()
        settings = (*_SESSION_SETTINGS, *(("SET default_transaction_read_only = on",) if read_only else ()))

        def configure(conn: psycopg.Connection) -> None:
            for statement in settings:
                conn.execute(statement)

        with _duckdb_errors():
            # One plain connection first: a server that is not there is said at once, not after the pool's retries.
            psycopg.connect(url, connect_timeout=10).close()
            self.pool = ConnectionPool(
                url,
                min_size=1,
                max_size=max_size,
                kwargs={"autocommit": True, "cursor_factory": psycopg.ClientCursor, "connect_timeout": 10},
                configure=configure,
                open=False,
                timeout=30,
                name="backplan",
            )
            self.pool.open(wait=True, timeout=15)

    def cursor(self) -> PgCursor:
        return PgCursor(self)

    def execute(self, sql: str, params: Sequence[object] | None = None) -> _Rows:
        """Run one statement on a connection of its own and return its whole result (as DuckDB's ``con.execute``)."""
        cur = self.cursor()
        try:
            cur.execute(sql, params)
            return _Rows(cur.description, cur.fetchall())
        finally:
            cur.close()

    def column_types(self, cur: Any, table: str) -> dict[str, str]:
        """``table``'s columns and their types, remembered: the schema changes only by migrations, at start."""
        with self._types_lock:
            if table not in self._types:
                rows = cur.execute(
                    "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute"
                    " WHERE attrelid = to_regclass(%s) AND attnum > 0 AND NOT attisdropped",
                    [table],
                ).fetchall()
                self._types[table] = dict(rows)
            return self._types[table]

    def forget_schema(self) -> None:
        """Forget the remembered column types (after a migration changed tables)."""
        with self._types_lock:
            self._types.clear()

    @contextmanager
    def migration_lock(self) -> Iterator[None]:
        """Held while migrating: two servers starting at once must not both apply the same migration."""
        with _duckdb_errors(), self.pool.connection() as conn:
            conn.execute("SELECT pg_advisory_lock(%s)", [_MIGRATION_LOCK])
            try:
                yield
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", [_MIGRATION_LOCK])

    def generation(self) -> int:
        """The database's data generation: advanced by every committed write, from any process."""
        row = self.execute(f"SELECT last_value + CASE WHEN is_called THEN 0 ELSE -1 END FROM {GENERATION_SEQUENCE}")
        found = row.fetchone()
        return int(found[0]) if found else 0

    def ensure_generation(self) -> None:
        """Create the generation's sequence if this database has none yet (it is not part of the schema's data)."""
        with _duckdb_errors(), self.pool.connection() as conn:
            conn.execute(f"CREATE SEQUENCE IF NOT EXISTS {GENERATION_SEQUENCE}")

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.pool.close()

    def __enter__(self) -> PgConnection:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
