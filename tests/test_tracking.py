"""Tracking by one definition: what is booked by a day, what is due by it, the actuals editor's edits,
the activity pace and a recovery plan that knows what is within reach (planner/milestones.py)."""

from __future__ import annotations

import math
from datetime import date, timedelta

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.funnel import PlanInputs, Stage, build_plan
from planner.milestones import (
    REVENUE_COLUMN,
    WEEK_COLUMN,
    Milestone,
    WeekActual,
    activity_pace,
    actuals_table,
    booked_through,
    build_milestones,
    check_milestones,
    due_by,
    edits_to_apply,
    pace,
    recovery_plan,
)

DECEMBER = (date(2026, 12, 1), date(2026, 12, 31))


# --------------------------------------------------------------------------- booked by a day


def test_a_monday_counts_one_working_day_of_its_weeks_revenue() -> None:
    weeks = {date(2026, 11, 30): 17_000.0, date(2026, 12, 7): 5_000.0}
    assert booked_through(date(2026, 12, 7), weeks, DECEMBER) == 18_000
    assert booked_through(date(2026, 12, 13), weeks, DECEMBER) == 22_000  # its Sunday: all of it
    assert booked_through(date(2026, 12, 6), weeks, DECEMBER) == 17_000


def test_the_week_of_the_as_of_date_counts_whole_as_booked_so_far() -> None:
    weeks = {date(2026, 12, 7): 5_000.0}
    assert booked_through(date(2026, 12, 8), weeks, DECEMBER, as_of=date(2026, 12, 8)) == 5_000
    assert booked_through(date(2026, 12, 8), weeks, DECEMBER, as_of=date(2026, 12, 10)) == 2_000


def test_revenue_recorded_by_day_counts_to_the_day() -> None:
    weeks = {date(2026, 12, 7): 5_000.0}
    daily = {date(2026, 12, 7): 4_000.0, date(2026, 12, 10): 1_000.0}
    assert booked_through(date(2026, 12, 7), weeks, DECEMBER, daily_revenue=daily) == 4_000
    assert booked_through(date(2026, 12, 9), weeks, DECEMBER, daily_revenue=daily) == 4_000


def test_weeks_before_the_period_count_no_revenue() -> None:
    weeks = {date(2026, 11, 16): 9_000.0, date(2026, 11, 30): 1_000.0}
    assert booked_through(date(2026, 12, 31), weeks, DECEMBER) == 1_000


def test_a_holiday_week_is_shared_by_calendar_days() -> None:
    weeks = {date(2026, 12, 21): 7_000.0}
    holidays = (date(2026, 12, 21),)
    assert booked_through(date(2026, 12, 22), weeks, DECEMBER, holiday_weeks=holidays) == pytest.approx(2_000)


@settings(deadline=None)  # what is measured is the answer; this shared machine's timing is not
@given(
    st.dictionaries(st.integers(-3, 6), st.floats(0, 1e6), max_size=8),
    st.integers(-10, 45),
    st.integers(0, 45),
)
def test_what_is_booked_never_goes_down_and_ends_on_every_week_in_the_period(
    revenue: dict[int, float], first: int, more: int
) -> None:
    start, end = DECEMBER
    weeks = {date(2026, 11, 30) + timedelta(weeks=k): v for k, v in revenue.items()}
    day = start + timedelta(days=first)
    assert booked_through(day, weeks, DECEMBER) <= booked_through(day + timedelta(days=more), weeks, DECEMBER) + 1e-6
    in_period = sum(v for w, v in weeks.items() if w + timedelta(days=6) >= start and w <= end)
    assert booked_through(date(2027, 1, 31), weeks, DECEMBER) == pytest.approx(in_period)


# --------------------------------------------------------------------------- due by a day


def test_what_is_due_runs_pro_rata_between_milestones_and_is_each_one_on_its_date() -> None:
    steps = build_milestones(100_000, *DECEMBER, "weekly")
    for step in steps:
        assert due_by(steps, step.due, DECEMBER[0]) == pytest.approx(step.cumulative)
    assert due_by(steps, date(2026, 11, 30), DECEMBER[0]) == 0
    assert due_by(steps, date(2027, 1, 5), DECEMBER[0]) == 100_000
    # Sunday 13 Dec: one of the five working days from the 10 Dec milestone to the 17 Dec one.
    between = steps[1].cumulative + (steps[2].cumulative - steps[1].cumulative) / 5
    assert due_by(steps, date(2026, 12, 13), DECEMBER[0]) == pytest.approx(between)


def test_card_and_chart_judge_a_milestone_the_same_on_its_own_date() -> None:
    steps = build_milestones(100_000, *DECEMBER, "weekly")
    weeks = {date(2026, 11, 30): 13_000.0, date(2026, 12, 7): 25_000.0}
    for step in steps:
        on_the_day = pace(100_000, *DECEMBER, steps, weeks, step.due)
        [check] = [c for c in check_milestones(steps, weeks, step.due, period=DECEMBER) if c.milestone == step]
        assert (check.status == "missed") == on_the_day.behind


# --------------------------------------------------------------------------- the editor's edits

WEEKS = [date(2026, 11, 30) + timedelta(weeks=k) for k in range(5)]
edit_rows = st.dictionaries(
    st.integers(0, 4), st.dictionaries(st.sampled_from([REVENUE_COLUMN, "Meetings"]), st.integers(0, 99), min_size=1)
)


@settings(deadline=None)
@given(edit_rows, edit_rows)
def test_edits_already_applied_are_never_written_again(first: dict, later: dict) -> None:
    table = pd.DataFrame({WEEK_COLUMN: WEEKS, REVENUE_COLUMN: [0.0] * 5, "Meetings": [0] * 5})
    applied = edits_to_apply(table, first, {})
    assert edits_to_apply(table, first, applied) == {}
    merged = {row: {**first.get(row, {}), **later.get(row, {})} for row in first.keys() | later.keys()}
    typed_later = {(WEEKS[row], column): float(v) for row, changes in later.items() for column, v in changes.items()}
    # The next edit writes exactly the cells it changed to something not written yet.
    assert edits_to_apply(table, merged, applied) == {
        cell: value for cell, value in typed_later.items() if applied.get(cell) != value
    }


def test_an_edit_is_keyed_by_week_not_by_row_position() -> None:
    table = pd.DataFrame({WEEK_COLUMN: WEEKS[::-1], REVENUE_COLUMN: [0.0] * 5})
    assert edits_to_apply(table, {"0": {REVENUE_COLUMN: None}}, {}) == {(WEEKS[-1], REVENUE_COLUMN): 0.0}


# --------------------------------------------------------------------------- activity and the actuals table

LAGGED = PlanInputs(100_000, 5_000, *DECEMBER, stages=(Stage("Calls", 2, 14), Stage("Meetings", 2, 7)))


def test_the_actuals_table_and_the_activity_pace_cover_the_weeks_before_the_period() -> None:
    plan = build_plan(LAGGED)
    table = actuals_table(plan, [])
    assert table[WEEK_COLUMN].iloc[0] == date(2026, 11, 9) and table["Note"].iloc[0] == "before the period"
    pace_now = activity_pace(plan, [WeekActual(date(2026, 11, 9), stage_counts={"Calls": 3})], date(2026, 11, 18))
    calls = pace_now.weeks[pace_now.weeks["Stage"] == "Calls"]
    done = calls["Done"].tolist()
    assert done[:2] == [3, 0] and pd.isna(done[2])  # recorded, nothing recorded, after this week
    assert pace_now.stages[0].name == "Calls" and pace_now.stages[0].planned == int(plan.weekly[0][1])


def test_to_do_this_week_is_the_plan_plus_the_shortfall_spread_over_the_weeks_left() -> None:
    plan = build_plan(LAGGED)
    planned = [int(n) for n in plan.weekly[0]]
    now = activity_pace(plan, [], date(2026, 11, 25)).stages[0]  # the third week; nothing done in two
    behind = planned[0] + planned[1]
    assert now.gap == -(behind + planned[2])
    assert now.weeks_left == max(k for k, n in enumerate(planned) if n) - 2 + 1
    assert now.to_do == math.ceil(planned[2] + behind / now.weeks_left)
    ahead = activity_pace(plan, [WeekActual(date(2026, 11, 9), stage_counts={"Calls": 999})], date(2026, 11, 25))
    assert ahead.stages[0].to_do == 0


# --------------------------------------------------------------------------- within reach


def test_a_pace_beyond_the_best_week_or_twice_the_plan_says_what_would_do_instead() -> None:
    inputs = PlanInputs(100_000, 5_000, *DECEMBER)
    steps = build_milestones(100_000, *DECEMBER)
    progress = pace(100_000, *DECEMBER, steps, {}, date(2026, 12, 18))
    recovery = recovery_plan(build_plan(inputs), progress, [WeekActual(date(2026, 11, 30), 0, 0, {"Meetings": 9})])
    meetings = next(s for s in recovery.stages if s.name == "Meetings")
    assert meetings.best_week == 9 and not meetings.within_reach
    assert recovery.instead is not None
    assert recovery.instead.deal_size > inputs.deal_size
    assert recovery.instead.end_date > inputs.period_end
    assert recovery.instead.pipeline == pytest.approx(3 * 100_000)
    early = pace(100_000, *DECEMBER, steps, {}, date(2026, 12, 1))
    assert recovery_plan(build_plan(inputs), early).instead is None  # the plan's own pace is within reach


def test_no_milestone_is_upcoming_and_missed_at_once() -> None:
    steps = [Milestone(date(2026, 12, 10), 10.0)]
    assert [c.status for c in check_milestones(steps, {}, date(2026, 12, 9), period=DECEMBER)] == ["upcoming"]
