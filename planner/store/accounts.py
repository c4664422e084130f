"""Account plans: accounts, goals, SMART objectives, actions, planning-cycle steps and reviews."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import duckdb

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
from planner.store import StoreError, _query, retry_conflicts, transaction
from planner.store.plans import PlanSummary

__all__ = [
    "AccountDeals",
    "CrmAccount",
    "OpenDeal",
    "account_deals",
    "add_account",
    "add_accounts",
    "add_action",
    "add_goal",
    "add_objective",
    "add_review",
    "crm_accounts",
    "delete_account",
    "delete_action",
    "delete_goal",
    "delete_objective",
    "get_account_plan",
    "get_cycle",
    "list_account_plans",
    "list_accounts",
    "list_cycle_steps",
    "owner_plan",
    "save_cycle",
    "set_action_status",
    "update_account",
    "update_action",
    "update_objective",
]


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
        "WITH latest AS (SELECT DISTINCT ON (deal_id) trim(account) AS account, trim(owner) AS owner"
        " FROM deals ORDER BY deal_id, profile_id DESC),"
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
        " SELECT DISTINCT ON (deal_id) deal_id, amount, outcome"
        " FROM deals WHERE lower(trim(account)) = lower(trim(?)) ORDER BY deal_id, profile_id DESC) latest"
        " WHERE outcome = 'won'",
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
        " WHERE lower(r.name) = lower(trim(?)) AND p.period_start <= ? AND p.period_end >= ? AND p.deleted_at IS NULL"
        " ORDER BY p.period_start DESC, p.updated_at DESC LIMIT 1",
        [owner, period_end, period_start],
    )
    return PlanSummary(*rows[0]) if rows else None
