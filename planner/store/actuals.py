"""Actuals: what a plan's rep booked and did, week by week (one row per plan and week)."""

from __future__ import annotations

import json
from collections.abc import Sequence

import duckdb
import pandas as pd

from planner.milestones import WeekActual
from planner.store import _query, retry_conflicts, transaction

__all__ = ["actuals_by_plan", "get_actuals", "save_actuals"]


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


def actuals_by_plan(con: duckdb.DuckDBPyConnection, plan_ids: Sequence[int]) -> dict[int, list[WeekActual]]:
    """:func:`get_actuals` of many plans in one query (a team review reads thousands), by plan id."""
    rows = _query(
        con,
        "SELECT a.plan_id, a.week_start, a.revenue, a.deals_won, a.stage_counts FROM actuals a"
        " JOIN (SELECT unnest(?::INTEGER[]) AS id) chosen ON chosen.id = a.plan_id ORDER BY a.plan_id, a.week_start",
        [list(plan_ids)],
    )
    out: dict[int, list[WeekActual]] = {plan_id: [] for plan_id in plan_ids}
    for plan_id, *row in rows:
        out[plan_id].append(_week_actual(*row))
    return out
