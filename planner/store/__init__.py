"""Storage: the only package that speaks SQL. This module is its engine; one module per aggregate beside it.

One DuckDB file (``data/backplan.duckdb`` by default, ``BACKPLAN_DB`` to move
it), or a PostgreSQL database that several app servers and the command line
share (``BACKPLAN_DB=postgresql://user@host/dbname``; see
:mod:`planner.store.dialect`, which lets the same store code run on both). The
schema is built by the numbered migrations in :mod:`planner.store.migrations`
and recorded in ``schema_migrations``. Every query is parameterised; every
write runs in one transaction on its own cursor, so a failed write leaves
nothing behind. The aggregates' functions are re-exported here, so callers
write ``from planner import store; store.save_plan(...)``.

>>> import tempfile, pathlib
>>> con = connect(pathlib.Path(tempfile.mkdtemp()) / "doc.duckdb")
>>> schema_version(con) == LATEST_VERSION
True
>>> from planner.access import SYSTEM
>>> rep = add_rep(con, SYSTEM, "Ana Lima", team="Mid-Market")
>>> [r.name for r in list_reps(con)]
['Ana Lima']
"""

from __future__ import annotations

import functools
import os
import random
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import ParamSpec, TypeVar

import duckdb

from planner.milestones import WeekActual
from planner.store.dialect import GENERATION_SEQUENCE, PgConnection, PgCursor, is_server_url
from planner.store.migrations import LATEST_VERSION, MIGRATIONS

__all__ = [
    "LATEST_VERSION",
    "MIGRATIONS",
    "RATES_REFUSED",
    "REVENUE_FIELD",
    "ROLES",
    "WON_FIELD",
    "AccountDeals",
    "AccountsImport",
    "ActualCell",
    "Connection",
    "CopyReport",
    "CrmAccount",
    "ForecastSources",
    "OpenDeal",
    "PlanSummary",
    "ProfileSummary",
    "RecordedWeek",
    "Refused",
    "RemovedDemo",
    "Rep",
    "RepHoldings",
    "SavedPlan",
    "SnapshotSummary",
    "StalePlan",
    "StaleWeeks",
    "StaleWrite",
    "StoreError",
    "StoredRate",
    "Target",
    "WeekActual",
    "account_deals",
    "add_account",
    "add_accounts",
    "add_action",
    "add_goal",
    "add_objective",
    "add_rep",
    "add_review",
    "backup",
    "connect",
    "copy_database",
    "crm_accounts",
    "data_generation",
    "default_path",
    "default_target",
    "delete_account",
    "delete_action",
    "delete_goal",
    "delete_objective",
    "delete_plan",
    "delete_profile",
    "delete_rate",
    "demo_loaded",
    "describe",
    "duplicate_plan",
    "end_sign_in",
    "forecast_sources",
    "get_account_plan",
    "get_actuals",
    "get_cycle",
    "get_milestones",
    "get_plan",
    "get_profile",
    "get_recorded_weeks",
    "get_sign_in",
    "get_snapshot",
    "is_empty",
    "is_server_url",
    "latest_snapshot_date",
    "list_account_plans",
    "list_accounts",
    "list_cycle_steps",
    "list_plans",
    "list_profiles",
    "list_projections",
    "list_rates",
    "list_reps",
    "list_snapshots",
    "list_teams",
    "load_team",
    "migrate",
    "note_sign_in",
    "owner_plan",
    "plan_differences",
    "profile_month_shares",
    "purge_deleted_plans",
    "remove_demo",
    "remove_rep",
    "rep_holdings",
    "restore",
    "retry_conflicts",
    "review_inputs",
    "save_actual_cells",
    "save_actuals",
    "save_cycle",
    "save_plan",
    "save_profile",
    "save_projections",
    "save_snapshot",
    "schema_version",
    "set_action_status",
    "set_rate",
    "slip_counts",
    "snapshot_deals",
    "stage_history",
    "take_backup",
    "team_plans",
    "transaction",
    "update_account",
    "update_action",
    "update_objective",
    "update_rep",
]


class StoreError(RuntimeError):
    """A write the database refused, in words the page can show as they are."""


class StaleWrite(StoreError):
    """A write made from an older copy than the database holds: refused, never applied over newer data.

    Subclasses carry what the database holds now, so the page can show it.
    """


class Refused(StoreError):
    """A write the viewer may not make: what it touches is not theirs, as the database has it inside the write."""


#: Anything the store can be opened on: a DuckDB file's path, or a ``postgresql://`` URL.
Target = str | Path

#: A connection the store works through: DuckDB's own, or PostgreSQL's behind the same interface.
Connection = duckdb.DuckDBPyConnection | PgConnection


def default_target() -> Target:
    """``BACKPLAN_DB`` if set (a file path, or a ``postgresql://`` URL), else ``data/backplan.duckdb``."""
    configured = os.environ.get("BACKPLAN_DB")
    if configured and is_server_url(configured.strip()):
        return configured.strip()
    return default_path()


def default_path() -> Path:
    """The DuckDB file: ``BACKPLAN_DB`` if it is a path, else ``data/backplan.duckdb`` beside the app."""
    configured = os.environ.get("BACKPLAN_DB")
    if configured and not is_server_url(configured.strip()):
        return Path(configured).expanduser()
    return Path(__file__).resolve().parents[2] / "data" / "backplan.duckdb"


def describe(target: Target) -> str:
    """``target`` as a message may show it: a URL without its password."""
    if not is_server_url(target):
        return str(target)
    return re.sub(r"//([^:/@]+):[^@/]*@", r"//\1:***@", str(target))


def connect(path: Target | None = None, *, read_only: bool = False) -> Connection:
    """Open (creating if need be) the database at ``path`` and bring its schema up to date.

    ``path`` is a DuckDB file or a ``postgresql://`` URL (default: :func:`default_target`).
    ``read_only`` opens an existing database without changing it, for reports; it
    must already be at this Backplan's schema.
    """
    target = path if path is not None else default_target()
    if is_server_url(target):
        return _connect_server(str(target), read_only=read_only)
    target = Path(target)
    if read_only:
        if not target.exists():
            raise StoreError(f"There is no database at {target} yet — start the app once, or set BACKPLAN_DB.")
        con = _open(target, read_only=True)
        if schema_version(con) != LATEST_VERSION:
            con.close()
            raise StoreError(f"The database at {target} needs upgrading — open it in the app once first.")
        return con
    target.parent.mkdir(parents=True, exist_ok=True)
    con = _open(target, read_only=False)
    migrate(con)
    return con


def _connect_server(url: str, *, read_only: bool) -> PgConnection:
    """A pool of connections to the PostgreSQL database at ``url``, its schema brought up to date.

    Several processes may start at once: they take turns to migrate (an advisory lock), and the
    one that comes second finds nothing left to do.
    """
    try:
        con = PgConnection(url, read_only=read_only)
    except duckdb.Error as error:
        raise StoreError(f"Backplan cannot reach the database at {describe(url)}: {error}") from None
    try:
        if read_only:
            if schema_version(con) != LATEST_VERSION:
                raise StoreError(f"The database at {describe(url)} needs upgrading — start the app on it once first.")
            return con
        with con.migration_lock():
            con.ensure_generation()
            migrate(con)
        return con
    except BaseException:
        con.close()
        raise


_LOCK_HOLDER = re.compile(r"Conflicting lock is held in (?P<program>.+?) \(PID (?P<pid>\d+)\)")


def _open(target: Path, *, read_only: bool) -> duckdb.DuckDBPyConnection:
    """``duckdb.connect``, with the file lock another process holds told in one line a user can act on.

    DuckDB lets one process at a time open a file for writing and then no
    other process may open it at all, not even to read.
    """
    try:
        return duckdb.connect(str(target), read_only=read_only)
    except duckdb.IOException as error:
        if "Could not set lock" not in str(error):
            raise
        held = _LOCK_HOLDER.search(str(error))
        who = f"process {held['pid']} ({Path(held['program']).name})" if held else "another process"
        raise StoreError(
            f"The database {target} is in use by {who} — most likely the Backplan app, which keeps it open. "
            "Use the app, or stop it and run this again."
        ) from None


@contextmanager
def transaction(con: Connection, *, changes_data: bool = True) -> Iterator[duckdb.DuckDBPyConnection]:
    """A cursor inside one transaction: committed on success, rolled back on any error.

    Two sessions writing the same rows at once make DuckDB refuse one of the
    transactions; the public writes below are wrapped in :func:`retry_conflicts`,
    which runs the refused one again. ``changes_data=False`` is for writes no
    cached read shows (sign-in records), which then leave :func:`data_generation` as it is.
    """
    cur = con.cursor()
    cur.execute("BEGIN TRANSACTION")
    try:
        yield cur
    except BaseException:
        # DuckDB may already have ended the failed transaction; the original error is the one to see.
        with suppress(duckdb.Error):
            cur.execute("ROLLBACK")
        raise
    else:
        cur.execute("COMMIT")
        if changes_data:
            _bump_generation(cur)
    finally:
        cur.close()


_generation = 0


_generation_lock = threading.Lock()


def _bump_generation(cur: duckdb.DuckDBPyConnection) -> None:
    """After a commit: this process's count, and on PostgreSQL the database's (other processes read that one).

    Advanced after the commit, never before: a reader that sees the new number
    then reads the new data; one that read the old number re-reads at the next.
    """
    global _generation
    with _generation_lock:
        _generation += 1
    if isinstance(cur, PgCursor):
        cur.execute(f"SELECT nextval('{GENERATION_SEQUENCE}')")


def data_generation(con: Connection | None = None) -> int:
    """A number that changes after every committed write that a cached read may show.

    DuckDB lets one process write the file, so this process's count of its own
    commits is exact. On PostgreSQL (``con`` given) other processes write too:
    the number is the database's own, one cheap query, advanced by every
    process's commits.
    """
    if isinstance(con, PgConnection):
        return con.generation()
    return _generation


_P = ParamSpec("_P")


_R = TypeVar("_R")


#: A write refused for a conflict runs again up to this many times in all, after a short random pause.
CONFLICT_ATTEMPTS = 12


_CONFLICT_PAUSE_S = (0.002, 0.25)  # first pause at most, longest pause


#: Held while a refused write runs again; reentrant, for a retried write that calls another.
_RETRY_TURNS = threading.RLock()


def _is_conflict(error: duckdb.Error) -> bool:
    """True when ``error`` says another transaction got in the way, not that the write itself is wrong."""
    text = str(error)
    if isinstance(error, duckdb.TransactionException):
        return "onflict" in text or "Failed to commit" in text
    # An upsert racing another session's uncommitted insert of the same key (ON CONFLICT cannot see it yet).
    return isinstance(error, duckdb.ConstraintException) and "Duplicate key" in text


def retry_conflicts(write: Callable[_P, _R]) -> Callable[_P, _R]:
    """Run ``write`` again when DuckDB refuses its transaction because a concurrent one changed the same rows.

    DuckDB's transactions are optimistic: of two sessions updating one row at
    once, the later one fails with "Conflict on update" (or, for two inserts of
    one key, at commit). The failed transaction left nothing behind, so it is
    simply run again, after a random pause that doubles each time, and the
    user never sees the conflict. The runs again take turns (one lock per
    process), so writers that collided once do not keep colliding with each
    other. The last writer wins per row; every other write still lands. Any
    other error is raised at once.
    """

    @functools.wraps(write)
    def retried(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return write(*args, **kwargs)
        except (duckdb.TransactionException, duckdb.ConstraintException) as error:
            if not _is_conflict(error):
                raise
        first, longest = _CONFLICT_PAUSE_S
        with _RETRY_TURNS:
            for attempt in range(2, CONFLICT_ATTEMPTS + 1):
                time.sleep(random.uniform(0, min(longest, first * 2**attempt)))
                try:
                    return write(*args, **kwargs)
                except (duckdb.TransactionException, duckdb.ConstraintException) as error:
                    if attempt == CONFLICT_ATTEMPTS or not _is_conflict(error):
                        raise
        raise AssertionError("unreachable")  # the loop returns or raises

    return retried


def schema_version(con: Connection) -> int:
    """The highest migration applied to this database (0 for a new file)."""
    cur = con.cursor()
    try:
        exists = cur.execute(
            "SELECT count(*) FROM information_schema.tables"
            " WHERE table_name = 'schema_migrations' AND table_schema = current_schema()"
        ).fetchone()
        if not exists or not exists[0]:
            return 0
        row = cur.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()
        return int(row[0]) if row else 0
    finally:
        cur.close()


def migrate(con: Connection, upto: int = LATEST_VERSION) -> list[int]:
    """Apply every migration above the file's version, up to ``upto``; each in its own transaction.

    Returns the versions applied.  A database newer than this code is refused
    rather than guessed at.
    """
    current = schema_version(con)
    if current > LATEST_VERSION:
        raise StoreError(
            f"This database is at schema version {current}, newer than this Backplan ({LATEST_VERSION}). "
            "Upgrade Backplan to open it."
        )
    applied = []
    for version, description, step in MIGRATIONS:
        if current < version <= upto:
            with transaction(con) as cur:
                cur.execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations ("
                    " version INTEGER PRIMARY KEY, description VARCHAR NOT NULL,"
                    " applied_at TIMESTAMP NOT NULL DEFAULT current_timestamp)"
                )
                if isinstance(step, str):
                    cur.execute(step)
                else:
                    step(cur)
                cur.execute(
                    "INSERT INTO schema_migrations (version, description) VALUES (?, ?)", [version, description]
                )
            applied.append(version)
    if applied and isinstance(con, PgConnection):
        con.forget_schema()
    return applied


def _query(con: Connection, sql: str, params: Sequence[object] = ()) -> list[tuple]:
    cur = con.cursor()
    try:
        return cur.execute(sql, list(params)).fetchall()
    finally:
        cur.close()


# The aggregates, below the engine they are built on (they import it from here).
from planner.store.accounts import (  # noqa: E402
    AccountDeals,
    AccountsImport,
    CrmAccount,
    OpenDeal,
    account_deals,
    add_account,
    add_accounts,
    add_action,
    add_goal,
    add_objective,
    add_review,
    crm_accounts,
    delete_account,
    delete_action,
    delete_goal,
    delete_objective,
    get_account_plan,
    get_cycle,
    list_account_plans,
    list_accounts,
    list_cycle_steps,
    owner_plan,
    save_cycle,
    set_action_status,
    update_account,
    update_action,
    update_objective,
)
from planner.store.actuals import (  # noqa: E402
    REVENUE_FIELD,
    WON_FIELD,
    ActualCell,
    RecordedWeek,
    StaleWeeks,
    get_actuals,
    get_recorded_weeks,
    save_actual_cells,
    save_actuals,
)
from planner.store.backups import backup, restore, take_backup  # noqa: E402
from planner.store.copy import CopyReport, copy_database  # noqa: E402
from planner.store.people import ROLES, Rep, add_rep, is_empty, list_reps, list_teams, update_rep  # noqa: E402
from planner.store.plans import (  # noqa: E402
    PlanSummary,
    SavedPlan,
    StalePlan,
    delete_plan,
    duplicate_plan,
    get_milestones,
    get_plan,
    list_plans,
    plan_differences,
    purge_deleted_plans,
    review_inputs,
    save_plan,
    team_plans,
)
from planner.store.profiles import (  # noqa: E402
    ProfileSummary,
    delete_profile,
    get_profile,
    list_profiles,
    profile_month_shares,
    save_profile,
)
from planner.store.projections import (  # noqa: E402
    ForecastSources,
    forecast_sources,
    list_projections,
    save_projections,
)
from planner.store.rates import RATES_REFUSED, StoredRate, delete_rate, list_rates, set_rate  # noqa: E402
from planner.store.roster import (  # noqa: E402
    RemovedDemo,
    RepHoldings,
    demo_loaded,
    load_team,
    remove_demo,
    remove_rep,
    rep_holdings,
)
from planner.store.sign_ins import end_sign_in, get_sign_in, note_sign_in  # noqa: E402
from planner.store.snapshots import (  # noqa: E402
    SnapshotSummary,
    get_snapshot,
    latest_snapshot_date,
    list_snapshots,
    save_snapshot,
    slip_counts,
    snapshot_deals,
    stage_history,
)
