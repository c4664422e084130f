"""Sign-ins: one record per sign-in (issuer, subject, the identity token's issue time), its last use and sign-out.

:mod:`planner.sessions` decides from a record whether a sign-in still counts;
these writes never change what the pages show, so they leave the data generation
(and every cached read) as it is.
"""

from __future__ import annotations

from datetime import datetime

import duckdb

from planner.sessions import SignInKey, SignInRecord
from planner.store import _query, retry_conflicts, transaction

__all__ = ["end_sign_in", "get_sign_in", "note_sign_in"]


def get_sign_in(con: duckdb.DuckDBPyConnection, key: SignInKey) -> SignInRecord:
    """What is on file of sign-in ``key``, with the issue time of that person's latest signed-out sign-in."""
    rows = _query(
        con,
        "SELECT s.last_seen, s.signed_out_at IS NOT NULL,"
        " (SELECT max(issued_at) FROM sign_ins WHERE issuer = ? AND subject = ? AND signed_out_at IS NOT NULL)"
        " FROM (SELECT 1) one LEFT JOIN sign_ins s ON s.issuer = ? AND s.subject = ? AND s.issued_at = ?",
        [key.issuer, key.subject, key.issuer, key.subject, key.issued_at],
    )
    last_seen, signed_out, latest = rows[0]
    return SignInRecord(last_seen, bool(signed_out), latest)


@retry_conflicts
def _write_sign_in(con: duckdb.DuckDBPyConnection, key: SignInKey, now: datetime, signed_out: bool) -> None:
    """Note that sign-in ``key`` was used at ``now`` (its first use adds its record), and signed out if so.

    A sign-out, once written, keeps its first time.
    """
    with transaction(con, changes_data=False) as cur:
        cur.execute(
            "INSERT INTO sign_ins (issuer, subject, issued_at, first_seen, last_seen, signed_out_at)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (issuer, subject, issued_at) DO UPDATE SET"
            " last_seen = greatest(sign_ins.last_seen, excluded.last_seen),"
            " signed_out_at = coalesce(sign_ins.signed_out_at, excluded.signed_out_at)",
            [key.issuer, key.subject, key.issued_at, now, now, now if signed_out else None],
        )


def note_sign_in(con: duckdb.DuckDBPyConnection, key: SignInKey, now: datetime) -> None:
    """Write down that sign-in ``key`` was used at ``now`` (its first use adds its record)."""
    _write_sign_in(con, key, now, signed_out=False)


def end_sign_in(con: duckdb.DuckDBPyConnection, key: SignInKey, now: datetime) -> None:
    """Sign-in ``key`` was signed out at ``now``: neither it nor any older sign-in of that person counts again."""
    _write_sign_in(con, key, now, signed_out=True)
