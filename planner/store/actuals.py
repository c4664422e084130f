"""Actuals: what a plan's rep booked and did, week by week (one row per plan and week).

Counts are stored per stage id (``stage_counts``: {"stage id": count}), so a
stage renamed on the Plan page keeps what was recorded for it; reads and whole
week writes speak stage names, resolved against the plan's stages inside the
same transaction. Each week has a ``version``: the Track page's editor writes
only the cells the user changed (:func:`save_actual_cells`), and only onto the
version it read; a week changed meanwhile is refused with what it holds now
(:class:`StaleWeeks`). Every write first takes the plan's row
(:func:`planner.store.plans._lock_plan`), so it cannot land under a plan
deleted at the same moment.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

import duckdb
import pandas as pd

from planner.access import Viewer
from planner.funnel import Stage
from planner.milestones import WeekActual
from planner.store import StaleWrite, StoreError, _query, retry_conflicts, transaction
from planner.store.ownership import authorise_plan
from planner.store.plans import _author, _funnel_stages, _lock_plan, changed_by_words

__all__ = [
    "REVENUE_FIELD",
    "WON_FIELD",
    "ActualCell",
    "RecordedWeek",
    "ReviewActuals",
    "StaleWeeks",
    "get_actuals",
    "get_recorded_weeks",
    "review_actuals",
    "save_actual_cells",
    "save_actuals",
]

#: The field of an :class:`ActualCell` holding the week's revenue; a stage's count has its stage id.
REVENUE_FIELD = "revenue"
#: The field of an :class:`ActualCell` holding the deals won that week.
WON_FIELD = "deals_won"

_PLAN_GONE = "This plan has just been deleted in another session — nothing was saved."


@dataclass(frozen=True, slots=True)
class ActualCell:
    """One changed cell of a week: ``field`` is :data:`REVENUE_FIELD`, :data:`WON_FIELD` or a stage's id."""

    week_start: date
    field: str | int
    value: float


@dataclass(frozen=True, slots=True)
class RecordedWeek:
    """A week as stored: what it holds, its version (0 for a week nothing is recorded for), who changed it last."""

    actual: WeekActual
    version: int
    changed_at: datetime | None = None
    #: The name of whoever changed it last ("" when sign-in was off).
    changed_by: str = ""


class StaleWeeks(StaleWrite):
    """Weeks changed since the caller read them; ``weeks`` holds what they hold now."""

    def __init__(self, weeks: tuple[RecordedWeek, ...]) -> None:
        self.weeks = weeks
        first = weeks[0]
        when = f" at {first.changed_at:%d %b %Y %H:%M}" if first.changed_at else ""
        super().__init__(
            f"The week of {first.actual.week_start:%d %b %Y} was changed {changed_by_words(first.changed_by)}{when} "
            "since you read it — your change was not saved."
        )


_WEEK_COLUMNS = (
    "a.week_start, a.revenue, a.deals_won, a.stage_counts, a.daily_revenue, a.version, a.updated_at,"
    " coalesce(who.name, a.updated_by)"
)


def _counts_by_name(counts: str, stages: Sequence[Stage]) -> dict[str, int]:
    """Stored counts (by stage id) named as the plan names its stages now; a stage no longer in it is left out."""
    stored = json.loads(counts)
    return {s.name: int(stored[str(s.id)]) for s in stages if str(s.id) in stored}


def _days(daily: str) -> dict[date, float]:
    return {date.fromisoformat(day): float(amount) for day, amount in json.loads(daily).items()}


def _recorded(row: tuple, stages: Sequence[Stage]) -> RecordedWeek:
    week, revenue, deals, counts, daily, version, changed_at, changed_by = row
    return RecordedWeek(
        WeekActual(week, float(revenue), int(deals), _counts_by_name(counts, stages), _days(daily)),
        int(version),
        changed_at,
        changed_by or "",
    )


def get_recorded_weeks(con: duckdb.DuckDBPyConnection, plan_id: int) -> list[RecordedWeek]:
    """Every recorded week of a plan with its version, in date order; counts named as the plan names its stages."""
    rows = _query(
        con,
        f"SELECT {_WEEK_COLUMNS}, p.funnel FROM actuals a JOIN plans p ON p.id = a.plan_id"
        " LEFT JOIN reps who ON who.id = a.updated_by_rep_id"
        " WHERE a.plan_id = ? AND p.deleted_at IS NULL ORDER BY a.week_start",
        [plan_id],
    )
    if not rows:
        return []
    stages = _funnel_stages(rows[0][-1])
    return [_recorded(row[:-1], stages) for row in rows]


def get_actuals(con: duckdb.DuckDBPyConnection, plan_id: int) -> list[WeekActual]:
    """Every recorded week of a plan, in date order (none for a deleted plan)."""
    return [week.actual for week in get_recorded_weeks(con, plan_id)]


def _stored_rows(cur: duckdb.DuckDBPyConnection, plan_id: int, weeks: Sequence[date]) -> dict[date, tuple]:
    rows = cur.execute(
        f"SELECT {_WEEK_COLUMNS} FROM actuals a LEFT JOIN reps who ON who.id = a.updated_by_rep_id"
        " WHERE a.plan_id = ? AND list_contains(?::DATE[], a.week_start)",
        [plan_id, list(weeks)],
    ).fetchall()
    return {row[0]: row for row in rows}


def _upsert(
    cur: duckdb.DuckDBPyConnection,
    plan_id: int,
    week: date,
    values: tuple[float, int, dict[str, int], dict[str, float]],
    exists: bool,
    viewer: Viewer | None,
) -> None:
    revenue, deals, counts, daily = values
    by_rep, by_name = _author(viewer)
    fields = [float(revenue), int(deals), json.dumps(counts, sort_keys=True), json.dumps(daily, sort_keys=True)]
    if exists:
        cur.execute(
            "UPDATE actuals SET revenue = ?, deals_won = ?, stage_counts = ?, daily_revenue = ?,"
            " version = version + 1, updated_at = now(), updated_by_rep_id = ?, updated_by = ?"
            " WHERE plan_id = ? AND week_start = ?",
            [*fields, by_rep, by_name, plan_id, week],
        )
    else:
        cur.execute(
            "INSERT INTO actuals (plan_id, week_start, revenue, deals_won, stage_counts, daily_revenue,"
            " updated_by_rep_id, updated_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [plan_id, week, *fields, by_rep, by_name],
        )


def _amount(value: float, what: str) -> float:
    number = float(value)
    if not math.isfinite(number) or number < 0:
        raise StoreError(f"{what} must be a number of 0 or more.")
    return number


@retry_conflicts
def save_actual_cells(
    con: duckdb.DuckDBPyConnection,
    viewer: Viewer | None,
    plan_id: int,
    cells: Sequence[ActualCell],
    versions: Mapping[date, int],
) -> None:
    """Write only these cells, each onto the version of its week the caller read, in one transaction.

    ``versions`` maps each week to the version read (0, or missing, for a week
    with nothing recorded). If any week has changed since, nothing is written
    and :class:`StaleWeeks` carries what those weeks hold now. Every other cell
    of a week keeps what it holds. Editing a week's revenue drops its day-by-day
    split (it no longer adds up). ``viewer`` must own the plan, and is recorded as who changed the week.
    """
    if not cells:
        return
    with transaction(con) as cur:
        authorise_plan(cur, viewer, plan_id)
        stages = _lock_plan(cur, plan_id)
        if stages is None:
            raise StoreError(_PLAN_GONE)
        stage_ids = {s.id for s in stages}
        unknown = [c for c in cells if c.field not in (REVENUE_FIELD, WON_FIELD) and c.field not in stage_ids]
        if unknown:
            raise StoreError(
                "A stage of this plan was changed in another session, so that column is no longer in it — "
                "the table now shows the plan as it is; nothing was saved."
            )
        weeks = sorted({c.week_start for c in cells})
        stored = _stored_rows(cur, plan_id, weeks)
        stale = [w for w in weeks if (int(stored[w][5]) if w in stored else 0) != versions.get(w, 0)]
        if stale:
            raise StaleWeeks(tuple(_recorded(stored[w], stages) for w in stale if w in stored))
        for week in weeks:
            row = stored.get(week)
            revenue = float(row[1]) if row else 0.0
            deals = int(row[2]) if row else 0
            counts: dict[str, int] = json.loads(row[3]) if row else {}
            daily: dict[str, float] = json.loads(row[4]) if row else {}
            for cell in (c for c in cells if c.week_start == week):
                if cell.field == REVENUE_FIELD:
                    revenue, daily = _amount(cell.value, "Revenue"), {}
                elif cell.field == WON_FIELD:
                    deals = int(_amount(cell.value, "Deals won"))
                else:
                    counts[str(cell.field)] = int(_amount(cell.value, "A stage count"))
            _upsert(cur, plan_id, week, (revenue, deals, counts, daily), row is not None, viewer)


#: A week as stored: revenue, deals won, counts by stage id, revenue by day (ISO dates).
_StoredWeek = tuple[float, int, dict[str, int], dict[str, float]]


def _as_stored(weeks: Sequence[WeekActual], stages: Sequence[Stage]) -> list[_StoredWeek]:
    """``weeks`` as stored: amounts checked, counts moved from the plan's stage names to its stage ids.

    Refused with :class:`StoreError` when a count names a stage the plan does not have.
    """
    ids = {s.name.strip().casefold(): str(s.id) for s in stages}
    unknown = sorted({name for w in weeks for name in w.stage_counts if name.strip().casefold() not in ids})
    if unknown:
        raise StoreError(f"This plan has no stage called “{unknown[0]}” — nothing was saved.")
    return [
        (
            _amount(w.revenue, "Revenue"),
            int(_amount(w.deals_won, "Deals won")),
            {ids[name.strip().casefold()]: int(count) for name, count in w.stage_counts.items()},
            {day.isoformat(): float(amount) for day, amount in w.daily_revenue.items()},
        )
        for w in weeks
    ]


def _write_weeks(
    cur: duckdb.DuckDBPyConnection, plan_id: int, weeks: Sequence[WeekActual], viewer: Viewer | None
) -> None:
    stages = _lock_plan(cur, plan_id)
    if stages is None:
        raise StoreError(_PLAN_GONE)
    values = _as_stored(weeks, stages)
    stored = _stored_rows(cur, plan_id, [w.week_start for w in weeks])
    for w, week_values in zip(weeks, values, strict=True):
        _upsert(cur, plan_id, w.week_start, week_values, w.week_start in stored, viewer)


def _insert_new_actuals(
    cur: duckdb.DuckDBPyConnection, weeks_by_plan: Sequence[tuple[int, Sequence[WeekActual]]]
) -> None:
    """Many plans' weeks in one statement, for plans just written in this transaction (a demo, or a test team of
    thousands of reps): nothing is there to replace, and a row at a time would take minutes.

    Stored as :func:`save_actuals` stores them: counts by the plan's stage ids, revenue by day, version 1.
    """
    wanted = [(plan_id, weeks) for plan_id, weeks in weeks_by_plan if weeks]
    if not wanted:
        return
    funnels = dict(
        cur.execute(
            "SELECT p.id, p.funnel FROM plans p JOIN (SELECT unnest(?::INTEGER[]) AS id) chosen ON chosen.id = p.id"
            " WHERE p.deleted_at IS NULL",
            [[plan_id for plan_id, _ in wanted]],
        ).fetchall()
    )
    rows = []
    for plan_id, weeks in wanted:
        if plan_id not in funnels:
            raise StoreError(_PLAN_GONE)
        stored = _as_stored(weeks, _funnel_stages(funnels[plan_id]))
        for w, (revenue, deals, counts, daily) in zip(weeks, stored, strict=True):
            rows.append(
                (
                    plan_id,
                    w.week_start,
                    revenue,
                    deals,
                    json.dumps(counts, sort_keys=True),
                    json.dumps(daily, sort_keys=True),
                )
            )
    frame = pd.DataFrame(
        rows, columns=["plan_id", "week_start", "revenue", "deals_won", "stage_counts", "daily_revenue"]
    )
    cur.register("new_actuals", frame)
    try:
        cur.execute(
            "INSERT INTO actuals (plan_id, week_start, revenue, deals_won, stage_counts, daily_revenue)"
            " SELECT plan_id, week_start, revenue, deals_won, stage_counts, daily_revenue FROM new_actuals"
        )
    finally:
        cur.unregister("new_actuals")


@retry_conflicts
def save_actuals(
    con: duckdb.DuckDBPyConnection, viewer: Viewer | None, plan_id: int, weeks: Sequence[WeekActual]
) -> None:
    """Replace each of these weeks of a plan whole (an import), in one transaction; counts by stage name.

    Refused with :class:`StoreError` when the plan is gone, or a count names a
    stage the plan does not have.
    """
    if not weeks:
        return
    with transaction(con) as cur:
        authorise_plan(cur, viewer, plan_id)
        _write_weeks(cur, plan_id, weeks, viewer)


@dataclass(frozen=True, slots=True)
class ReviewActuals:
    """What a team review reads of one plan's actuals (as :func:`planner.milestones.bookings` has them)."""

    weekly_revenue: dict[date, float] = field(default_factory=dict)
    #: revenue by day, for the weeks recorded day by day
    daily_revenue: dict[date, float] = field(default_factory=dict)
    #: stage name → count, of the plan's latest week up to the review's day only
    latest_counts: dict[date, dict[str, int]] = field(default_factory=dict)


def review_actuals(
    con: duckdb.DuckDBPyConnection, plans: Mapping[int, Sequence[Stage]], as_of: date
) -> dict[int, ReviewActuals]:
    """What a team review reads of many plans' actuals, in one query, by plan id (``plans``: each one's stages).

    Each plan's revenue by week and by day, and the stage counts of its latest week up to ``as_of`` only
    (the only week the review's activity check can show), named as the plan names its stages now. A
    deleted plan reads as having nothing. A team of 2,000 reps has 100,000 weeks of actuals; reading
    every week's counts took most of the review.
    """
    rows = _query(
        con,
        "SELECT a.plan_id, a.week_start, a.revenue, CASE WHEN a.daily_revenue <> '{}' THEN a.daily_revenue END,"
        " CASE WHEN a.week_start = max(a.week_start) FILTER (WHERE a.week_start <= ?) OVER (PARTITION BY a.plan_id)"
        " THEN a.stage_counts END"
        " FROM actuals a JOIN (SELECT unnest(?::INTEGER[]) AS id) chosen ON chosen.id = a.plan_id"
        " JOIN plans p ON p.id = a.plan_id WHERE p.deleted_at IS NULL",
        [as_of, list(plans)],
    )
    out = {plan_id: ReviewActuals() for plan_id in plans}
    for plan_id, week, revenue, daily, counts in rows:
        got = out[plan_id]
        got.weekly_revenue[week] = float(revenue)
        if daily is not None:
            got.daily_revenue.update(_days(daily))
        if counts is not None:
            got.latest_counts[week] = _counts_by_name(counts, plans[plan_id])
    return out
