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

import json
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb

from planner.demo import DemoTeam
from planner.funnel import PlanInputs, Stage
from planner.milestones import Milestone, WeekActual, build_milestones

__all__ = [
    "LATEST_VERSION",
    "MIGRATIONS",
    "PlanSummary",
    "Rep",
    "SavedPlan",
    "StoreError",
    "WeekActual",
    "add_rep",
    "connect",
    "default_path",
    "delete_plan",
    "duplicate_plan",
    "get_actuals",
    "get_milestones",
    "get_plan",
    "is_empty",
    "list_plans",
    "list_reps",
    "load_team",
    "migrate",
    "save_actuals",
    "save_plan",
    "schema_version",
    "transaction",
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
        con = duckdb.connect(str(target), read_only=True)
        if schema_version(con) != LATEST_VERSION:
            con.close()
            raise StoreError(f"The database at {target} needs upgrading — open it in the app once first.")
        return con
    target.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(target))
    migrate(con)
    return con


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """A cursor inside one transaction: committed on success, rolled back on any error."""
    cur = con.cursor()
    cur.execute("BEGIN TRANSACTION")
    try:
        yield cur
    except BaseException:
        cur.execute("ROLLBACK")
        raise
    else:
        cur.execute("COMMIT")
    finally:
        cur.close()


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


def _insert_rep(cur: duckdb.DuckDBPyConnection, name: str, team: str, role: str) -> int:
    row = cur.execute(
        "INSERT INTO reps (name, team, role) VALUES (?, ?, ?) RETURNING id", [name, team, role]
    ).fetchone()
    assert row is not None
    return int(row[0])


def add_rep(con: duckdb.DuckDBPyConnection, name: str, team: str = "", role: str = "rep") -> int:
    """Add a rep and return their id."""
    name = name.strip()
    if not name:
        raise StoreError("A rep needs a name.")
    if role not in ROLES:
        raise StoreError(f"Role must be one of {', '.join(ROLES)}.")
    try:
        with transaction(con) as cur:
            return _insert_rep(cur, name, team.strip(), role)
    except duckdb.ConstraintException:
        raise StoreError(f"There is already a rep called “{name}”.") from None


def list_reps(con: duckdb.DuckDBPyConnection) -> list[Rep]:
    """Every rep, by team then name."""
    return [Rep(*row) for row in _query(con, "SELECT id, name, team, role FROM reps ORDER BY team, name")]


def is_empty(con: duckdb.DuckDBPyConnection) -> bool:
    """True before anyone has added a rep or a plan."""
    row = _query(con, "SELECT (SELECT count(*) FROM reps) + (SELECT count(*) FROM plans)")
    return row[0][0] == 0


# --------------------------------------------------------------------------- plans


def _funnel_json(inputs: PlanInputs) -> str:
    return json.dumps([{"name": s.name, "ratio": s.ratio, "lag_days": s.lag_days} for s in inputs.stages])


def _plan_milestones(inputs: PlanInputs, shape: str, cadence: str, custom: Sequence[float]) -> list[Milestone]:
    return build_milestones(
        inputs.target,
        inputs.period_start,
        inputs.period_end,
        cadence,
        shape,
        custom_to_go=list(custom) or None,
        holiday_weeks=inputs.holiday_weeks,
    )


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
) -> int:
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
    ]
    if plan_id is None:
        row = cur.execute(
            "INSERT INTO plans (rep_id, name, target, currency, period_start, period_end, avg_deal_size,"
            " coverage_ratio, milestone_shape, funnel, won_stage, holiday_weeks, cadence, milestone_custom)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            values,
        ).fetchone()
        assert row is not None
        plan_id = int(row[0])
    else:
        updated = cur.execute(
            "UPDATE plans SET rep_id = ?, name = ?, target = ?, currency = ?, period_start = ?, period_end = ?,"
            " avg_deal_size = ?, coverage_ratio = ?, milestone_shape = ?, funnel = ?, won_stage = ?,"
            " holiday_weeks = ?, cadence = ?, milestone_custom = ?, updated_at = now()"
            " WHERE id = ? RETURNING id",
            [*values, plan_id],
        ).fetchall()
        if not updated:
            raise StoreError(f"Plan {plan_id} no longer exists — it may have been deleted.")
        cur.execute("DELETE FROM milestones WHERE plan_id = ?", [plan_id])
    steps = _plan_milestones(inputs, shape, cadence, custom)
    cur.executemany(
        "INSERT INTO milestones (plan_id, due_date, cumulative_target) VALUES (?, ?, ?)",
        [[plan_id, m.due, m.cumulative] for m in steps],
    )
    return plan_id


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
) -> int:
    """Insert a plan (or replace plan ``plan_id``) and its milestones in one transaction; return its id.

    ``rep`` is a rep's id, or the name of a new rep to add in the same
    transaction.  Raises :class:`planner.milestones.MilestoneError` for
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
                rep = _insert_rep(cur, new_rep, "", "rep")
            return _write_plan(cur, rep, name, inputs, currency, milestone_shape, cadence, milestone_custom, plan_id)
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


def list_plans(con: duckdb.DuckDBPyConnection, rep_id: int | None = None) -> list[PlanSummary]:
    """Saved plans, newest period first; one rep's if ``rep_id`` is given."""
    rows = _query(
        con,
        "SELECT p.id, p.name, p.rep_id, r.name, p.target, p.currency, p.period_start, p.period_end, p.updated_at"
        " FROM plans p JOIN reps r ON r.id = p.rep_id"
        " WHERE ? IS NULL OR p.rep_id = ?"
        " ORDER BY p.period_start DESC, r.name, p.name",
        [rep_id, rep_id],
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
    )


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


# --------------------------------------------------------------------------- a whole team at once


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
            rep_ids[rep.name] = _insert_rep(cur, rep.name, rep.team, rep.role)
        for plan in team.plans:
            plan_id = _write_plan(
                cur, rep_ids[plan.rep], plan.name, plan.inputs, "USD", plan.milestone_shape, "auto", (), None
            )
            if plan.weeks:
                _write_actuals(cur, plan_id, plan.weeks)
            plan_ids.append(plan_id)
    return plan_ids
