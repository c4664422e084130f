"""Account plans: accounts, goals, SMART objectives, actions, planning-cycle steps and reviews."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import duckdb

from planner.access import Viewer
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
    match_owners,
)
from planner.store import StoreError, _query, retry_conflicts, transaction
from planner.store.ownership import (
    account_of_action,
    account_of_goal,
    account_of_objective,
    authorise,
    authorise_account,
    checked_id,
    rep_owner,
)
from planner.store.plans import PlanSummary

__all__ = [
    "AccountDeals",
    "AccountsImport",
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


#: An account's columns, the owner's name as on file now (else the label kept), from ``accounts a``.
_ACCOUNT_COLUMNS = (
    "a.id, a.name, a.period_start, a.period_end, coalesce(r.name, a.owner), a.segment, a.aims, a.priorities,"
    " a.timeframes, a.risk_tolerance, a.notes, CAST(a.created_at AS DATE), a.owner_rep_id"
)
_ACCOUNTS = "accounts a LEFT JOIN reps r ON r.id = a.owner_rep_id"


_OBJECTIVE_COLUMNS = "id, goal_id, statement, metric, target_value, current_value, rationale, due_date, is_revenue"


_ACTION_COLUMNS = "id, account_id, description, objective_id, owner, due_date, status"


@dataclass(frozen=True, slots=True)
class CrmAccount:
    """An account named in an imported CRM export, with its most frequent owner."""

    name: str
    owner: str
    deals: int


@dataclass(frozen=True, slots=True)
class AccountsImport:
    """What an import of CRM accounts did: the new accounts' ids, and those whose owner matched nobody on file.

    ``unassigned`` pairs an imported account's name with its CRM owner's name, kept as its label.
    """

    ids: tuple[int, ...]
    unassigned: tuple[tuple[str, str], ...] = ()

    @property
    def note(self) -> str:
        """One line for the page: what happened to the accounts whose owner is not on file ("" when none)."""
        if not self.unassigned:
            return ""
        owners = sorted({owner for _, owner in self.unassigned if owner})
        named = f" ({', '.join(owners[:5])}{', …' if len(owners) > 5 else ''})" if owners else ""
        count = len(self.unassigned)
        return (
            f"{count} account{'s' if count != 1 else ''} imported unassigned: "
            f"{'their' if count != 1 else 'its'} CRM owner matches nobody on file{named}. "
            "Only sales ops see them until they give each an owner."
        )


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
    (account_id, name, start, end, owner, segment, aims, priorities, timeframes, risk, notes, created, owner_id) = row
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
        owner_rep_id=owner_id,
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


def _owner_to_be(cur: duckdb.DuckDBPyConnection, viewer: Viewer | None, owner_rep_id: int | None) -> str:
    """Refuse unless ``viewer`` may give an account to rep ``owner_rep_id`` (None: nobody); return their name."""
    owner = None if owner_rep_id is None else rep_owner(cur, checked_id(owner_rep_id, "That owner"))
    if owner_rep_id is not None and owner is None:
        raise StoreError("That owner is no longer on file — pick another.")
    authorise(viewer, lambda v: v.owns(owner), _OWN_ONLY)
    if owner is None:
        return ""
    row = cur.execute("SELECT name FROM reps WHERE id = ?", [owner.rep_id]).fetchone()
    return str(row[0]) if row else ""


#: What a rep or manager is told when giving an account to someone who is not theirs (or to nobody).
_OWN_ONLY = "You can give an account only to yourself or, as a manager, to your team; sales ops to anyone or nobody."


def _insert_account(
    cur: duckdb.DuckDBPyConnection,
    name: str,
    owner_rep_id: int | None,
    owner_label: str,
    segment: str,
    start: date,
    end: date,
) -> int:
    if cur.execute("SELECT 1 FROM accounts WHERE lower(name) = lower(?)", [name]).fetchone():
        raise StoreError(f"There is already an account called “{name}”.")
    row = cur.execute(
        "INSERT INTO accounts (name, owner, owner_rep_id, segment, period_start, period_end)"
        " VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
        [name, owner_label.strip(), owner_rep_id, segment.strip(), start, end],
    ).fetchone()
    assert row is not None
    return int(row[0])


@retry_conflicts
def add_account(
    con: duckdb.DuckDBPyConnection,
    viewer: Viewer | None,
    name: str,
    period_start: date,
    period_end: date,
    *,
    owner_rep_id: int | None = None,
    segment: str = "",
) -> int:
    """Add an account owned by rep ``owner_rep_id`` (None: nobody yet) for ``period_start`` to ``period_end``.

    Returns its id. ``viewer`` may give it to themselves or, as a manager, to their team; sales ops to anyone.
    """
    name = _check_account_fields(name, period_start, period_end)
    with transaction(con) as cur:
        owner_name = _owner_to_be(cur, viewer, owner_rep_id)
        return _insert_account(cur, name, owner_rep_id, owner_name, segment, period_start, period_end)


@retry_conflicts
def add_accounts(
    con: duckdb.DuckDBPyConnection,
    viewer: Viewer | None,
    accounts: Sequence[CrmAccount],
    period_start: date,
    period_end: date,
) -> AccountsImport:
    """Add several accounts from a CRM export in one transaction, all or nothing; names already present are skipped.

    Each CRM owner's name is matched to a rep once, here (:func:`planner.accounts.match_owners`);
    an account whose owner matches nobody is imported unassigned, the name kept as its label,
    and only sales ops may import those. Any account ``viewer`` may not own refuses the whole import.
    """
    ids, unassigned = [], []
    with transaction(con) as cur:
        people = [(int(i), str(n)) for i, n in cur.execute("SELECT id, name FROM reps").fetchall()]
        owners = match_owners([a.owner for a in accounts], people)
        for account in accounts:
            name = _check_account_fields(account.name, period_start, period_end)
            if cur.execute("SELECT 1 FROM accounts WHERE lower(name) = lower(?)", [name]).fetchone():
                continue
            owner_id = owners[account.owner]
            owner_name = _owner_to_be(cur, viewer, owner_id)
            ids.append(_insert_account(cur, name, owner_id, owner_name or account.owner, "", period_start, period_end))
            if owner_id is None:
                unassigned.append((name, account.owner.strip()))
    return AccountsImport(tuple(ids), tuple(unassigned))


@retry_conflicts
def update_account(con: duckdb.DuckDBPyConnection, viewer: Viewer | None, account: Account) -> None:
    """Save an account's details, its owner (``owner_rep_id``) and the customer's view.

    ``viewer`` must own the account as saved now and may give it only to someone they may give accounts to.
    """
    name = _check_account_fields(account.name, account.period_start, account.period_end)
    if account.risk_tolerance not in RISK_TOLERANCES:
        raise StoreError(f"Risk tolerance must be one of {', '.join(RISK_TOLERANCES)}.")
    priorities = [p.strip() for p in account.priorities if str(p).strip()]
    with transaction(con) as cur:
        before = authorise_account(cur, viewer, account.id)
        owner_name = _owner_to_be(cur, viewer, account.owner_rep_id)
        if account.owner_rep_id is None:  # unassigned: a label kept from before ids, else none
            label = cur.execute("SELECT owner FROM accounts WHERE id = ?", [account.id]).fetchone()
            owner_name = str(label[0]) if before is None and label else ""
        clash = cur.execute(
            "SELECT 1 FROM accounts WHERE lower(name) = lower(?) AND id <> ?", [name, account.id]
        ).fetchone()
        if clash:
            raise StoreError(f"There is already an account called “{name}”.")
        cur.execute(
            "UPDATE accounts SET name = ?, owner = ?, owner_rep_id = ?, segment = ?, period_start = ?,"
            " period_end = ?, aims = ?, priorities = ?, timeframes = ?, risk_tolerance = ?, notes = ?,"
            " updated_at = now() WHERE id = ?",
            [
                name,
                owner_name,
                account.owner_rep_id,
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
        )


@retry_conflicts
def delete_account(con: duckdb.DuckDBPyConnection, viewer: Viewer | None, account_id: int) -> None:
    """Delete an account with its whole plan, all or nothing."""
    with transaction(con) as cur:
        authorise_account(cur, viewer, account_id)
        cur.execute("DELETE FROM objectives WHERE goal_id IN (SELECT id FROM goals WHERE account_id = ?)", [account_id])
        for table in ("actions", "goals", "cycle_steps", "reviews"):
            cur.execute(f"DELETE FROM {table} WHERE account_id = ?", [account_id])
        cur.execute("DELETE FROM accounts WHERE id = ?", [account_id])


def list_accounts(con: duckdb.DuckDBPyConnection) -> list[Account]:
    """Every account, by name."""
    return [
        _account_from_row(row) for row in _query(con, f"SELECT {_ACCOUNT_COLUMNS} FROM {_ACCOUNTS} ORDER BY a.name")
    ]


def list_account_plans(con: duckdb.DuckDBPyConnection, account_id: int | None = None) -> list[AccountPlan]:
    """Every account's plan (or only ``account_id``'s), by account name."""
    where = "WHERE ? IS NULL OR account_id = ?"
    params = [account_id, account_id]
    accounts = _query(
        con, f"SELECT {_ACCOUNT_COLUMNS} FROM {_ACCOUNTS} WHERE ? IS NULL OR a.id = ? ORDER BY a.name", params
    )
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
def add_goal(con: duckdb.DuckDBPyConnection, viewer: Viewer | None, account_id: int, category: str, title: str) -> int:
    """Add a goal to an account's plan; return its id."""
    if category not in GOAL_CATEGORIES:
        raise StoreError(f"A goal's category is one of: {', '.join(GOAL_CATEGORIES)}.")
    if not title.strip():
        raise StoreError("A goal needs a title.")
    with transaction(con) as cur:
        authorise_account(cur, viewer, account_id)
        row = cur.execute(
            "INSERT INTO goals (account_id, category, title) VALUES (?, ?, ?) RETURNING id",
            [account_id, category, title.strip()],
        ).fetchone()
    assert row is not None
    return int(row[0])


@retry_conflicts
def delete_goal(con: duckdb.DuckDBPyConnection, viewer: Viewer | None, goal_id: int) -> None:
    """Delete a goal with its objectives and their actions, all or nothing."""
    with transaction(con) as cur:
        authorise_account(cur, viewer, account_of_goal(cur, goal_id), "That goal")
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
def add_objective(con: duckdb.DuckDBPyConnection, viewer: Viewer | None, objective: Objective) -> int:
    """Add an objective under its goal (its ``id`` is ignored); return the new id."""
    if not objective.statement.strip():
        raise StoreError("An objective needs a statement of what will be achieved.")
    with transaction(con) as cur:
        authorise_account(cur, viewer, account_of_goal(cur, objective.goal_id), "That goal")
        row = cur.execute(
            "INSERT INTO objectives (goal_id, statement, metric, target_value, current_value, rationale, due_date,"
            " is_revenue) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            _objective_values(objective),
        ).fetchone()
    assert row is not None
    return int(row[0])


@retry_conflicts
def update_objective(con: duckdb.DuckDBPyConnection, viewer: Viewer | None, objective: Objective) -> None:
    """Save an objective's fields; it stays on its own account (its goal may change to another of that account's)."""
    if not objective.statement.strip():
        raise StoreError("An objective needs a statement of what will be achieved.")
    with transaction(con) as cur:
        account_id = account_of_objective(cur, objective.id)
        authorise_account(cur, viewer, account_id, "That objective")
        if account_of_goal(cur, objective.goal_id) != account_id:
            raise StoreError("That goal is not on this account — pick one of its own goals.")
        cur.execute(
            "UPDATE objectives SET goal_id = ?, statement = ?, metric = ?, target_value = ?, current_value = ?,"
            " rationale = ?, due_date = ?, is_revenue = ? WHERE id = ?",
            [*_objective_values(objective), objective.id],
        )


@retry_conflicts
def delete_objective(con: duckdb.DuckDBPyConnection, viewer: Viewer | None, objective_id: int) -> None:
    """Delete an objective with its actions, all or nothing."""
    with transaction(con) as cur:
        authorise_account(cur, viewer, account_of_objective(cur, objective_id), "That objective")
        cur.execute("DELETE FROM actions WHERE objective_id = ?", [objective_id])
        cur.execute("DELETE FROM objectives WHERE id = ?", [objective_id])


def _check_action(cur: duckdb.DuckDBPyConnection, action: Action) -> list[object]:
    """The action's column values, or StoreError saying what is wrong with it."""
    if not action.description.strip():
        raise StoreError("An action needs a description.")
    if action.status not in ACTION_STATUSES:
        raise StoreError(f"An action's status is one of: {', '.join(ACTION_STATUSES)}.")
    if action.objective_id is not None and account_of_objective(cur, action.objective_id) != action.account_id:
        raise StoreError("That objective no longer exists on this account.")
    return [action.description.strip(), action.objective_id, action.owner.strip(), action.due, action.status]


@retry_conflicts
def add_action(con: duckdb.DuckDBPyConnection, viewer: Viewer | None, action: Action) -> int:
    """Add an action to an account (under an objective, or none); its ``id`` is ignored. Return the new id."""
    with transaction(con) as cur:
        authorise_account(cur, viewer, action.account_id)
        row = cur.execute(
            "INSERT INTO actions (account_id, description, objective_id, owner, due_date, status)"
            " VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            [action.account_id, *_check_action(cur, action)],
        ).fetchone()
    assert row is not None
    return int(row[0])


def _authorise_action(cur: duckdb.DuckDBPyConnection, viewer: Viewer | None, action_id: int) -> int:
    """Refuse unless action ``action_id``'s account is ``viewer``'s; return that account's id."""
    account_id = account_of_action(cur, action_id)
    authorise_account(cur, viewer, account_id, "That action")
    assert account_id is not None
    return account_id


@retry_conflicts
def update_action(con: duckdb.DuckDBPyConnection, viewer: Viewer | None, action: Action) -> None:
    """Change an action's description, objective, owner, due date and status (its account stays)."""
    with transaction(con) as cur:
        if _authorise_action(cur, viewer, action.id) != action.account_id:
            raise StoreError("That action no longer exists — it may have been deleted.")
        values = _check_action(cur, action)
        cur.execute(
            "UPDATE actions SET description = ?, objective_id = ?, owner = ?, due_date = ?, status = ? WHERE id = ?",
            [*values, action.id],
        )


@retry_conflicts
def set_action_status(con: duckdb.DuckDBPyConnection, viewer: Viewer | None, action_id: int, status: str) -> None:
    """Mark an action "to do", "in progress" or "done"."""
    if status not in ACTION_STATUSES:
        raise StoreError(f"An action's status is one of: {', '.join(ACTION_STATUSES)}.")
    with transaction(con) as cur:
        _authorise_action(cur, viewer, action_id)
        cur.execute("UPDATE actions SET status = ? WHERE id = ?", [status, action_id])


@retry_conflicts
def delete_action(con: duckdb.DuckDBPyConnection, viewer: Viewer | None, action_id: int) -> None:
    """Delete one action."""
    with transaction(con) as cur:
        _authorise_action(cur, viewer, action_id)
        cur.execute("DELETE FROM actions WHERE id = ?", [action_id])


@retry_conflicts
def save_cycle(
    con: duckdb.DuckDBPyConnection,
    viewer: Viewer | None,
    account_id: int,
    fiscal_year: int,
    steps: Sequence[CycleStep],
) -> None:
    """Write an account's planning-cycle steps for a fiscal year, replacing those steps, in one transaction."""
    for step in steps:
        if not 1 <= step.step <= len(CYCLE_STEPS):
            raise StoreError(f"A planning cycle has steps 1 to {len(CYCLE_STEPS)}, not {step.step}.")
    with transaction(con) as cur:
        authorise_account(cur, viewer, account_id)
        if steps:
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
def add_review(con: duckdb.DuckDBPyConnection, viewer: Viewer | None, review: Review) -> int:
    """Log a review of an account's plan (its ``id`` is ignored); return the new id."""
    if not review.reviewer.strip():
        raise StoreError("Say who reviewed the plan.")
    with transaction(con) as cur:
        authorise_account(cur, viewer, review.account_id)
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


def owner_plan(
    con: duckdb.DuckDBPyConnection, owner_rep_id: int, period_start: date, period_end: date
) -> PlanSummary | None:
    """The account owner's saved plan: one overlapping the account plan's period, latest first; else None."""
    rows = _query(
        con,
        "SELECT p.id, p.name, p.rep_id, r.name, p.target, p.currency, p.period_start, p.period_end, p.updated_at"
        " FROM plans p JOIN reps r ON r.id = p.rep_id"
        " WHERE p.rep_id = ? AND p.period_start <= ? AND p.period_end >= ? AND p.deleted_at IS NULL"
        " ORDER BY p.period_start DESC, p.updated_at DESC LIMIT 1",
        [owner_rep_id, period_end, period_start],
    )
    return PlanSummary(*rows[0]) if rows else None
