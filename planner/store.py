"""Storage: the only module that speaks SQL.

One DuckDB file (``data/backplan.duckdb`` by default, ``BACKPLAN_DB`` to move
it), its schema built by numbered migrations recorded in ``schema_migrations``.
Every query is parameterised; every write runs in one transaction on its own
cursor, so a failed write leaves nothing behind.

>>> import tempfile, pathlib
>>> con = connect(pathlib.Path(tempfile.mkdtemp()) / "doc.duckdb")
>>> schema_version(con) == LATEST_VERSION
True
>>> rep = add_rep(con, "Ana Lima", team="Mid-Market")
>>> [r.name for r in list_reps(con)]
['Ana Lima']
"""

from __future__ import annotations

import functools
import json
import os
import random
import re
import threading
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import ParamSpec, TypeVar

import duckdb
import numpy as np
import pandas as pd

from planner.accounts import (
    ACTION_STATUSES,
    CYCLE_STEPS,
    GOAL_CATEGORIES,
    RISK_TOLERANCES,
    Account,
    AccountPlan,
    Action,
    CycleStep,
    Goal,
    Objective,
    Review,
)
from planner.demo import DemoTeam
from planner.funnel import PlanInputs, Stage
from planner.milestones import Milestone, WeekActual, build_milestones
from planner.team import ReviewInput

__all__ = [
    "LATEST_VERSION",
    "MIGRATIONS",
    "AccountDeals",
    "CrmAccount",
    "DealTables",
    "OpenDeal",
    "PlanSummary",
    "ProfileSummary",
    "Rep",
    "SavedPlan",
    "SnapshotSummary",
    "StoreError",
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
    "crm_accounts",
    "data_generation",
    "deal_tables",
    "default_path",
    "delete_account",
    "delete_action",
    "delete_goal",
    "delete_objective",
    "delete_plan",
    "delete_profile",
    "duplicate_plan",
    "get_account_plan",
    "get_actuals",
    "get_cycle",
    "get_milestones",
    "get_plan",
    "get_profile",
    "get_snapshot",
    "is_empty",
    "latest_snapshot_date",
    "list_account_plans",
    "list_accounts",
    "list_cycle_steps",
    "list_plans",
    "list_profiles",
    "list_reps",
    "list_snapshots",
    "list_teams",
    "load_team",
    "migrate",
    "owner_plan",
    "profile_month_shares",
    "restore",
    "retry_conflicts",
    "review_inputs",
    "save_actuals",
    "save_cycle",
    "save_plan",
    "save_profile",
    "save_snapshot",
    "schema_version",
    "set_action_status",
    "slip_counts",
    "team_plans",
    "transaction",
    "update_account",
    "update_action",
    "update_objective",
    "update_rep",
]

ROLES = ("rep", "manager", "ops")

#: (version, what it does, SQL). Append only: a released migration never changes.
#: No FOREIGN KEY clauses: DuckDB refuses ALTER TABLE on a table others reference,
#: which would block every later migration; the writes below keep children and
#: parents together in one transaction instead.
MIGRATIONS: tuple[tuple[int, str, str], ...] = (
    (
        1,
        "reps, plans, milestones and weekly actuals",
        """
        CREATE SEQUENCE reps_id START 1;
        CREATE TABLE reps (
            id INTEGER PRIMARY KEY DEFAULT nextval('reps_id'),
            name VARCHAR NOT NULL UNIQUE,
            team VARCHAR NOT NULL DEFAULT '',
            role VARCHAR NOT NULL DEFAULT 'rep' CHECK (role IN ('rep', 'manager', 'ops'))
        );
        CREATE SEQUENCE plans_id START 1;
        CREATE TABLE plans (
            id INTEGER PRIMARY KEY DEFAULT nextval('plans_id'),
            rep_id INTEGER NOT NULL,
            name VARCHAR NOT NULL,
            target DOUBLE NOT NULL,
            currency VARCHAR NOT NULL DEFAULT 'USD',
            period_start DATE NOT NULL,
            period_end DATE NOT NULL,
            avg_deal_size DOUBLE NOT NULL,
            coverage_ratio DOUBLE NOT NULL DEFAULT 3,
            milestone_shape VARCHAR NOT NULL DEFAULT 'linear',
            funnel VARCHAR NOT NULL,            -- JSON: [{"name", "ratio", "lag_days"}], top down
            won_stage VARCHAR NOT NULL,
            holiday_weeks VARCHAR NOT NULL DEFAULT '[]',  -- JSON: ISO dates
            profile_id INTEGER,
            created_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
            updated_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
            UNIQUE (rep_id, name)
        );
        CREATE TABLE milestones (
            plan_id INTEGER NOT NULL,
            due_date DATE NOT NULL,
            cumulative_target DOUBLE NOT NULL,
            PRIMARY KEY (plan_id, due_date)
        );
        CREATE TABLE actuals (
            plan_id INTEGER NOT NULL,
            week_start DATE NOT NULL,
            revenue DOUBLE NOT NULL DEFAULT 0,
            deals_won INTEGER NOT NULL DEFAULT 0,
            stage_counts VARCHAR NOT NULL DEFAULT '{}',  -- JSON: {"stage name": count}
            updated_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
            PRIMARY KEY (plan_id, week_start)
        );
        """,
    ),
    (
        2,
        "milestone cadence and custom checkpoints on plans",
        """
        ALTER TABLE plans ADD COLUMN cadence VARCHAR NOT NULL DEFAULT 'auto';
        ALTER TABLE plans ADD COLUMN milestone_custom VARCHAR NOT NULL DEFAULT '[]';  -- JSON: amounts, k to go
        """,
    ),
    (
        3,
        "calibration profiles, their deals, and pipeline snapshots",
        """
        CREATE SEQUENCE profiles_id START 1;
        CREATE TABLE profiles (
            id INTEGER PRIMARY KEY DEFAULT nextval('profiles_id'),
            name VARCHAR NOT NULL UNIQUE,
            source_file VARCHAR NOT NULL,
            result VARCHAR NOT NULL,            -- JSON: the calibration result (planner.calibrate)
            rows_read INTEGER NOT NULL,
            rows_used INTEGER NOT NULL,
            rows_bad INTEGER NOT NULL,
            created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
        );
        CREATE TABLE deals (
            profile_id INTEGER NOT NULL,
            deal_id VARCHAR NOT NULL,
            owner VARCHAR NOT NULL DEFAULT '',
            account VARCHAR NOT NULL DEFAULT '',
            stage VARCHAR NOT NULL DEFAULT '',
            outcome VARCHAR NOT NULL CHECK (outcome IN ('won', 'lost', 'open')),
            amount DOUBLE,
            created DATE,
            closed DATE,
            PRIMARY KEY (profile_id, deal_id)
        );
        CREATE TABLE pipeline_snapshots (
            snapshot_date DATE NOT NULL,
            team VARCHAR NOT NULL DEFAULT '',
            deal_id VARCHAR NOT NULL,
            owner VARCHAR NOT NULL DEFAULT '',
            account VARCHAR NOT NULL DEFAULT '',
            stage VARCHAR NOT NULL DEFAULT '',
            amount DOUBLE,
            close_date DATE,
            PRIMARY KEY (snapshot_date, team, deal_id)
        );
        """,
    ),
    (
        4,
        "account plans: accounts, goals, objectives, actions, planning-cycle steps, reviews",
        """
        CREATE SEQUENCE accounts_id START 1;
        CREATE TABLE accounts (
            id INTEGER PRIMARY KEY DEFAULT nextval('accounts_id'),
            name VARCHAR NOT NULL,              -- unique ignoring case, checked by the writes
            owner VARCHAR NOT NULL DEFAULT '',
            segment VARCHAR NOT NULL DEFAULT '',
            period_start DATE NOT NULL,
            period_end DATE NOT NULL,
            aims VARCHAR NOT NULL DEFAULT '',   -- what the customer is trying to accomplish
            priorities VARCHAR NOT NULL DEFAULT '[]',  -- JSON: ranked, most important first
            timeframes VARCHAR NOT NULL DEFAULT '',
            risk_tolerance VARCHAR NOT NULL DEFAULT 'medium' CHECK (risk_tolerance IN ('low', 'medium', 'high')),
            notes VARCHAR NOT NULL DEFAULT '',
            created_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
            updated_at TIMESTAMP NOT NULL DEFAULT current_timestamp
        );
        CREATE SEQUENCE goals_id START 1;
        CREATE TABLE goals (
            id INTEGER PRIMARY KEY DEFAULT nextval('goals_id'),
            account_id INTEGER NOT NULL,
            category VARCHAR NOT NULL
                CHECK (category IN ('relationship management', 'roadmap to revenue', 'customer success')),
            title VARCHAR NOT NULL
        );
        CREATE SEQUENCE objectives_id START 1;
        CREATE TABLE objectives (
            id INTEGER PRIMARY KEY DEFAULT nextval('objectives_id'),
            goal_id INTEGER NOT NULL,
            statement VARCHAR NOT NULL,
            metric VARCHAR NOT NULL DEFAULT '',
            target_value DOUBLE,
            current_value DOUBLE,
            rationale VARCHAR NOT NULL DEFAULT '',
            due_date DATE,
            is_revenue BOOLEAN NOT NULL DEFAULT false
        );
        CREATE SEQUENCE actions_id START 1;
        CREATE TABLE actions (
            id INTEGER PRIMARY KEY DEFAULT nextval('actions_id'),
            account_id INTEGER NOT NULL,
            description VARCHAR NOT NULL,
            objective_id INTEGER,               -- NULL: an action that serves no objective
            owner VARCHAR NOT NULL DEFAULT '',
            due_date DATE,
            status VARCHAR NOT NULL DEFAULT 'to do' CHECK (status IN ('to do', 'in progress', 'done'))
        );
        CREATE TABLE cycle_steps (
            account_id INTEGER NOT NULL,
            fiscal_year INTEGER NOT NULL,
            step INTEGER NOT NULL CHECK (step BETWEEN 1 AND 5),
            owner VARCHAR NOT NULL DEFAULT '',
            due_date DATE NOT NULL,
            done_date DATE,
            PRIMARY KEY (account_id, fiscal_year, step)
        );
        CREATE SEQUENCE reviews_id START 1;
        CREATE TABLE reviews (
            id INTEGER PRIMARY KEY DEFAULT nextval('reviews_id'),
            account_id INTEGER NOT NULL,
            reviewed_on DATE NOT NULL,
            reviewer VARCHAR NOT NULL,
            what_changed VARCHAR NOT NULL DEFAULT '',
            notes VARCHAR NOT NULL DEFAULT '',
            created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
        );
        """,
    ),
    (
        5,
        "won / lost / open on pipeline snapshots, so a week-over-week diff sees wins and losses",
        """
        ALTER TABLE pipeline_snapshots ADD COLUMN outcome VARCHAR NOT NULL DEFAULT 'open';
        """,
    ),
    (
        6,
        "each rep's sign-in email, so a signed-in person is matched to their rep, team and role",
        """
        ALTER TABLE reps ADD COLUMN email VARCHAR NOT NULL DEFAULT '';  -- lower case; unique when set
        """,
    ),
)
LATEST_VERSION = MIGRATIONS[-1][0]


class StoreError(RuntimeError):
    """A write the database refused, in words the page can show as they are."""


@dataclass(frozen=True, slots=True)
class Rep:
    id: int
    name: str
    team: str
    role: str
    email: str = ""


@dataclass(frozen=True, slots=True)
class SavedPlan:
    """Everything on the Plan page, as saved."""

    id: int
    rep_id: int
    name: str
    inputs: PlanInputs
    currency: str = "USD"
    milestone_shape: str = "linear"
    cadence: str = "auto"
    milestone_custom: tuple[float, ...] = ()
    profile_id: int | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class PlanSummary:
    """One line of the open-plan list."""

    id: int
    name: str
    rep_id: int
    rep_name: str
    target: float
    currency: str
    period_start: date
    period_end: date
    updated_at: datetime


# --------------------------------------------------------------------------- connection


def default_path() -> Path:
    """``BACKPLAN_DB`` if set, else ``data/backplan.duckdb`` beside the app."""
    configured = os.environ.get("BACKPLAN_DB")
    if configured:
        return Path(configured).expanduser()
    return Path(__file__).resolve().parent.parent / "data" / "backplan.duckdb"


def connect(path: str | Path | None = None, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open (creating if need be) the database at ``path`` and bring its schema up to date.

    ``read_only`` opens an existing file without changing it, for reports; it
    must already be at this Backplan's schema.
    """
    target = Path(path) if path is not None else default_path()
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
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """A cursor inside one transaction: committed on success, rolled back on any error.

    Two sessions writing the same rows at once make DuckDB refuse one of the
    transactions; the public writes below are wrapped in :func:`retry_conflicts`,
    which runs the refused one again.
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
        _bump_generation()
    finally:
        cur.close()


_generation = 0
_generation_lock = threading.Lock()


def _bump_generation() -> None:
    global _generation
    with _generation_lock:
        _generation += 1


def data_generation() -> int:
    """A number that changes after every committed write through this module, in this process.

    DuckDB lets one process write the file, so while the app holds it this is
    an exact signal for when a cached read may be stale.
    """
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


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    """The highest migration applied to this database (0 for a new file)."""
    cur = con.cursor()
    try:
        exists = cur.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_migrations'"
        ).fetchone()
        if not exists or not exists[0]:
            return 0
        row = cur.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()
        return int(row[0]) if row else 0
    finally:
        cur.close()


def migrate(con: duckdb.DuckDBPyConnection, upto: int = LATEST_VERSION) -> list[int]:
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
    for version, description, sql in MIGRATIONS:
        if current < version <= upto:
            with transaction(con) as cur:
                cur.execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations ("
                    " version INTEGER PRIMARY KEY, description VARCHAR NOT NULL,"
                    " applied_at TIMESTAMP NOT NULL DEFAULT current_timestamp)"
                )
                cur.execute(sql)
                cur.execute(
                    "INSERT INTO schema_migrations (version, description) VALUES (?, ?)", [version, description]
                )
            applied.append(version)
    return applied


def _query(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[object] = ()) -> list[tuple]:
    cur = con.cursor()
    try:
        return cur.execute(sql, list(params)).fetchall()
    finally:
        cur.close()


# --------------------------------------------------------------------------- reps


def _insert_rep(cur: duckdb.DuckDBPyConnection, name: str, team: str, role: str, email: str = "") -> int:
    email = _check_email(cur, email)
    row = cur.execute(
        "INSERT INTO reps (name, team, role, email) VALUES (?, ?, ?, ?) RETURNING id", [name, team, role, email]
    ).fetchone()
    assert row is not None
    return int(row[0])


def _check_email(cur: duckdb.DuckDBPyConnection, email: str, rep_id: int | None = None) -> str:
    """``email`` normalised (trimmed, lower case), or StoreError naming why it cannot be this rep's."""
    email = email.strip().lower()
    if not email:
        return ""
    if email.count("@") != 1 or email.startswith("@") or email.endswith("@") or any(c.isspace() for c in email):
        raise StoreError(f"“{email}” is not an email address — it should look like name@company.com.")
    taken = cur.execute("SELECT name FROM reps WHERE email = ? AND id IS DISTINCT FROM ?", [email, rep_id]).fetchone()
    if taken:
        raise StoreError(f"{email} is already {taken[0]}'s sign-in — one email can belong to one person only.")
    return email


@retry_conflicts
def add_rep(con: duckdb.DuckDBPyConnection, name: str, team: str = "", role: str = "rep", email: str = "") -> int:
    """Add a rep and return their id."""
    name = name.strip()
    if not name:
        raise StoreError("A rep needs a name.")
    if role not in ROLES:
        raise StoreError(f"Role must be one of {', '.join(ROLES)}.")
    try:
        with transaction(con) as cur:
            return _insert_rep(cur, name, team.strip(), role, email)
    except duckdb.ConstraintException:
        raise StoreError(f"There is already a rep called “{name}”.") from None


@retry_conflicts
def update_rep(con: duckdb.DuckDBPyConnection, rep_id: int, team: str, role: str, email: str | None = None) -> None:
    """Move a rep to a team, give them a role (rep, manager or ops) and, unless None, a sign-in email."""
    if role not in ROLES:
        raise StoreError(f"Role must be one of {', '.join(ROLES)}.")
    with transaction(con) as cur:
        if email is not None:
            email = _check_email(cur, email, rep_id)
        updated = cur.execute(
            "UPDATE reps SET team = ?, role = ?, email = coalesce(?, email) WHERE id = ? RETURNING id",
            [team.strip(), role, email, rep_id],
        ).fetchall()
        if not updated:
            raise StoreError(f"Rep {rep_id} no longer exists.")


def list_reps(con: duckdb.DuckDBPyConnection) -> list[Rep]:
    """Every rep, by team then name."""
    return [Rep(*row) for row in _query(con, "SELECT id, name, team, role, email FROM reps ORDER BY team, name")]


def is_empty(con: duckdb.DuckDBPyConnection) -> bool:
    """True before anyone has added a rep or a plan."""
    row = _query(con, "SELECT (SELECT count(*) FROM reps) + (SELECT count(*) FROM plans)")
    return row[0][0] == 0


# --------------------------------------------------------------------------- plans


def _funnel_json(inputs: PlanInputs) -> str:
    return json.dumps([{"name": s.name, "ratio": s.ratio, "lag_days": s.lag_days} for s in inputs.stages])


def _plan_milestones(
    inputs: PlanInputs, shape: str, cadence: str, custom: Sequence[float], shares: Sequence[float] | None = None
) -> list[Milestone]:
    return build_milestones(
        inputs.target,
        inputs.period_start,
        inputs.period_end,
        cadence,
        shape,
        shares=shares,
        custom_to_go=list(custom) or None,
        holiday_weeks=inputs.holiday_weeks,
    )


def _profile_shares(cur: duckdb.DuckDBPyConnection, profile_id: int | None) -> list[float]:
    row = cur.execute("SELECT result FROM profiles WHERE id = ?", [profile_id]).fetchone() if profile_id else None
    shares = json.loads(row[0]).get("seasonality") if row else None
    if not shares:
        raise StoreError(
            "The historical milestone shape follows a calibration profile's seasonality: "
            "apply a profile with won deals first, or pick another shape."
        )
    return [float(v) for v in shares]


def _write_plan(
    cur: duckdb.DuckDBPyConnection,
    rep_id: int,
    name: str,
    inputs: PlanInputs,
    currency: str,
    shape: str,
    cadence: str,
    custom: Sequence[float],
    plan_id: int | None,
    profile_id: int | None = None,
) -> int:
    shares = _profile_shares(cur, profile_id) if shape == "historical" else None
    values = [
        rep_id,
        name,
        inputs.target,
        currency,
        inputs.period_start,
        inputs.period_end,
        inputs.deal_size,
        inputs.coverage_ratio,
        shape,
        _funnel_json(inputs),
        inputs.won_stage,
        json.dumps([d.isoformat() for d in inputs.holiday_weeks]),
        cadence,
        json.dumps(list(custom)),
        profile_id,
    ]
    if plan_id is None:
        row = cur.execute(
            "INSERT INTO plans (rep_id, name, target, currency, period_start, period_end, avg_deal_size,"
            " coverage_ratio, milestone_shape, funnel, won_stage, holiday_weeks, cadence, milestone_custom,"
            " profile_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            values,
        ).fetchone()
        assert row is not None
        plan_id = int(row[0])
    else:
        updated = cur.execute(
            "UPDATE plans SET rep_id = ?, name = ?, target = ?, currency = ?, period_start = ?, period_end = ?,"
            " avg_deal_size = ?, coverage_ratio = ?, milestone_shape = ?, funnel = ?, won_stage = ?,"
            " holiday_weeks = ?, cadence = ?, milestone_custom = ?, profile_id = ?, updated_at = now()"
            " WHERE id = ? RETURNING id",
            [*values, plan_id],
        ).fetchall()
        if not updated:
            raise StoreError(f"Plan {plan_id} no longer exists — it may have been deleted.")
        cur.execute("DELETE FROM milestones WHERE plan_id = ?", [plan_id])
    steps = _plan_milestones(inputs, shape, cadence, custom, shares)
    cur.executemany(
        "INSERT INTO milestones (plan_id, due_date, cumulative_target) VALUES (?, ?, ?)",
        [[plan_id, m.due, m.cumulative] for m in steps],
    )
    return plan_id


@retry_conflicts
def save_plan(
    con: duckdb.DuckDBPyConnection,
    rep: int | str,
    name: str,
    inputs: PlanInputs,
    *,
    currency: str = "USD",
    milestone_shape: str = "linear",
    cadence: str = "auto",
    milestone_custom: Sequence[float] = (),
    plan_id: int | None = None,
    profile_id: int | None = None,
    new_rep_team: str = "",
) -> int:
    """Insert a plan (or replace plan ``plan_id``) and its milestones in one transaction; return its id.

    ``rep`` is a rep's id, or the name of a new rep to add in the same
    transaction (to ``new_rep_team``).  Raises :class:`planner.milestones.MilestoneError` for
    milestones that do not hold and :class:`StoreError` for a name in use.
    """
    name = name.strip()
    if not name:
        raise StoreError("Give the plan a name, such as “Q1 2027”.")
    if isinstance(rep, str) and not rep.strip():
        raise StoreError("Pick a rep, or type the name of a new one.")
    try:
        with transaction(con) as cur:
            if isinstance(rep, str):
                new_rep = rep.strip()
                if cur.execute("SELECT 1 FROM reps WHERE name = ?", [new_rep]).fetchone():
                    raise StoreError(f"There is already a rep called “{new_rep}” — pick them from the list.")
                rep = _insert_rep(cur, new_rep, new_rep_team.strip(), "rep")
            return _write_plan(
                cur, rep, name, inputs, currency, milestone_shape, cadence, milestone_custom, plan_id, profile_id
            )
    except duckdb.ConstraintException as error:
        # (rep_id, name) is the only unique key left for a caller to hit.
        raise StoreError(f"This rep already has a plan called “{name}” — pick another name.") from error


def _plan_from_row(row: tuple) -> SavedPlan:
    (plan_id, rep_id, name, target, currency, start, end, deal_size, coverage, shape, funnel, won_stage,
     holidays, profile_id, created, updated, cadence, custom) = row  # fmt: skip
    stages = tuple(Stage(s["name"], float(s["ratio"]), int(s["lag_days"])) for s in json.loads(funnel))
    inputs = PlanInputs(
        target=float(target),
        deal_size=float(deal_size),
        period_start=start,
        period_end=end,
        stages=stages,
        won_stage=won_stage,
        holiday_weeks=tuple(date.fromisoformat(d) for d in json.loads(holidays)),
        coverage_ratio=float(coverage),
    )
    return SavedPlan(
        id=plan_id,
        rep_id=rep_id,
        name=name,
        inputs=inputs,
        currency=currency,
        milestone_shape=shape,
        cadence=cadence,
        milestone_custom=tuple(float(v) for v in json.loads(custom)),
        profile_id=profile_id,
        created_at=created,
        updated_at=updated,
    )


_PLAN_COLUMNS = (
    "id, rep_id, name, target, currency, period_start, period_end, avg_deal_size, coverage_ratio,"
    " milestone_shape, funnel, won_stage, holiday_weeks, profile_id, created_at, updated_at, cadence,"
    " milestone_custom"
)


def get_plan(con: duckdb.DuckDBPyConnection, plan_id: int) -> SavedPlan | None:
    """The saved plan ``plan_id``, or None if there is none."""
    rows = _query(con, f"SELECT {_PLAN_COLUMNS} FROM plans WHERE id = ?", [plan_id])
    return _plan_from_row(rows[0]) if rows else None


def list_plans(
    con: duckdb.DuckDBPyConnection, rep_id: int | None = None, *, rep_ids: Collection[int] | None = None
) -> list[PlanSummary]:
    """Saved plans, newest period first; one rep's if ``rep_id`` is given, only these reps' if ``rep_ids`` is."""
    allowed = None if rep_ids is None else sorted(rep_ids)
    rows = _query(
        con,
        "SELECT p.id, p.name, p.rep_id, r.name, p.target, p.currency, p.period_start, p.period_end, p.updated_at"
        " FROM plans p JOIN reps r ON r.id = p.rep_id"
        " WHERE (? IS NULL OR p.rep_id = ?) AND (?::INTEGER[] IS NULL OR list_contains(?::INTEGER[], p.rep_id))"
        " ORDER BY p.period_start DESC, r.name, p.name",
        [rep_id, rep_id, allowed, allowed],
    )
    return [PlanSummary(*row) for row in rows]


def duplicate_plan(con: duckdb.DuckDBPyConnection, plan_id: int, new_name: str) -> int:
    """A copy of plan ``plan_id`` (not its actuals) called ``new_name``; returns the new id."""
    plan = get_plan(con, plan_id)
    if plan is None:
        raise StoreError(f"Plan {plan_id} no longer exists — it may have been deleted.")
    return save_plan(
        con,
        plan.rep_id,
        new_name,
        plan.inputs,
        currency=plan.currency,
        milestone_shape=plan.milestone_shape,
        cadence=plan.cadence,
        milestone_custom=plan.milestone_custom,
        profile_id=plan.profile_id,
    )


@retry_conflicts
def delete_plan(con: duckdb.DuckDBPyConnection, plan_id: int) -> None:
    """Delete a plan with its milestones and actuals, all or nothing."""
    with transaction(con) as cur:
        cur.execute("DELETE FROM actuals WHERE plan_id = ?", [plan_id])
        cur.execute("DELETE FROM milestones WHERE plan_id = ?", [plan_id])
        cur.execute("DELETE FROM plans WHERE id = ?", [plan_id])


def get_milestones(con: duckdb.DuckDBPyConnection, plan_id: int) -> list[Milestone]:
    """The plan's stored checkpoints, in date order."""
    rows = _query(
        con, "SELECT due_date, cumulative_target FROM milestones WHERE plan_id = ? ORDER BY due_date", [plan_id]
    )
    return [Milestone(due, float(value)) for due, value in rows]


# --------------------------------------------------------------------------- actuals


def _write_actuals(cur: duckdb.DuckDBPyConnection, plan_id: int, weeks: Sequence[WeekActual]) -> None:
    cur.executemany(
        "INSERT INTO actuals (plan_id, week_start, revenue, deals_won, stage_counts) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (plan_id, week_start) DO UPDATE SET revenue = excluded.revenue,"
        " deals_won = excluded.deals_won, stage_counts = excluded.stage_counts, updated_at = now()",
        [
            [plan_id, w.week_start, float(w.revenue), int(w.deals_won), json.dumps(w.stage_counts, sort_keys=True)]
            for w in weeks
        ],
    )


@retry_conflicts
def save_actuals(con: duckdb.DuckDBPyConnection, plan_id: int, weeks: Sequence[WeekActual]) -> None:
    """Write each week's actuals for a plan, replacing what the week had, in one transaction."""
    if not weeks:
        return
    with transaction(con) as cur:
        _write_actuals(cur, plan_id, weeks)


def get_actuals(con: duckdb.DuckDBPyConnection, plan_id: int) -> list[WeekActual]:
    """Every recorded week of a plan, in date order."""
    rows = _query(
        con,
        "SELECT week_start, revenue, deals_won, stage_counts FROM actuals WHERE plan_id = ? ORDER BY week_start",
        [plan_id],
    )
    return [WeekActual(week, float(revenue), int(deals), json.loads(counts)) for week, revenue, deals, counts in rows]


# --------------------------------------------------------------------------- calibration


@dataclass(frozen=True, slots=True)
class DealTables:
    """What calibration needs from a deal list, aggregated by DuckDB.

    ``summary``: one row for the team (``is_team``) and one per owner: deal counts by
    outcome, won and lost amounts, deal size and sales-cycle quantiles.
    ``reached``: deals by owner and furthest stage index, with how many are still open there.
    ``lags``: median days from entering stage i to entering stage i+1, and the deals behind it.
    ``months`` / ``quarter_weeks``: won amount by calendar month and by week of the quarter.
    ``won_amounts`` / ``cycle_days``: the raw values, for the distribution charts.
    """

    summary: pd.DataFrame
    reached: pd.DataFrame
    lags: pd.DataFrame
    months: pd.DataFrame
    quarter_weeks: pd.DataFrame
    won_amounts: np.ndarray
    cycle_days: np.ndarray


def deal_tables(deals: pd.DataFrame, stage_count: int) -> DealTables:
    """Aggregate a deal list (the shape :func:`planner.imports.read_deals` returns) in an in-memory DuckDB.

    Works on the frame in place through DuckDB's pandas scan: nothing is copied row by row.
    """
    con = duckdb.connect(":memory:", config={"threads": 2})
    try:
        con.register("deals", deals)
        summary = con.execute(
            """
            SELECT grouping(owner) = 1 AS is_team, coalesce(owner, '') AS owner,
                count(*) AS deals,
                count(*) FILTER (WHERE outcome = 'won') AS won,
                count(*) FILTER (WHERE outcome = 'lost') AS lost,
                count(*) FILTER (WHERE outcome = 'open') AS open,
                coalesce(sum(amount) FILTER (WHERE outcome = 'won'), 0) AS won_amount,
                count(amount) FILTER (WHERE outcome = 'won') AS won_with_amount,
                coalesce(sum(amount) FILTER (WHERE outcome = 'lost' AND amount > 0), 0) AS lost_amount,
                count(*) FILTER (WHERE outcome = 'lost' AND amount > 0) AS lost_with_amount,
                avg(amount) FILTER (WHERE outcome = 'won') AS avg_won,
                median(amount) FILTER (WHERE outcome = 'won') AS median_won,
                stddev_samp(amount) FILTER (WHERE outcome = 'won') AS sd_won,
                quantile_cont(date_diff('day', created, closed), [0.25, 0.5, 0.75])
                    FILTER (WHERE outcome = 'won' AND created IS NOT NULL AND closed IS NOT NULL) AS cycle,
                count(*) FILTER (WHERE outcome = 'won' AND created IS NOT NULL AND closed IS NOT NULL) AS cycle_deals
            FROM deals
            GROUP BY GROUPING SETS ((), (owner))
            ORDER BY is_team DESC, owner
            """
        ).df()
        reached = con.execute(
            """
            SELECT grouping(owner) = 1 AS is_team, coalesce(owner, '') AS owner, furthest,
                count(*) AS deals, count(*) FILTER (WHERE outcome = 'open') AS open
            FROM deals
            GROUP BY GROUPING SETS ((furthest), (owner, furthest))
            ORDER BY is_team DESC, owner, furthest
            """
        ).df()
        lag_rows = []
        for i in range(stage_count - 1):
            # Column names are built from integers, never from the file: nothing a user typed reaches the SQL.
            frm, to = f"entered_{i}", f"entered_{i + 1}"
            if frm not in deals.columns or to not in deals.columns:
                continue
            row = con.execute(
                f"SELECT median(date_diff('day', {frm}, {to})), count(*) FROM deals"
                f" WHERE {frm} IS NOT NULL AND {to} IS NOT NULL AND {to} >= {frm}"
            ).fetchone()
            lag_rows.append({"stage": i, "median_days": row[0] if row else None, "deals": row[1] if row else 0})
        lags = pd.DataFrame(lag_rows, columns=["stage", "median_days", "deals"])
        months = con.execute(
            "SELECT month(closed) AS month, sum(amount) AS amount FROM deals"
            " WHERE outcome = 'won' AND closed IS NOT NULL AND amount > 0 GROUP BY 1 ORDER BY 1"
        ).df()
        quarter_weeks = con.execute(
            "SELECT least(date_diff('day', date_trunc('quarter', closed), closed) // 7 + 1, 13) AS week,"
            " sum(amount) AS amount FROM deals"
            " WHERE outcome = 'won' AND closed IS NOT NULL AND amount > 0 GROUP BY 1 ORDER BY 1"
        ).df()
        won_amounts = con.execute("SELECT amount FROM deals WHERE outcome = 'won' AND amount IS NOT NULL").fetchnumpy()[
            "amount"
        ]
        cycle_days = con.execute(
            "SELECT date_diff('day', created, closed) AS days FROM deals"
            " WHERE outcome = 'won' AND created IS NOT NULL AND closed IS NOT NULL"
        ).fetchnumpy()["days"]
    finally:
        con.close()
    return DealTables(
        summary, reached, lags, months, quarter_weeks, np.asarray(won_amounts, float), np.asarray(cycle_days, float)
    )


@dataclass(frozen=True, slots=True)
class ProfileSummary:
    """One line of the saved-profiles list."""

    id: int
    name: str
    source_file: str
    rows_read: int
    rows_used: int
    rows_bad: int
    created_at: datetime


_DEAL_COLUMNS = ("deal_id", "owner", "account", "stage", "outcome", "amount", "created", "closed")


@retry_conflicts
def save_profile(
    con: duckdb.DuckDBPyConnection,
    name: str,
    source_file: str,
    result: dict,
    deals: pd.DataFrame,
    *,
    rows_read: int,
    rows_bad: int,
) -> int:
    """Store a calibration result and the deals behind it, all or nothing; return the profile's id.

    ``result`` is the calibration as plain JSON-able data (``Calibration.to_dict()``).
    """
    name = name.strip()
    if not name:
        raise StoreError("Give the profile a name, such as “2026 deals”.")
    frame = deals.loc[:, list(_DEAL_COLUMNS)].copy()
    frame["created"] = pd.to_datetime(frame["created"]).dt.date
    frame["closed"] = pd.to_datetime(frame["closed"]).dt.date
    try:
        with transaction(con) as cur:
            row = cur.execute(
                "INSERT INTO profiles (name, source_file, result, rows_read, rows_used, rows_bad)"
                " VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                [name, source_file, json.dumps(result), rows_read, len(frame), rows_bad],
            ).fetchone()
            assert row is not None
            profile_id = int(row[0])
            cur.register("new_deals", frame)
            cur.execute(
                "INSERT INTO deals (profile_id, deal_id, owner, account, stage, outcome, amount, created, closed)"
                " SELECT ?, deal_id, owner, account, stage, outcome, amount, created, closed FROM new_deals",
                [profile_id],
            )
            cur.unregister("new_deals")
            return profile_id
    except duckdb.ConstraintException as error:
        if "profiles" in str(error) or "name" in str(error):
            raise StoreError(f"There is already a profile called “{name}” — pick another name.") from error
        raise StoreError(f"The deals could not be stored: {error}") from error


def list_profiles(con: duckdb.DuckDBPyConnection) -> list[ProfileSummary]:
    """Saved calibration profiles, newest first."""
    rows = _query(
        con,
        "SELECT id, name, source_file, rows_read, rows_used, rows_bad, created_at FROM profiles"
        " ORDER BY created_at DESC, id DESC",
    )
    return [ProfileSummary(*row) for row in rows]


def get_profile(con: duckdb.DuckDBPyConnection, profile_id: int) -> tuple[ProfileSummary, dict] | None:
    """A saved profile's summary and its calibration result (as stored), or None."""
    rows = _query(
        con,
        "SELECT id, name, source_file, rows_read, rows_used, rows_bad, created_at, result FROM profiles WHERE id = ?",
        [profile_id],
    )
    if not rows:
        return None
    *summary, result = rows[0]
    return ProfileSummary(*summary), json.loads(result)


def profile_month_shares(con: duckdb.DuckDBPyConnection, profile_id: int | None) -> list[float] | None:
    """The profile's seasonality (12 calendar-month shares of won amount), or None."""
    if profile_id is None:
        return None
    found = get_profile(con, profile_id)
    shares = found[1].get("seasonality") if found else None
    return [float(v) for v in shares] if shares else None


@retry_conflicts
def delete_profile(con: duckdb.DuckDBPyConnection, profile_id: int) -> None:
    """Delete a profile and its deals; plans that used it keep their numbers and forget the link."""
    with transaction(con) as cur:
        cur.execute("UPDATE plans SET profile_id = NULL WHERE profile_id = ?", [profile_id])
        cur.execute("DELETE FROM deals WHERE profile_id = ?", [profile_id])
        cur.execute("DELETE FROM profiles WHERE id = ?", [profile_id])


# --------------------------------------------------------------------------- pipeline snapshots

_SNAPSHOT_COLUMNS = ("deal_id", "owner", "account", "stage", "outcome", "amount", "close_date")


@dataclass(frozen=True, slots=True)
class SnapshotSummary:
    """One stored snapshot of a team's pipeline."""

    snapshot_date: date
    team: str
    deals: int
    open_amount: float


def _write_snapshot(cur: duckdb.DuckDBPyConnection, team: str, snapshot_date: date, deals: pd.DataFrame) -> None:
    frame = deals.loc[:, list(_SNAPSHOT_COLUMNS)].drop_duplicates("deal_id").copy()
    frame["close_date"] = pd.to_datetime(frame["close_date"]).dt.date
    cur.execute("DELETE FROM pipeline_snapshots WHERE snapshot_date = ? AND team = ?", [snapshot_date, team])
    cur.register("new_snapshot", frame)
    cur.execute(
        "INSERT INTO pipeline_snapshots (snapshot_date, team, deal_id, owner, account, stage, outcome, amount,"
        " close_date) SELECT ?, ?, deal_id, owner, account, stage, outcome, amount, close_date FROM new_snapshot",
        [snapshot_date, team],
    )
    cur.unregister("new_snapshot")


@retry_conflicts
def save_snapshot(con: duckdb.DuckDBPyConnection, team: str, snapshot_date: date, deals: pd.DataFrame) -> int:
    """Store a team's pipeline as of ``snapshot_date`` (replacing that day's), in one transaction.

    ``deals`` has deal_id, owner, account, stage, outcome, amount and close_date; a deal ID
    that appears twice is stored once. Returns the number of deals stored.
    """
    if deals.empty:
        raise StoreError("The snapshot has no deals: upload an export of the open pipeline.")
    with transaction(con) as cur:
        _write_snapshot(cur, team, snapshot_date, deals)
    return int(deals["deal_id"].nunique())


def list_snapshots(con: duckdb.DuckDBPyConnection, team: str | None = None) -> list[SnapshotSummary]:
    """Stored snapshots, newest first; one team's when ``team`` is given."""
    rows = _query(
        con,
        "SELECT snapshot_date, team, count(*), coalesce(sum(amount) FILTER (WHERE outcome = 'open'), 0)"
        " FROM pipeline_snapshots WHERE ? IS NULL OR team = ?"
        " GROUP BY snapshot_date, team ORDER BY snapshot_date DESC, team",
        [team, team],
    )
    return [SnapshotSummary(d, t, int(n), float(amount)) for d, t, n, amount in rows]


def get_snapshot(con: duckdb.DuckDBPyConnection, team: str, snapshot_date: date) -> pd.DataFrame:
    """Every deal of one snapshot (columns as :func:`save_snapshot` takes them)."""
    cur = con.cursor()
    try:
        return cur.execute(
            f"SELECT {', '.join(_SNAPSHOT_COLUMNS)} FROM pipeline_snapshots"
            " WHERE team = ? AND snapshot_date = ? ORDER BY deal_id",
            [team, snapshot_date],
        ).df()
    finally:
        cur.close()


def slip_counts(con: duckdb.DuckDBPyConnection, team: str, upto: date) -> dict[str, int]:
    """How many times each deal's close date was pushed later between consecutive snapshots up to ``upto``."""
    rows = _query(
        con,
        "WITH s AS (SELECT deal_id, close_date,"
        "  lag(close_date) OVER (PARTITION BY deal_id ORDER BY snapshot_date) AS before,"
        "  lag(outcome) OVER (PARTITION BY deal_id ORDER BY snapshot_date) AS was"
        "  FROM pipeline_snapshots WHERE team = ? AND snapshot_date <= ?)"
        " SELECT deal_id, count(*) FROM s WHERE was = 'open' AND close_date > before GROUP BY deal_id",
        [team, upto],
    )
    return {deal_id: int(n) for deal_id, n in rows}


def list_teams(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """Every team with a rep or a snapshot, and its manager's name ("" when it has none)."""
    rows = _query(
        con,
        "SELECT t.team, coalesce(max(r.name) FILTER (WHERE r.role = 'manager'), '') FROM"
        " (SELECT team FROM reps WHERE team <> '' UNION SELECT team FROM pipeline_snapshots) t"
        " LEFT JOIN reps r ON r.team = t.team GROUP BY t.team ORDER BY t.team",
    )
    return [(team, manager) for team, manager in rows]


def team_plans(con: duckdb.DuckDBPyConnection, team: str, as_of: date) -> list[tuple[Rep, SavedPlan]]:
    """Each rep of ``team`` (not managers) with the plan whose period holds ``as_of`` (else their latest)."""
    rows = _query(
        con,
        "SELECT r.id, r.name, r.team, r.role, p.id FROM reps r JOIN plans p ON p.rep_id = r.id"
        " WHERE r.team = ? AND r.role = 'rep'"
        " QUALIFY row_number() OVER (PARTITION BY r.id"
        "   ORDER BY (p.period_start <= ? AND ? <= p.period_end) DESC, p.period_start DESC, p.id DESC) = 1"
        " ORDER BY r.name",
        [team, as_of, as_of],
    )
    out = []
    for rep_id, name, rep_team, role, plan_id in rows:
        plan = get_plan(con, plan_id)
        if plan is not None:
            out.append((Rep(rep_id, name, rep_team, role), plan))
    return out


def review_inputs(con: duckdb.DuckDBPyConnection, team: str, as_of: date) -> list[ReviewInput]:
    """Each rep's plan, milestones, weekly revenue and stage counts, as the team review needs them."""
    out = []
    for rep, plan in team_plans(con, team, as_of):
        weeks = get_actuals(con, plan.id)
        out.append(
            ReviewInput(
                rep=rep.name,
                plan_id=plan.id,
                plan_name=plan.name,
                inputs=plan.inputs,
                milestones=tuple(get_milestones(con, plan.id)),
                weekly_revenue={w.week_start: w.revenue for w in weeks},
                weekly_counts={w.week_start: dict(w.stage_counts) for w in weeks},
            )
        )
    return out


def latest_snapshot_date(con: duckdb.DuckDBPyConnection, team: str, upto: date | None = None) -> date | None:
    """The team's newest snapshot on or before ``upto`` (any date when None)."""
    row = _query(
        con,
        "SELECT max(snapshot_date) FROM pipeline_snapshots WHERE team = ? AND (? IS NULL OR snapshot_date <= ?)",
        [team, upto, upto],
    )
    return row[0][0] if row else None


# --------------------------------------------------------------------------- a whole team at once


@retry_conflicts
def load_team(con: duckdb.DuckDBPyConnection, team: DemoTeam) -> list[int]:
    """Write a team's reps, plans, milestones and actuals in one transaction; return the plan ids.

    Only into an empty database: demo data never mixes with a team's own.
    """
    if not is_empty(con):
        raise StoreError("The database already holds reps or plans; demo data only loads into an empty one.")
    plan_ids = []
    with transaction(con) as cur:
        rep_ids = {}
        for rep in team.reps:
            rep_ids[rep.name] = _insert_rep(cur, rep.name, rep.team, rep.role, rep.email)
        for plan in team.plans:
            plan_id = _write_plan(
                cur, rep_ids[plan.rep], plan.name, plan.inputs, "USD", plan.milestone_shape, "auto", (), None
            )
            if plan.weeks:
                _write_actuals(cur, plan_id, plan.weeks)
            plan_ids.append(plan_id)
        for snapshot_date, deals in team.snapshots:
            _write_snapshot(cur, team.team, snapshot_date, deals)
    return plan_ids


# --------------------------------------------------------------------------- account plans

_ACCOUNT_COLUMNS = (
    "id, name, period_start, period_end, owner, segment, aims, priorities, timeframes, risk_tolerance, notes,"
    " CAST(created_at AS DATE)"
)
_OBJECTIVE_COLUMNS = "id, goal_id, statement, metric, target_value, current_value, rationale, due_date, is_revenue"
_ACTION_COLUMNS = "id, account_id, description, objective_id, owner, due_date, status"


@dataclass(frozen=True, slots=True)
class CrmAccount:
    """An account named in an imported CRM export, with its most frequent owner."""

    name: str
    owner: str
    deals: int


@dataclass(frozen=True, slots=True)
class OpenDeal:
    """An opportunity in the latest pipeline snapshot."""

    deal_id: str
    owner: str
    stage: str
    amount: float | None
    close_date: date | None


@dataclass(frozen=True, slots=True)
class AccountDeals:
    """An account's open opportunities (latest snapshot) and won history (imported deals).

    ``snapshot_date`` is None when no pipeline snapshot exists at all;
    ``has_deals`` is False when no CRM export has been imported.
    """

    snapshot_date: date | None
    open_deals: tuple[OpenDeal, ...]
    has_deals: bool
    won_count: int
    won_amount: float

    @property
    def open_amount(self) -> float:
        return float(sum(d.amount or 0.0 for d in self.open_deals))


def _account_from_row(row: tuple) -> Account:
    (account_id, name, start, end, owner, segment, aims, priorities, timeframes, risk, notes, created) = row
    return Account(
        id=account_id,
        name=name,
        period_start=start,
        period_end=end,
        owner=owner,
        segment=segment,
        aims=aims,
        priorities=tuple(json.loads(priorities)),
        timeframes=timeframes,
        risk_tolerance=risk,
        notes=notes,
        created_on=created,
    )


def _objective_from_row(row: tuple) -> Objective:
    (objective_id, goal_id, statement, metric, target, current, rationale, due, revenue) = row
    return Objective(objective_id, goal_id, statement, metric, target, current, rationale, due, bool(revenue))


def _check_account_fields(name: str, period_start: date, period_end: date) -> str:
    name = name.strip()
    if not name:
        raise StoreError("An account needs a name.")
    if period_end < period_start:
        raise StoreError("The plan's period must end after it starts.")
    return name


def _insert_account(cur: duckdb.DuckDBPyConnection, name: str, owner: str, segment: str, start: date, end: date) -> int:
    if cur.execute("SELECT 1 FROM accounts WHERE lower(name) = lower(?)", [name]).fetchone():
        raise StoreError(f"There is already an account called “{name}”.")
    row = cur.execute(
        "INSERT INTO accounts (name, owner, segment, period_start, period_end) VALUES (?, ?, ?, ?, ?) RETURNING id",
        [name, owner.strip(), segment.strip(), start, end],
    ).fetchone()
    assert row is not None
    return int(row[0])


@retry_conflicts
def add_account(
    con: duckdb.DuckDBPyConnection,
    name: str,
    period_start: date,
    period_end: date,
    *,
    owner: str = "",
    segment: str = "",
) -> int:
    """Add an account whose plan covers ``period_start`` to ``period_end``; return its id."""
    name = _check_account_fields(name, period_start, period_end)
    with transaction(con) as cur:
        return _insert_account(cur, name, owner, segment, period_start, period_end)


@retry_conflicts
def add_accounts(
    con: duckdb.DuckDBPyConnection, accounts: Sequence[CrmAccount], period_start: date, period_end: date
) -> list[int]:
    """Add several accounts (from a CRM export) in one transaction; names already present are skipped."""
    ids = []
    with transaction(con) as cur:
        for account in accounts:
            name = _check_account_fields(account.name, period_start, period_end)
            if cur.execute("SELECT 1 FROM accounts WHERE lower(name) = lower(?)", [name]).fetchone():
                continue
            ids.append(_insert_account(cur, name, account.owner, "", period_start, period_end))
    return ids


@retry_conflicts
def update_account(con: duckdb.DuckDBPyConnection, account: Account) -> None:
    """Save an account's details and the customer's view."""
    name = _check_account_fields(account.name, account.period_start, account.period_end)
    if account.risk_tolerance not in RISK_TOLERANCES:
        raise StoreError(f"Risk tolerance must be one of {', '.join(RISK_TOLERANCES)}.")
    priorities = [p.strip() for p in account.priorities if p.strip()]
    with transaction(con) as cur:
        clash = cur.execute(
            "SELECT 1 FROM accounts WHERE lower(name) = lower(?) AND id <> ?", [name, account.id]
        ).fetchone()
        if clash:
            raise StoreError(f"There is already an account called “{name}”.")
        updated = cur.execute(
            "UPDATE accounts SET name = ?, owner = ?, segment = ?, period_start = ?, period_end = ?, aims = ?,"
            " priorities = ?, timeframes = ?, risk_tolerance = ?, notes = ?, updated_at = now()"
            " WHERE id = ? RETURNING id",
            [
                name,
                account.owner.strip(),
                account.segment.strip(),
                account.period_start,
                account.period_end,
                account.aims,
                json.dumps(priorities),
                account.timeframes,
                account.risk_tolerance,
                account.notes,
                account.id,
            ],
        ).fetchall()
        if not updated:
            raise StoreError("That account no longer exists — it may have been deleted.")


@retry_conflicts
def delete_account(con: duckdb.DuckDBPyConnection, account_id: int) -> None:
    """Delete an account with its whole plan, all or nothing."""
    with transaction(con) as cur:
        cur.execute("DELETE FROM objectives WHERE goal_id IN (SELECT id FROM goals WHERE account_id = ?)", [account_id])
        for table in ("actions", "goals", "cycle_steps", "reviews"):
            cur.execute(f"DELETE FROM {table} WHERE account_id = ?", [account_id])
        cur.execute("DELETE FROM accounts WHERE id = ?", [account_id])


def list_accounts(con: duckdb.DuckDBPyConnection) -> list[Account]:
    """Every account, by name."""
    return [_account_from_row(row) for row in _query(con, f"SELECT {_ACCOUNT_COLUMNS} FROM accounts ORDER BY name")]


def list_account_plans(con: duckdb.DuckDBPyConnection, account_id: int | None = None) -> list[AccountPlan]:
    """Every account's plan (or only ``account_id``'s), by account name."""
    where = "WHERE ? IS NULL OR account_id = ?"
    params = [account_id, account_id]
    accounts = _query(con, f"SELECT {_ACCOUNT_COLUMNS} FROM accounts WHERE ? IS NULL OR id = ? ORDER BY name", params)
    goals = _query(con, f"SELECT id, account_id, category, title FROM goals {where} ORDER BY id", params)
    objectives = _query(
        con,
        f"SELECT {_OBJECTIVE_COLUMNS} FROM objectives"
        " WHERE goal_id IN (SELECT id FROM goals WHERE ? IS NULL OR account_id = ?) ORDER BY id",
        params,
    )
    actions = _query(con, f"SELECT {_ACTION_COLUMNS} FROM actions {where} ORDER BY id", params)
    reviews = _query(
        con,
        f"SELECT id, account_id, reviewed_on, reviewer, what_changed, notes FROM reviews {where}"
        " ORDER BY reviewed_on DESC, id DESC",
        params,
    )
    goal_account = {row[0]: row[1] for row in goals}
    plans = []
    for row in accounts:
        account = _account_from_row(row)
        plans.append(
            AccountPlan(
                account=account,
                goals=tuple(Goal(*g) for g in goals if g[1] == account.id),
                objectives=tuple(_objective_from_row(o) for o in objectives if goal_account.get(o[1]) == account.id),
                actions=tuple(Action(*a) for a in actions if a[1] == account.id),
                reviews=tuple(Review(*r) for r in reviews if r[1] == account.id),
            )
        )
    return plans


def get_account_plan(con: duckdb.DuckDBPyConnection, account_id: int) -> AccountPlan | None:
    """One account's whole plan, or None if there is no such account."""
    plans = list_account_plans(con, account_id)
    return plans[0] if plans else None


@retry_conflicts
def add_goal(con: duckdb.DuckDBPyConnection, account_id: int, category: str, title: str) -> int:
    """Add a goal to an account's plan; return its id."""
    if category not in GOAL_CATEGORIES:
        raise StoreError(f"A goal's category is one of: {', '.join(GOAL_CATEGORIES)}.")
    if not title.strip():
        raise StoreError("A goal needs a title.")
    with transaction(con) as cur:
        if not cur.execute("SELECT 1 FROM accounts WHERE id = ?", [account_id]).fetchone():
            raise StoreError("That account no longer exists — it may have been deleted.")
        row = cur.execute(
            "INSERT INTO goals (account_id, category, title) VALUES (?, ?, ?) RETURNING id",
            [account_id, category, title.strip()],
        ).fetchone()
    assert row is not None
    return int(row[0])


@retry_conflicts
def delete_goal(con: duckdb.DuckDBPyConnection, goal_id: int) -> None:
    """Delete a goal with its objectives and their actions, all or nothing."""
    with transaction(con) as cur:
        cur.execute(
            "DELETE FROM actions WHERE objective_id IN (SELECT id FROM objectives WHERE goal_id = ?)", [goal_id]
        )
        cur.execute("DELETE FROM objectives WHERE goal_id = ?", [goal_id])
        cur.execute("DELETE FROM goals WHERE id = ?", [goal_id])


def _objective_values(objective: Objective) -> list[object]:
    return [
        objective.goal_id,
        objective.statement.strip(),
        objective.metric.strip(),
        objective.target_value,
        objective.current_value,
        objective.rationale.strip(),
        objective.due,
        objective.revenue,
    ]


@retry_conflicts
def add_objective(con: duckdb.DuckDBPyConnection, objective: Objective) -> int:
    """Add an objective under its goal (its ``id`` is ignored); return the new id."""
    if not objective.statement.strip():
        raise StoreError("An objective needs a statement of what will be achieved.")
    with transaction(con) as cur:
        if not cur.execute("SELECT 1 FROM goals WHERE id = ?", [objective.goal_id]).fetchone():
            raise StoreError("That goal no longer exists — it may have been deleted.")
        row = cur.execute(
            "INSERT INTO objectives (goal_id, statement, metric, target_value, current_value, rationale, due_date,"
            " is_revenue) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            _objective_values(objective),
        ).fetchone()
    assert row is not None
    return int(row[0])


@retry_conflicts
def update_objective(con: duckdb.DuckDBPyConnection, objective: Objective) -> None:
    """Save an objective's fields."""
    if not objective.statement.strip():
        raise StoreError("An objective needs a statement of what will be achieved.")
    with transaction(con) as cur:
        updated = cur.execute(
            "UPDATE objectives SET goal_id = ?, statement = ?, metric = ?, target_value = ?, current_value = ?,"
            " rationale = ?, due_date = ?, is_revenue = ? WHERE id = ? RETURNING id",
            [*_objective_values(objective), objective.id],
        ).fetchall()
        if not updated:
            raise StoreError("That objective no longer exists — it may have been deleted.")


@retry_conflicts
def delete_objective(con: duckdb.DuckDBPyConnection, objective_id: int) -> None:
    """Delete an objective with its actions, all or nothing."""
    with transaction(con) as cur:
        cur.execute("DELETE FROM actions WHERE objective_id = ?", [objective_id])
        cur.execute("DELETE FROM objectives WHERE id = ?", [objective_id])


def _check_action(cur: duckdb.DuckDBPyConnection, action: Action) -> list[object]:
    """The action's column values, or StoreError saying what is wrong with it."""
    if not action.description.strip():
        raise StoreError("An action needs a description.")
    if action.status not in ACTION_STATUSES:
        raise StoreError(f"An action's status is one of: {', '.join(ACTION_STATUSES)}.")
    if (
        action.objective_id is not None
        and not cur.execute(
            "SELECT 1 FROM objectives o JOIN goals g ON g.id = o.goal_id WHERE o.id = ? AND g.account_id = ?",
            [action.objective_id, action.account_id],
        ).fetchone()
    ):
        raise StoreError("That objective no longer exists on this account.")
    return [action.description.strip(), action.objective_id, action.owner.strip(), action.due, action.status]


@retry_conflicts
def add_action(con: duckdb.DuckDBPyConnection, action: Action) -> int:
    """Add an action to an account (under an objective, or none); its ``id`` is ignored. Return the new id."""
    with transaction(con) as cur:
        row = cur.execute(
            "INSERT INTO actions (account_id, description, objective_id, owner, due_date, status)"
            " VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            [action.account_id, *_check_action(cur, action)],
        ).fetchone()
    assert row is not None
    return int(row[0])


@retry_conflicts
def update_action(con: duckdb.DuckDBPyConnection, action: Action) -> None:
    """Change an action's description, objective, owner, due date and status (its account stays)."""
    with transaction(con) as cur:
        values = _check_action(cur, action)
        updated = cur.execute(
            "UPDATE actions SET description = ?, objective_id = ?, owner = ?, due_date = ?, status = ?"
            " WHERE id = ? AND account_id = ? RETURNING id",
            [*values, action.id, action.account_id],
        ).fetchall()
        if not updated:
            raise StoreError("That action no longer exists — it may have been deleted.")


@retry_conflicts
def set_action_status(con: duckdb.DuckDBPyConnection, action_id: int, status: str) -> None:
    """Mark an action "to do", "in progress" or "done"."""
    if status not in ACTION_STATUSES:
        raise StoreError(f"An action's status is one of: {', '.join(ACTION_STATUSES)}.")
    with transaction(con) as cur:
        if not cur.execute("UPDATE actions SET status = ? WHERE id = ? RETURNING id", [status, action_id]).fetchall():
            raise StoreError("That action no longer exists — it may have been deleted.")


@retry_conflicts
def delete_action(con: duckdb.DuckDBPyConnection, action_id: int) -> None:
    """Delete one action."""
    with transaction(con) as cur:
        cur.execute("DELETE FROM actions WHERE id = ?", [action_id])


@retry_conflicts
def save_cycle(con: duckdb.DuckDBPyConnection, account_id: int, fiscal_year: int, steps: Sequence[CycleStep]) -> None:
    """Write an account's planning-cycle steps for a fiscal year, replacing those steps, in one transaction."""
    for step in steps:
        if not 1 <= step.step <= len(CYCLE_STEPS):
            raise StoreError(f"A planning cycle has steps 1 to {len(CYCLE_STEPS)}, not {step.step}.")
    with transaction(con) as cur:
        cur.executemany(
            "INSERT INTO cycle_steps (account_id, fiscal_year, step, owner, due_date, done_date)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (account_id, fiscal_year, step) DO UPDATE SET"
            " owner = excluded.owner, due_date = excluded.due_date, done_date = excluded.done_date",
            [[account_id, fiscal_year, s.step, s.owner.strip(), s.due, s.done_on] for s in steps],
        )


def get_cycle(con: duckdb.DuckDBPyConnection, account_id: int, fiscal_year: int) -> list[CycleStep]:
    """An account's planning-cycle steps for a fiscal year, in order (empty if not set up)."""
    rows = _query(
        con,
        "SELECT step, owner, due_date, done_date FROM cycle_steps WHERE account_id = ? AND fiscal_year = ?"
        " ORDER BY step",
        [account_id, fiscal_year],
    )
    return [CycleStep(*row) for row in rows]


def list_cycle_steps(con: duckdb.DuckDBPyConnection) -> list[tuple[int, int, CycleStep]]:
    """Every planning-cycle step of every account, as (account id, fiscal year, step)."""
    rows = _query(
        con,
        "SELECT account_id, fiscal_year, step, owner, due_date, done_date FROM cycle_steps"
        " ORDER BY account_id, fiscal_year, step",
    )
    return [(account_id, year, CycleStep(*rest)) for account_id, year, *rest in rows]


@retry_conflicts
def add_review(con: duckdb.DuckDBPyConnection, review: Review) -> int:
    """Log a review of an account's plan (its ``id`` is ignored); return the new id."""
    if not review.reviewer.strip():
        raise StoreError("Say who reviewed the plan.")
    with transaction(con) as cur:
        if not cur.execute("SELECT 1 FROM accounts WHERE id = ?", [review.account_id]).fetchone():
            raise StoreError("That account no longer exists — it may have been deleted.")
        row = cur.execute(
            "INSERT INTO reviews (account_id, reviewed_on, reviewer, what_changed, notes)"
            " VALUES (?, ?, ?, ?, ?) RETURNING id",
            [review.account_id, review.reviewed_on, review.reviewer.strip(), review.what_changed, review.notes],
        ).fetchone()
    assert row is not None
    return int(row[0])


def crm_accounts(con: duckdb.DuckDBPyConnection) -> list[CrmAccount]:
    """The distinct non-empty accounts in imported deals, each with its most frequent owner, by name."""
    # A deal imported in several profiles counts once, as the newest profile has it.
    rows = _query(
        con,
        "WITH latest AS (SELECT arg_max(trim(account), profile_id) AS account,"
        " arg_max(trim(owner), profile_id) AS owner FROM deals GROUP BY deal_id),"
        " named AS (SELECT account, owner FROM latest WHERE account <> ''),"
        " owners AS (SELECT account, owner, count(*) AS n,"
        "  row_number() OVER (PARTITION BY account ORDER BY (owner = '') , count(*) DESC, owner) AS rank"
        "  FROM named GROUP BY account, owner)"
        " SELECT o.account, o.owner, t.deals FROM owners o"
        " JOIN (SELECT account, count(*) AS deals FROM named GROUP BY account) t ON t.account = o.account"
        " WHERE o.rank = 1 ORDER BY lower(o.account)",
    )
    return [CrmAccount(name, owner, int(deals)) for name, owner, deals in rows]


def account_deals(con: duckdb.DuckDBPyConnection, account_name: str) -> AccountDeals:
    """An account's open opportunities in the latest pipeline snapshot, and what has been won from it."""
    latest = _query(con, "SELECT max(snapshot_date) FROM pipeline_snapshots")[0][0]
    open_rows = _query(
        con,
        "SELECT deal_id, owner, stage, amount, close_date FROM pipeline_snapshots"
        " WHERE snapshot_date = ? AND outcome = 'open' AND lower(trim(account)) = lower(trim(?))"
        " ORDER BY close_date NULLS LAST, deal_id",
        [latest, account_name],
    )
    has_deals = bool(_query(con, "SELECT count(*) FROM deals")[0][0])
    # A deal imported in several profiles counts once, as the newest profile has it.
    won = _query(
        con,
        "SELECT count(*), coalesce(sum(amount), 0) FROM ("
        " SELECT deal_id, arg_max(amount, profile_id) AS amount, arg_max(outcome, profile_id) AS outcome"
        " FROM deals WHERE lower(trim(account)) = lower(trim(?)) GROUP BY deal_id) WHERE outcome = 'won'",
        [account_name],
    )[0]
    return AccountDeals(
        snapshot_date=latest,
        open_deals=tuple(OpenDeal(*row) for row in open_rows),
        has_deals=has_deals,
        won_count=int(won[0]),
        won_amount=float(won[1]),
    )


def owner_plan(con: duckdb.DuckDBPyConnection, owner: str, period_start: date, period_end: date) -> PlanSummary | None:
    """The account owner's saved plan: one overlapping the account plan's period, latest first; else None."""
    rows = _query(
        con,
        "SELECT p.id, p.name, p.rep_id, r.name, p.target, p.currency, p.period_start, p.period_end, p.updated_at"
        " FROM plans p JOIN reps r ON r.id = p.rep_id"
        " WHERE lower(r.name) = lower(trim(?)) AND p.period_start <= ? AND p.period_end >= ?"
        " ORDER BY p.period_start DESC, p.updated_at DESC LIMIT 1",
        [owner, period_end, period_start],
    )
    return PlanSummary(*rows[0]) if rows else None


# --------------------------------------------------------------------------- backup and restore

#: What DuckDB's EXPORT DATABASE writes beside one Parquet file per table.
BACKUP_FILES = ("schema.sql", "load.sql")


def _sql_path(path: Path) -> str:
    """An absolute path as a SQL string literal: EXPORT and IMPORT DATABASE take no ``?`` parameters."""
    text = str(path.expanduser().resolve())
    if any(c in text for c in "\x00\n\r"):
        raise StoreError(f"{text!r} cannot be used as a backup folder: pick a plain folder name.")
    return "'" + text.replace("'", "''") + "'"


def backup(con: duckdb.DuckDBPyConnection, folder: str | Path) -> Path:
    """Write the whole database to ``folder`` (new, or empty) with DuckDB's ``EXPORT DATABASE``; return it.

    The copy is one consistent snapshot (a single transaction), taken while
    sessions go on working: the schema and load scripts plus one Parquet file
    per table, sequences included. :func:`restore` reads it back.
    """
    target = Path(folder).expanduser()
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise StoreError(f"{target} is not an empty folder — back up into a new one, such as one named by the date.")
    quoted = _sql_path(target)
    target.mkdir(parents=True, exist_ok=True)
    cur = con.cursor()
    try:
        cur.execute(f"EXPORT DATABASE {quoted} (FORMAT parquet)")
    finally:
        cur.close()
    return target


def restore(folder: str | Path, new_db_path: str | Path) -> Path:
    """Build a new database file at ``new_db_path`` from a :func:`backup` folder; return its path.

    Never overwrites: the file must not exist yet (point ``BACKPLAN_DB`` at it
    afterwards). A backup from an older Backplan is brought up to date. Run
    only on backups you made: the folder's SQL scripts are executed as they are.
    """
    source = Path(folder).expanduser()
    missing = [name for name in BACKUP_FILES if not (source / name).is_file()]
    if missing:
        raise StoreError(f"{source} is not a Backplan backup: it has no {missing[0]}.")
    target = Path(new_db_path).expanduser()
    if target.exists():
        raise StoreError(f"{target} already exists — restore into a new file, then point BACKPLAN_DB at it.")
    quoted = _sql_path(source)
    target.parent.mkdir(parents=True, exist_ok=True)
    con = _open(target, read_only=False)
    try:
        con.execute(f"IMPORT DATABASE {quoted}")
        if schema_version(con) == 0:
            raise StoreError(f"{source} is a DuckDB export, but not of a Backplan database.")
        migrate(con)
    except BaseException:
        con.close()
        for leftover in (target, target.with_name(target.name + ".wal")):
            leftover.unlink(missing_ok=True)
        raise
    con.close()
    return target
