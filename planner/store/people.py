"""People: reps, managers and sales ops, their teams, roles and sign-in emails."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from planner.store import StoreError, _query, retry_conflicts, transaction

__all__ = ["ROLES", "Rep", "add_rep", "is_empty", "list_reps", "list_teams", "update_rep"]


ROLES = ("rep", "manager", "ops")


@dataclass(frozen=True, slots=True)
class Rep:
    id: int
    name: str
    team: str
    role: str
    email: str = ""


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
