"""People: reps, managers and sales ops, their teams, roles and sign-in emails."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb

from planner.access import Viewer
from planner.store import StaleWrite, StoreError, _query, retry_conflicts, transaction
from planner.store.ownership import authorise, checked_id

__all__ = ["ROLES", "Rep", "add_rep", "is_empty", "list_reps", "list_teams", "update_rep"]


ROLES = ("rep", "manager", "ops")


@dataclass(frozen=True, slots=True)
class Rep:
    """A person on file. ``version`` counts their changes; ``changed_by`` and ``changed_at`` tell the last one."""

    id: int
    name: str
    team: str
    role: str
    email: str = ""
    version: int = 1
    changed_by: str = ""
    changed_at: datetime | None = None
    demo: bool = False


_REP_COLUMNS = "id, name, team, role, email, version, changed_by, changed_at, demo"


def _insert_rep(
    cur: duckdb.DuckDBPyConnection,
    name: str,
    team: str,
    role: str,
    email: str = "",
    *,
    by: str = "",
    demo: bool = False,
) -> int:
    email = _check_email(cur, email)
    row = cur.execute(
        "INSERT INTO reps (name, team, role, email, changed_by, changed_at, demo)"
        " VALUES (?, ?, ?, ?, ?, now(), ?) RETURNING id",
        [name, team, role, email, by, demo],
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


def _check_role(role: object) -> str:
    if role not in ROLES:
        raise StoreError(f"Role must be one of {', '.join(ROLES)}.")
    return str(role)


def _refused_adding(role: str) -> str:
    if role != "rep":
        return "Only sales ops can add a manager or someone in sales ops."
    return "You can add reps only to your own team; sales ops add anyone anywhere."


@retry_conflicts
def add_rep(
    con: duckdb.DuckDBPyConnection,
    viewer: Viewer | None,
    name: str,
    team: str = "",
    role: str = "rep",
    email: str = "",
) -> int:
    """Add a person and return their id: sales ops add anyone anywhere, a manager a rep to their own team."""
    name = name.strip()
    if not name:
        raise StoreError("A rep needs a name.")
    role = _check_role(role)
    try:
        with transaction(con) as cur:
            who = authorise(viewer, lambda v: v.may_add_rep(team, role), _refused_adding(role))
            return _insert_rep(cur, name, team.strip(), role, email, by=who.signature)
    except duckdb.ConstraintException:
        raise StoreError(f"There is already a rep called “{name}”.") from None


def _stale(rep: Rep) -> StaleWrite:
    """The refusal of an edit made from an older screen than ``rep`` as saved now."""
    when = f"{rep.changed_at:%d %b %Y %H:%M}" if rep.changed_at else "a moment ago"
    now = f"team {rep.team or '(none)'}, role {rep.role}, sign-in {rep.email or '(none)'}"
    return StaleWrite(
        f"{rep.name} was changed by {rep.changed_by or 'someone else'} at {when} — now {now}. "
        "Your change was not saved: the list shows what is saved now; make it again if it still applies."
    )


@retry_conflicts
def update_rep(
    con: duckdb.DuckDBPyConnection,
    viewer: Viewer | None,
    rep_id: int,
    *,
    team: str | None = None,
    role: str | None = None,
    email: str | None = None,
    version: int | None = None,
) -> Rep:
    """Change a person's team, role or sign-in email (each left as it is when None); sales ops only.

    ``version`` is the person's version on the screen the change was made on: if
    anyone changed them since, the change is refused (:class:`StaleWrite`, saying who,
    when and what is saved now) rather than applied over it. Returns them as saved.
    """
    rep_id = checked_id(rep_id, "That person")
    if role is not None:
        role = _check_role(role)
    with transaction(con) as cur:
        who = authorise(viewer, lambda v: v.can_manage_people, "Only sales ops can change teams, roles and sign-ins.")
        # Touching the row first makes a concurrent edit of this person conflict: one of the two runs again.
        locked = cur.execute(f"UPDATE reps SET writes = writes + 1 WHERE id = ? RETURNING {_REP_COLUMNS}", [rep_id])
        row = locked.fetchone()
        if row is None:
            raise StoreError("That person is no longer on file — they may have been removed.")
        current = Rep(*row)
        if version is not None and version != current.version:
            raise _stale(current)
        if email is not None:
            email = _check_email(cur, email, rep_id)
        saved = cur.execute(
            "UPDATE reps SET team = coalesce(?, team), role = coalesce(?, role), email = coalesce(?, email),"
            f" version = version + 1, changed_by = ?, changed_at = now() WHERE id = ? RETURNING {_REP_COLUMNS}",
            [None if team is None else team.strip(), role, email, who.signature, rep_id],
        ).fetchone()
        assert saved is not None
        return Rep(*saved)


def list_reps(con: duckdb.DuckDBPyConnection) -> list[Rep]:
    """Every person on file, by team then name."""
    return [Rep(*row) for row in _query(con, f"SELECT {_REP_COLUMNS} FROM reps ORDER BY team, name")]


def is_empty(con: duckdb.DuckDBPyConnection) -> bool:
    """True before anyone has added a rep or a plan."""
    row = _query(con, "SELECT (SELECT count(*) FROM reps) + (SELECT count(*) FROM plans WHERE deleted_at IS NULL)")
    return row[0][0] == 0


def list_teams(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """Every team with a rep or a snapshot, and its manager's name ("" when it has none)."""
    rows = _query(
        con,
        "SELECT t.team, coalesce(max(r.name) FILTER (WHERE r.role = 'manager'), '') FROM"
        " (SELECT team FROM reps WHERE team <> '' UNION SELECT team FROM pipeline_snapshots) t"
        " LEFT JOIN reps r ON r.team = t.team GROUP BY t.team ORDER BY t.team",
    )
    return [(team, manager) for team, manager in rows]
