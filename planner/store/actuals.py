"""Actuals: what a plan's rep booked and did, week by week (one row per plan and week)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date

import duckdb
import pandas as pd

from planner.milestones import WeekActual
from planner.store import _query, retry_conflicts, transaction

__all__ = ["get_actuals", "review_actuals", "save_actuals"]


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


def _insert_new_actuals(
    cur: duckdb.DuckDBPyConnection, weeks_by_plan: Sequence[tuple[int, Sequence[WeekActual]]]
) -> None:
    """Many plans' weeks in one statement, for plans just written (a demo or a test team of thousands of reps):
    nothing is there to replace, and one row at a time would take minutes."""
    frame = pd.DataFrame(
        [
            (plan_id, w.week_start, float(w.revenue), int(w.deals_won), json.dumps(w.stage_counts, sort_keys=True))
            for plan_id, weeks in weeks_by_plan
            for w in weeks
        ],
        columns=["plan_id", "week_start", "revenue", "deals_won", "stage_counts"],
    )
    if frame.empty:
        return
    cur.register("new_actuals", frame)
    try:
        cur.execute(
            "INSERT INTO actuals (plan_id, week_start, revenue, deals_won, stage_counts)"
            " SELECT plan_id, week_start, revenue, deals_won, stage_counts FROM new_actuals"
        )
    finally:
        cur.unregister("new_actuals")


@retry_conflicts
def save_actuals(con: duckdb.DuckDBPyConnection, plan_id: int, weeks: Sequence[WeekActual]) -> None:
    """Write each week's actuals for a plan, replacing what the week had, in one transaction."""
    if not weeks:
        return
    with transaction(con) as cur:
        _write_actuals(cur, plan_id, weeks)


def _week_actual(week: object, revenue: float, deals: int, counts: str) -> WeekActual:
    return WeekActual(week, float(revenue), int(deals), json.loads(counts))  # type: ignore[arg-type]


def get_actuals(con: duckdb.DuckDBPyConnection, plan_id: int) -> list[WeekActual]:
    """Every recorded week of a plan, in date order."""
    rows = _query(
        con,
        "SELECT week_start, revenue, deals_won, stage_counts FROM actuals WHERE plan_id = ? ORDER BY week_start",
        [plan_id],
    )
    return [_week_actual(*row) for row in rows]


def review_actuals(
    con: duckdb.DuckDBPyConnection, plan_ids: Sequence[int], as_of: date
) -> dict[int, tuple[dict[date, float], dict[date, dict[str, int]]]]:
    """What a team review reads of many plans' actuals, in one query: each plan's revenue by week, and the stage
    counts of its latest week up to ``as_of`` (the only week the review's activity check can show).

    A team of 2,000 reps has 100,000 weeks of actuals; reading every week's counts took most of the review.
    """
    rows = _query(
        con,
        "SELECT a.plan_id, a.week_start, a.revenue,"
        " CASE WHEN a.week_start = max(a.week_start) FILTER (WHERE a.week_start <= ?) OVER (PARTITION BY a.plan_id)"
        " THEN a.stage_counts END"
        " FROM actuals a JOIN (SELECT unnest(?::INTEGER[]) AS id) chosen ON chosen.id = a.plan_id",
        [as_of, list(plan_ids)],
    )
    out: dict[int, tuple[dict[date, float], dict[date, dict[str, int]]]] = {i: ({}, {}) for i in plan_ids}
    for plan_id, week, revenue, counts in rows:
        weekly, latest = out[plan_id]
        weekly[week] = float(revenue)
        if counts is not None:
            latest[week] = json.loads(counts)
    return out
