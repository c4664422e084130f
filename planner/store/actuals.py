"""Actuals: what a plan's rep booked and did, week by week (one row per plan and week)."""

from __future__ import annotations

import json
from collections.abc import Sequence

import duckdb

from planner.access import Viewer
from planner.milestones import WeekActual
from planner.store import _query, retry_conflicts, transaction
from planner.store.ownership import authorise_plan

__all__ = ["get_actuals", "save_actuals"]


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
def save_actuals(
    con: duckdb.DuckDBPyConnection, viewer: Viewer | None, plan_id: int, weeks: Sequence[WeekActual]
) -> None:
    """Write each week's actuals for a plan, replacing what the week had, in one transaction."""
    if not weeks:
        return
    with transaction(con) as cur:
        authorise_plan(cur, viewer, plan_id)
        _write_actuals(cur, plan_id, weeks)


def get_actuals(con: duckdb.DuckDBPyConnection, plan_id: int) -> list[WeekActual]:
    """Every recorded week of a plan, in date order."""
    rows = _query(
        con,
        "SELECT week_start, revenue, deals_won, stage_counts FROM actuals WHERE plan_id = ? ORDER BY week_start",
        [plan_id],
    )
    return [WeekActual(week, float(revenue), int(deals), json.loads(counts)) for week, revenue, deals, counts in rows]
