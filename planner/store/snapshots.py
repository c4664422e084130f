"""Pipeline snapshots: a team's open deals as uploaded on a date, for week-over-week diffs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb
import pandas as pd
import pyarrow as pa

from planner.access import Viewer
from planner.store import Connection, StoreError, _query, retry_conflicts, transaction
from planner.store.ownership import authorise

__all__ = [
    "SnapshotSummary",
    "get_snapshot",
    "latest_snapshot_date",
    "list_snapshots",
    "save_snapshot",
    "slip_counts",
    "snapshot_deals",
    "stage_history",
]


_SNAPSHOT_COLUMNS = ("deal_id", "owner", "account", "stage", "outcome", "amount", "close_date", "forecast_category")


@dataclass(frozen=True, slots=True)
class SnapshotSummary:
    """One stored snapshot of a team's pipeline."""

    snapshot_date: date
    team: str
    deals: int
    open_amount: float


def _write_snapshot(cur: duckdb.DuckDBPyConnection, team: str, snapshot_date: date, deals: pd.DataFrame) -> None:
    # An export without a forecast category stores '' for each deal, as the column's default says.
    frame = deals.loc[:, list(_SNAPSHOT_COLUMNS[:-1])].copy()
    category = deals["forecast_category"] if "forecast_category" in deals.columns else pd.Series("", deals.index)
    frame["forecast_category"] = category.fillna("").astype(str).str.strip()
    frame = frame.drop_duplicates("deal_id")
    frame["close_date"] = pd.to_datetime(frame["close_date"]).dt.date
    cur.execute("DELETE FROM pipeline_snapshots WHERE snapshot_date = ? AND team = ?", [snapshot_date, team])
    cur.register("new_snapshot", frame)
    cur.execute(
        "INSERT INTO pipeline_snapshots (snapshot_date, team, deal_id, owner, account, stage, outcome, amount,"
        " close_date, forecast_category) SELECT ?, ?, deal_id, owner, account, stage, outcome, amount, close_date,"
        " forecast_category FROM new_snapshot",
        [snapshot_date, team],
    )
    cur.unregister("new_snapshot")


@retry_conflicts
def save_snapshot(
    con: duckdb.DuckDBPyConnection, viewer: Viewer | None, team: str, snapshot_date: date, deals: pd.DataFrame
) -> int:
    """Store a team's pipeline as of ``snapshot_date`` (replacing that day's), in one transaction.

    ``deals`` has deal_id, owner, account, stage, outcome, amount and close_date, and may have
    forecast_category (the CRM's words, kept as exported); a deal ID that appears twice is stored
    once. Returns the number of deals stored.
    """
    if deals.empty:
        raise StoreError("The snapshot has no deals: upload an export of the open pipeline.")
    with transaction(con) as cur:
        authorise(viewer, lambda v: v.can_review(team), "Only this team's manager or sales ops can store its pipeline.")
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


def snapshot_deals(con: Connection, team: str, snapshot_date: date) -> pa.Table:
    """One snapshot's deals as an Arrow table, in no order: what :func:`planner.team.snapshot_diff` joins.

    From DuckDB, Arrow comes straight out of its columns (about a third of the time pandas takes for
    50,000 deals); from PostgreSQL, through the cursor's DataFrame.
    """
    sql = f"SELECT {', '.join(_SNAPSHOT_COLUMNS)} FROM pipeline_snapshots WHERE team = ? AND snapshot_date = ?"
    cur = con.cursor()
    try:
        if isinstance(cur, duckdb.DuckDBPyConnection):
            return cur.sql(sql, params=[team, snapshot_date]).to_arrow_table()
        return pa.Table.from_pandas(cur.execute(sql, [team, snapshot_date]).df(), preserve_index=False)
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


def latest_snapshot_date(con: duckdb.DuckDBPyConnection, team: str, upto: date | None = None) -> date | None:
    """The team's newest snapshot on or before ``upto`` (any date when None)."""
    row = _query(
        con,
        "SELECT max(snapshot_date) FROM pipeline_snapshots WHERE team = ? AND (? IS NULL OR snapshot_date <= ?)",
        [team, upto, upto],
    )
    return row[0][0] if row else None


def stage_history(con: duckdb.DuckDBPyConnection, team: str, upto: date) -> pd.DataFrame:
    """Every earlier sighting (snapshot_date, deal_id, stage) of the deals in the team's latest snapshot up to
    ``upto``: how long each has been at its stage (:func:`planner.forecast.days_at_stage`)."""
    cur = con.cursor()
    try:
        return cur.execute(
            "WITH latest AS (SELECT max(snapshot_date) AS day FROM pipeline_snapshots"
            "  WHERE team = ? AND snapshot_date <= ?)"
            " SELECT s.snapshot_date, s.deal_id, s.stage FROM pipeline_snapshots s"
            " WHERE s.team = ? AND s.snapshot_date <= ? AND s.deal_id IN"
            "  (SELECT deal_id FROM pipeline_snapshots WHERE team = ? AND snapshot_date = (SELECT day FROM latest))"
            " ORDER BY s.deal_id, s.snapshot_date",
            [team, upto, team, upto, team],
        ).df()
    finally:
        cur.close()
