"""Calibration profiles: a calibration's figures and the deals behind them, stored together."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import duckdb
import pandas as pd

from planner.access import Viewer
from planner.store import StoreError, _query, retry_conflicts, transaction
from planner.store.ownership import authorise

__all__ = ["ProfileSummary", "delete_profile", "get_profile", "list_profiles", "profile_month_shares", "save_profile"]


def _profile_exists(cur: duckdb.DuckDBPyConnection, profile_id: int | None) -> bool:
    if not isinstance(profile_id, int) or isinstance(profile_id, bool):
        return False
    return cur.execute("SELECT 1 FROM profiles WHERE id = ?", [profile_id]).fetchone() is not None


def _profile_shares(cur: duckdb.DuckDBPyConnection, profile_id: int | None) -> list[float]:
    row = cur.execute("SELECT result FROM profiles WHERE id = ?", [profile_id]).fetchone() if profile_id else None
    shares = json.loads(row[0]).get("seasonality") if row else None
    if not shares:
        raise StoreError(
            "The historical milestone shape follows a calibration profile's seasonality: "
            "apply a profile with won deals first, or pick another shape."
        )
    return [float(v) for v in shares]


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


#: What anyone but sales ops is told on saving or deleting a calibration profile.
_ONLY_OPS = "Only sales ops can save or delete calibration profiles."

_DEAL_COLUMNS = ("deal_id", "owner", "account", "stage", "outcome", "amount", "created", "closed")


@retry_conflicts
def save_profile(
    con: duckdb.DuckDBPyConnection,
    viewer: Viewer | None,
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
    try:
        with transaction(con) as cur:
            authorise(viewer, lambda v: v.can_calibrate, _ONLY_OPS)
            return _insert_profile(cur, name, source_file, result, deals, rows_read, rows_bad)
    except duckdb.ConstraintException as error:
        if "profiles" in str(error) or "name" in str(error):
            raise StoreError(f"There is already a profile called “{name}” — pick another name.") from error
        raise StoreError(f"The deals could not be stored: {error}") from error


def _insert_profile(
    cur: duckdb.DuckDBPyConnection,
    name: str,
    source_file: str,
    result: dict,
    deals: pd.DataFrame,
    rows_read: int,
    rows_bad: int,
    *,
    demo: bool = False,
) -> int:
    """Insert a profile and its deals on the caller's transaction; return its id. ``demo``: the demo team's."""
    frame = deals.loc[:, list(_DEAL_COLUMNS)].copy()
    frame["created"] = pd.to_datetime(frame["created"]).dt.date
    frame["closed"] = pd.to_datetime(frame["closed"]).dt.date
    row = cur.execute(
        "INSERT INTO profiles (name, source_file, result, rows_read, rows_used, rows_bad, demo)"
        " VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
        [name, source_file, json.dumps(result), rows_read, len(frame), rows_bad, demo],
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
def delete_profile(con: duckdb.DuckDBPyConnection, viewer: Viewer | None, profile_id: int) -> None:
    """Delete a profile and its deals; plans that used it keep their numbers and forget the link."""
    with transaction(con) as cur:
        authorise(viewer, lambda v: v.can_calibrate, _ONLY_OPS)
        cur.execute("UPDATE plans SET profile_id = NULL WHERE profile_id = ?", [profile_id])
        cur.execute("DELETE FROM deals WHERE profile_id = ?", [profile_id])
        cur.execute("DELETE FROM profiles WHERE id = ?", [profile_id])
