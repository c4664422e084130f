"""Whose a thing is, read inside the write that changes it, and the refusal when it is not the viewer's.

Every public write of the store calls one of these first, on its own
transaction's cursor, so the answer is the database's at the moment of the
write, never what a page drew or a client sent. The rules themselves are
:class:`planner.access.Viewer`'s; here is only the walk up each ownership chain:

- action → account, objective → goal → account, goal → account, and the account's
  cycle steps and reviews → the account → its owner rep → their team;
- actuals and milestones → plan → rep → team.

An account's row is taken (``UPDATE … SET writes = writes + 1``, which DuckDB's
MVCC sees as a conflict with any other transaction doing the same, where a no-op
``SET x = x`` is not one; PostgreSQL takes it as a row lock) so that two writes to
one account plan, such as adding an objective under a goal another session is
deleting, conflict, and the one run again sees the other's result. Deleting an
account takes its row the same way first, since DuckDB sees no conflict between
an update and a delete of one row.
"""

from __future__ import annotations

from collections.abc import Callable
from numbers import Integral

import duckdb

from planner.access import Owner, Viewer
from planner.store import Refused, StoreError

__all__ = [
    "SIGNED_OUT",
    "account_of_action",
    "account_of_goal",
    "account_of_objective",
    "authorise",
    "authorise_account",
    "authorise_plan",
    "authorise_rep",
    "checked_id",
    "rep_owner",
]

#: What a write without a viewer (signed out, or an email on no team) is told.
SIGNED_OUT = "You are not signed in as anyone on a Backplan team: sign in again to change anything."


def authorise(viewer: Viewer | None, allowed: Callable[[Viewer], bool], refused: str) -> Viewer:
    """``viewer`` if it passes ``allowed``; else :class:`Refused` with ``refused`` (or :data:`SIGNED_OUT`)."""
    if viewer is None:
        raise Refused(SIGNED_OUT)
    if not allowed(viewer):
        raise Refused(refused)
    return viewer


def _as_id(value: object) -> int | None:
    """A whole number (numpy's too) as an int; None for anything else, text and booleans included."""
    return int(value) if isinstance(value, Integral) and not isinstance(value, bool) else None


def _not_yours(what: str) -> str:
    return f"{what} is not yours to change — it belongs to someone outside your team, or no longer exists."


def _owned(viewer: Viewer | None, found: bool, owner: Owner | None, what: str) -> Owner | None:
    """Refuse unless ``viewer`` owns what was ``found`` (owned by ``owner``); a thing not found is gone."""
    viewer = authorise(viewer, lambda _: True, "")
    if not found:
        if viewer.sees_everyone:  # for everyone else, gone and not theirs read the same
            raise StoreError(f"{what} no longer exists — it may have been deleted.")
        raise Refused(_not_yours(what))
    if not viewer.owns(owner):
        raise Refused(_not_yours(what))
    return owner


def rep_owner(cur: duckdb.DuckDBPyConnection, rep_id: int | None) -> Owner | None:
    """Rep ``rep_id`` as an owner (their id and current team), or None when there is no such rep."""
    rep_id = _as_id(rep_id)
    if rep_id is None:
        return None
    row = cur.execute("SELECT id, team FROM reps WHERE id = ?", [rep_id]).fetchone()
    return Owner(int(row[0]), str(row[1])) if row else None


def authorise_rep(cur: duckdb.DuckDBPyConnection, viewer: Viewer | None, rep_id: int | None) -> Owner:
    """Refuse unless ``viewer`` may hold plans for rep ``rep_id`` (themselves, their team's, anyone's)."""
    owner = rep_owner(cur, rep_id)
    _owned(viewer, owner is not None, owner, "That rep")
    assert owner is not None
    return owner


def authorise_plan(cur: duckdb.DuckDBPyConnection, viewer: Viewer | None, plan_id: int | None) -> Owner | None:
    """Refuse unless saved plan ``plan_id`` (and so its milestones and actuals) is ``viewer``'s: plan → rep → team."""
    plan_id = _as_id(plan_id)
    row = (
        cur.execute(
            "SELECT r.id, r.team FROM plans p LEFT JOIN reps r ON r.id = p.rep_id"
            " WHERE p.id = ? AND p.deleted_at IS NULL",
            [plan_id],
        ).fetchone()
        if plan_id is not None
        else None
    )
    owner = Owner(int(row[0]), str(row[1])) if row and row[0] is not None else None
    return _owned(viewer, row is not None, owner, "That plan")


def authorise_account(
    cur: duckdb.DuckDBPyConnection, viewer: Viewer | None, account_id: int | None, what: str = "That account"
) -> Owner | None:
    """Refuse unless account ``account_id``'s plan is ``viewer``'s: account → owner rep → team. Locks the account's row.

    ``account_id`` None stands for a goal, objective or action that was not found: ``what`` names it.
    """
    account_id = _as_id(account_id)
    row = (
        cur.execute(
            "UPDATE accounts SET writes = writes + 1 WHERE id = ? RETURNING owner_rep_id", [account_id]
        ).fetchone()
        if account_id is not None
        else None
    )
    owner = rep_owner(cur, row[0]) if row else None
    return _owned(viewer, row is not None, owner, what)


def checked_id(value: object, what: str) -> int:
    """``value`` as an id, else StoreError naming ``what``: a client's ``"7"`` never stands for row 7."""
    found = _as_id(value)
    if found is None:
        raise StoreError(f"{what} is not one on the list — pick it again.")
    return found


def _parent(cur: duckdb.DuckDBPyConnection, sql: str, item_id: object) -> int | None:
    item_id = _as_id(item_id)
    row = cur.execute(sql, [item_id]).fetchone() if item_id is not None else None
    return int(row[0]) if row and row[0] is not None else None


def account_of_goal(cur: duckdb.DuckDBPyConnection, goal_id: object) -> int | None:
    """The account goal ``goal_id`` belongs to, or None when there is no such goal."""
    return _parent(cur, "SELECT account_id FROM goals WHERE id = ?", goal_id)


def account_of_objective(cur: duckdb.DuckDBPyConnection, objective_id: object) -> int | None:
    """The account objective ``objective_id`` belongs to (through its goal), or None."""
    return _parent(
        cur, "SELECT g.account_id FROM objectives o JOIN goals g ON g.id = o.goal_id WHERE o.id = ?", objective_id
    )


def account_of_action(cur: duckdb.DuckDBPyConnection, action_id: object) -> int | None:
    """The account action ``action_id`` belongs to, or None."""
    return _parent(cur, "SELECT account_id FROM actions WHERE id = ?", action_id)
