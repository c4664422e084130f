"""Backward milestones, pace and the recovery plan."""

from __future__ import annotations

import itertools
import math
import warnings
from datetime import date, timedelta

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from planner.funnel import FunnelPlan, PlanInputs, Stage, build_plan
from planner.milestones import (
    SHAPES,
    Milestone,
    MilestoneError,
    Pace,
    blend_seasonality,
    booked_by,
    build_milestones,
    checkpoint_dates,
    choose_cadence,
    months_without_history,
    pace,
    plan_pace,
    recovery_plan,
    validate_milestones,
)

DECEMBER = (date(2026, 12, 1), date(2026, 12, 28))  # four weeks, target date a Monday


def amounts(steps: list[Milestone]) -> list[float]:
    return [round(m.cumulative, 2) for m in steps]


# --------------------------------------------------------------------------- checkpoints


def test_the_fifty_thousand_month_entered_backwards() -> None:
    steps = build_milestones(50_000, *DECEMBER, shape="custom", custom_to_go=[42_000, 30_000, 20_000])
    assert amounts(steps) == [20_000, 30_000, 42_000, 50_000]
    assert [m.due for m in steps] == [date(2026, 12, 7), date(2026, 12, 14), date(2026, 12, 21), date(2026, 12, 28)]


def test_custom_values_can_be_given_by_weeks_to_go() -> None:
    steps = build_milestones(50_000, *DECEMBER, shape="custom", custom_to_go={3: 20_000, 1: 42_000, 2: 30_000})
    assert amounts(steps) == [20_000, 30_000, 42_000, 50_000]


def test_front_loaded_gives_the_first_week_more_than_a_quarter() -> None:
    steps = build_milestones(50_000, *DECEMBER, shape="front-loaded")
    assert steps[0].cumulative / 50_000 > 0.25
    assert amounts(steps) == [20_000, 35_000, 45_000, 50_000]


def test_back_loaded_is_the_hockey_stick() -> None:
    steps = build_milestones(50_000, *DECEMBER, shape="back-loaded")
    assert amounts(steps) == [5_000, 15_000, 30_000, 50_000]


def test_linear_follows_working_days() -> None:
    steps = build_milestones(50_000, *DECEMBER, shape="linear")
    assert amounts(steps) == [12_500, 25_000, 37_500, 50_000]


def test_historical_takes_one_share_per_checkpoint() -> None:
    steps = build_milestones(100, *DECEMBER, shape="historical", shares=[1, 1, 1, 7])
    assert amounts(steps) == [10, 20, 30, 100]


def test_historical_takes_twelve_calendar_month_shares() -> None:
    shares = [1.0] * 12
    shares[11] = 3.0  # December sells three times an ordinary month
    steps = build_milestones(140_000, date(2027, 1, 1), date(2027, 12, 31), shape="historical", shares=shares)
    assert len(steps) == 12
    assert steps[0].cumulative == pytest.approx(10_000)
    assert steps[-1].cumulative - steps[-2].cumulative == pytest.approx(30_000)


def test_historical_months_without_history_are_blended_with_the_linear_shape() -> None:
    # Calibrated from March to December: January and February had no closes. Taken as it was, a calendar
    # year's milestones were $0 at the end of both months (and Track said "ahead" with nothing booked).
    shares = [0, 0] + [0.1] * 10
    steps = build_milestones(120_000, date(2027, 1, 1), date(2027, 12, 31), shape="historical", shares=shares)
    assert steps[0].cumulative == pytest.approx(10_000)  # an even twelfth, not 0
    assert steps[1].cumulative == pytest.approx(20_000)
    assert months_without_history(shares) == (1, 2)
    # A full year of history is used as it is.
    year = [1.0] * 11 + [3.0]
    assert list(blend_seasonality(year)) == pytest.approx([s / 14 for s in year])


def test_historical_with_the_wrong_number_of_shares_says_what_it_needs() -> None:
    with pytest.raises(MilestoneError, match=r"one share per checkpoint \(4\) or one per calendar month \(12\), got 3"):
        build_milestones(50_000, *DECEMBER, shape="historical", shares=[1, 2, 3])


def test_cadence_is_weekly_for_a_quarter_and_monthly_for_a_year() -> None:
    assert choose_cadence(date(2026, 10, 1), date(2026, 12, 31)) == "weekly"
    assert choose_cadence(date(2027, 1, 1), date(2027, 12, 31)) == "monthly"
    year = checkpoint_dates(date(2027, 1, 1), date(2027, 12, 31))
    assert year[0] == date(2027, 1, 31) and year[1] == date(2027, 2, 28) and year[-1] == date(2027, 12, 31)


def test_checkpoints_count_back_from_the_target_date() -> None:
    dues = checkpoint_dates(date(2026, 12, 1), date(2026, 12, 31), "weekly")
    assert dues[-1] == date(2026, 12, 31)
    assert all((b - a).days == 7 for a, b in itertools.pairwise(dues))
    assert dues[0] == date(2026, 12, 3)  # the first bucket is the short one


# --------------------------------------------------------------------------- validation


def test_a_decreasing_custom_checkpoint_is_named() -> None:
    with pytest.raises(MilestoneError) as raised:
        build_milestones(50_000, *DECEMBER, shape="custom", custom_to_go=[42_000, 45_000, 20_000])
    [problem] = raised.value.problems
    assert problem.field == "milestones[2]"
    assert "21 Dec 2026 (42,000) is below the one before it (45,000 on 14 Dec 2026)" in problem.message


def test_a_custom_checkpoint_not_given_is_filled_between_its_neighbours_by_the_fill_shape() -> None:
    # Two weeks to go is not given: the linear shape puts it where the working days say, between
    # 20,000 (7 Dec) and 42,000 (21 Dec); the 14th is halfway in working days (5 of 10).
    steps = build_milestones(50_000, *DECEMBER, shape="custom", custom_to_go={1: 42_000, 3: 20_000})
    assert amounts(steps) == [20_000, 31_000, 42_000, 50_000]
    assert [m.filled for m in steps] == [False, True, False, False]
    back = build_milestones(50_000, *DECEMBER, shape="custom", custom_to_go={1: 42_000, 3: 20_000}, fill="back-loaded")
    assert 20_000 < back[1].cumulative < 31_000  # the hockey stick climbs later


def test_the_whole_of_december_fills_its_first_checkpoint_and_says_so() -> None:
    # 1–31 Dec has five checkpoints (the 3rd, 10th, 17th, 24th and 31st): typed backwards, 42,000; 30,000;
    # 20,000 leave the 3rd, four weeks to go, to the chosen shape. It was refused: "Enter the amount…".
    steps = build_milestones(50_000, date(2026, 12, 1), date(2026, 12, 31), shape="custom",
                             custom_to_go=[42_000, 30_000, 20_000])  # fmt: skip
    assert [m.due.day for m in steps] == [3, 10, 17, 24, 31]
    assert amounts(steps) == [7_500, 20_000, 30_000, 42_000, 50_000]  # 3 of the 8 working days to the 10th
    assert [m.filled for m in steps] == [True, False, False, False, False]


@pytest.mark.parametrize("year", [2025, 2026, 2027, 2028, 2029])
@pytest.mark.parametrize("month", range(1, 13))
def test_the_fifty_thousand_month_works_on_any_month(year: int, month: int) -> None:
    # A £50,000 month: £42,000 a week before the end, £30,000 two weeks before, £20,000 three weeks before.
    start = date(year, month, 1)
    end = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    for fill in ("linear", "front-loaded", "back-loaded"):
        steps = build_milestones(50_000, start, end, shape="custom", custom_to_go=[42_000, 30_000, 20_000], fill=fill)
        typed = [m for m in steps if not m.filled]
        assert [(m.due, m.cumulative) for m in typed] == [
            (end - timedelta(weeks=3), 20_000),
            (end - timedelta(weeks=2), 30_000),
            (end - timedelta(weeks=1), 42_000),
            (end, 50_000),
        ]
        assert all(m.filled and m.due < typed[0].due and 0 <= m.cumulative <= 20_000 for m in steps[: -len(typed)])
        assert [m.cumulative for m in steps] == sorted(m.cumulative for m in steps)


def test_a_custom_checkpoint_before_the_period_is_refused() -> None:
    with pytest.raises(MilestoneError, match="falls before it starts"):
        build_milestones(50_000, *DECEMBER, shape="custom", custom_to_go=[42_000, 30_000, 20_000, 10_000])


def test_validation_catches_a_last_checkpoint_off_target_and_one_outside_the_period() -> None:
    steps = [Milestone(date(2026, 11, 20), 10_000), Milestone(date(2026, 12, 28), 45_000)]
    problems = validate_milestones(steps, 50_000, *DECEMBER)
    messages = " ".join(p.message for p in problems)
    assert "falls outside the period" in messages
    assert "must equal the target (50,000)" in messages


def test_unknown_shape_and_bad_target_are_refused() -> None:
    with pytest.raises(MilestoneError, match="Unknown milestone shape"):
        build_milestones(50_000, *DECEMBER, shape="zigzag")
    with pytest.raises(MilestoneError, match="target must be more than 0"):
        build_milestones(0, *DECEMBER)


# --------------------------------------------------------------------------- pace


def test_pace_behind_the_milestone() -> None:
    steps = build_milestones(50_000, *DECEMBER)
    progress = pace(50_000, *DECEMBER, steps, {date(2026, 11, 30): 9_000, date(2026, 12, 7): 6_000}, date(2026, 12, 14))
    assert progress.booked == 15_000
    assert progress.attainment == pytest.approx(0.3)
    assert progress.latest_milestone == steps[1]
    assert progress.gap_to_milestone == pytest.approx(-10_000)
    assert progress.behind
    # 10 of 20 working days gone: 15,000 a fortnight projects to 30,000.
    assert progress.run_rate_projection == pytest.approx(15_000 * 20 / 10)
    assert progress.remaining == 35_000
    assert progress.working_weeks_left == pytest.approx(2)
    assert progress.required_per_week == pytest.approx(17_500)
    assert progress.planned_per_week == pytest.approx(12_500)


def test_pace_ignores_weeks_after_today_and_counts_an_overshoot() -> None:
    steps = build_milestones(50_000, *DECEMBER)
    weeks = {date(2026, 11, 30): 30_000, date(2026, 12, 21): 99_999}
    progress = pace(50_000, *DECEMBER, steps, weeks, date(2026, 12, 8))
    assert progress.booked == 30_000
    # Due by Tuesday 8 Dec: the 12,500 of Monday 7 Dec and one working day of five towards 25,000 on the 14th.
    assert progress.due_to_date == pytest.approx(15_000)
    assert progress.gap_to_milestone == pytest.approx(15_000)
    assert not progress.behind


def test_before_the_first_checkpoint_what_is_due_grows_from_nothing_at_the_start() -> None:
    steps = build_milestones(50_000, *DECEMBER)
    progress = pace(50_000, *DECEMBER, steps, {}, date(2026, 12, 2))
    assert progress.latest_milestone is None and progress.next_milestone == steps[0]
    # 1 and 2 Dec are two of the five working days to the 12,500 due on 7 Dec.
    assert progress.due_to_date == pytest.approx(5_000) and progress.gap_to_milestone == pytest.approx(-5_000)
    assert pace(50_000, *DECEMBER, steps, {}, date(2026, 11, 30)).gap_to_milestone == 0


def test_pace_after_the_period_needs_nothing_more_when_the_target_is_met() -> None:
    steps = build_milestones(50_000, *DECEMBER)
    progress = pace(50_000, *DECEMBER, steps, {date(2026, 12, 7): 60_000}, date(2027, 1, 5))
    assert progress.remaining == 0 and progress.required_per_week == 0
    missed = pace(50_000, *DECEMBER, steps, {date(2026, 12, 7): 10_000}, date(2027, 1, 5))
    assert math.isinf(missed.required_per_week)


# --------------------------------------------------------------------------- recovery


def plan_with_lags(lags: tuple[int, int, int]) -> PlanInputs:
    stages = tuple(
        Stage(name, 2, lag)
        for name, lag in zip(("Connection requests", "Meetings", "Qualified prospects"), lags, strict=True)
    )
    return PlanInputs(50_000, 2_500, date(2026, 10, 1), date(2026, 12, 31), stages=stages)


def standing(inputs: PlanInputs, weeks: dict[date, float], as_of: date) -> tuple[FunnelPlan, Pace]:
    """The plan and where it stands on ``as_of`` against linear milestones."""
    steps = build_milestones(inputs.target, inputs.period_start, inputs.period_end)
    return build_plan(inputs), pace(inputs.target, inputs.period_start, inputs.period_end, steps, weeks, as_of)


def test_recovery_pushes_what_is_left_back_through_the_funnel() -> None:
    plan, progress = standing(plan_with_lags((0, 0, 0)), {date(2026, 10, 5): 10_000}, date(2026, 11, 1))
    recovery = recovery_plan(plan, progress)
    assert recovery.remaining == 40_000 and recovery.deals_needed == 16
    assert [s.needed for s in recovery.stages] == [128, 64, 32, 16]
    assert not recovery.cycle_too_long
    top = recovery.stages[0]
    assert top.per_week_needed == pytest.approx(128 / top.weeks_available)
    assert top.extra_per_week == pytest.approx(top.per_week_needed - plan.top_of_funnel.per_week)
    assert recovery.pipeline_needed == pytest.approx(3 * 40_000)


def test_lags_leave_the_top_of_the_funnel_less_time() -> None:
    plan, progress = standing(plan_with_lags((7, 14, 21)), {}, date(2026, 11, 1))
    weeks = [s.weeks_available for s in recovery_plan(plan, progress).stages]
    assert weeks == sorted(weeks)  # the top stage has the least time
    assert weeks[-1] - weeks[0] == pytest.approx(42 / 7 * 5 / 5, abs=0.6)


def test_when_the_cycle_is_longer_than_the_time_left_it_says_so() -> None:
    plan, progress = standing(plan_with_lags((7, 14, 21)), {date(2026, 10, 5): 20_000}, date(2026, 12, 10))
    recovery = recovery_plan(plan, progress)
    assert recovery.cycle_too_long
    by_name = {s.name: s for s in recovery.stages}
    assert not by_name["Connection requests"].in_time
    assert by_name["Deals won"].in_time
    assert recovery.pipeline_needed == pytest.approx(3 * 30_000)


# --------------------------------------------------------------------------- properties

periods = st.tuples(st.dates(date(2026, 1, 1), date(2028, 12, 31)), st.integers(0, 400)).map(
    lambda p: (p[0], p[0] + timedelta(days=p[1]))
)


@given(
    st.floats(min_value=1, max_value=1e9),
    periods,
    st.sampled_from([s for s in SHAPES if s != "custom"]),
    st.sampled_from(["auto", "weekly", "monthly"]),
    st.data(),
)
def test_every_shape_is_monotone_and_ends_on_the_target(
    target: float, period: tuple[date, date], shape: str, cadence: str, data: st.DataObject
) -> None:
    start, end = period
    count = len(checkpoint_dates(start, end, cadence))
    shares = data.draw(st.lists(st.floats(min_value=0.01, max_value=10), min_size=count, max_size=count))
    steps = build_milestones(target, start, end, cadence, shape, shares=shares)
    values = [m.cumulative for m in steps]
    assert all(b >= a for a, b in itertools.pairwise(values))
    assert values[-1] == target
    assert steps[-1].due == end
    assert all(start <= m.due <= end for m in steps)


@given(
    st.floats(min_value=1_000, max_value=1e7),
    st.integers(1, 60),
    st.floats(min_value=0, max_value=0.999),
)
def test_when_behind_the_required_pace_is_never_below_the_linear_one(
    target: float, weeks_gone: int, share_booked: float
) -> None:
    start, end = date(2027, 1, 4), date(2027, 12, 31)  # 52 working weeks
    as_of = start + timedelta(weeks=weeks_gone) - timedelta(days=3)  # a Friday
    steps = build_milestones(target, start, end, "weekly", "linear")
    linear_to_date = target * weeks_gone / 52
    booked = linear_to_date * share_booked
    assume(as_of < end)
    progress = pace(target, start, end, steps, {start: booked}, as_of)
    assert progress.required_per_week >= progress.planned_per_week * (1 - 1e-9)
    plan = build_plan(PlanInputs(target, target / 40, start, end))
    for stage in recovery_plan(plan, progress).stages:
        # Whole numbers can only round up, so never below the exact linear need per week.
        linear_need = stage.planned_per_week * progress.remaining / target * 52 / progress.working_weeks_left
        assert stage.per_week_needed >= linear_need * (1 - 1e-9) - 1e-9


# --------------------------------------------------------------------------- one calendar with the plan


def test_holiday_weeks_count_the_same_on_track_as_on_the_plan() -> None:
    # The last two weeks of the quarter are off: nothing is due in them and nothing is expected.
    holidays = (date(2026, 12, 21), date(2026, 12, 28))
    inputs = PlanInputs(130_000, 5_000, date(2026, 10, 1), date(2026, 12, 31), holiday_weeks=holidays)
    plan = build_plan(inputs)
    steps = build_milestones(inputs.target, inputs.period_start, inputs.period_end, "weekly", holiday_weeks=holidays)
    # 18 December, a Friday, is the last working day: both checkpoints after it hold the target.
    assert [round(m.cumulative) for m in steps[-2:]] == [130_000, 130_000]
    assert steps[-3].cumulative < 130_000
    progress = plan_pace(inputs, steps, {}, date(2026, 12, 11))  # a Friday
    assert progress.planned_per_week == pytest.approx(inputs.target / plan.working_weeks)
    assert progress.working_weeks_left == pytest.approx(1.0)  # 14 to 18 December
    assert recovery_plan(plan, progress).stages[-1].weeks_available == pytest.approx(1.0)


def test_twelve_month_shares_skip_a_month_that_is_all_holiday() -> None:
    august = tuple(date(2027, 8, d) for d in (2, 9, 16, 23, 30))
    steps = build_milestones(
        120_000, date(2027, 1, 1), date(2027, 12, 31), shape="historical", shares=[1.0] * 12, holiday_weeks=august
    )
    by_month = {m.due.month: m.cumulative for m in steps}
    assert by_month[8] == by_month[7]  # nothing more is due by the end of August
    assert by_month[12] == 120_000


# --------------------------------------------------------------------------- the ends of the calendar


@pytest.mark.parametrize("cadence", ["weekly", "monthly"])
def test_checkpoints_in_year_1_are_counted_back_only_as_far_as_the_start(cadence: str) -> None:
    dues = checkpoint_dates(date(1, 1, 1), date(1, 3, 20), cadence)
    assert dues[-1] == date(1, 3, 20) and dues[0] >= date(1, 1, 1)


def test_historical_milestones_through_december_9999() -> None:
    steps = build_milestones(1_200, date(9999, 1, 1), date(9999, 12, 31), "monthly", "historical", shares=[1.0] * 12)
    assert steps[-1] == Milestone(date(9999, 12, 31), 1_200.0)


def test_pace_and_recovery_judged_on_the_last_day_of_the_calendar() -> None:
    inputs = PlanInputs(50_000, 5_000, *DECEMBER)
    steps = build_milestones(50_000, *DECEMBER)
    progress = plan_pace(inputs, steps, {date(2026, 11, 30): 20_000.0}, date.max)
    assert progress.working_weeks_left == 0 and progress.remaining == 30_000
    recovery = recovery_plan(build_plan(inputs), progress)
    assert recovery.cycle_too_long and all(s.weeks_available == 0 for s in recovery.stages)


def test_a_week_recorded_at_the_end_of_the_calendar_counts_on_the_period_end() -> None:
    assert booked_by({date(9999, 12, 27): 5.0}, date(9999, 12, 1), date(9999, 12, 31))[-1] == (date(9999, 12, 31), 5.0)


def test_a_target_near_the_float_limit_spreads_without_overflowing() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's overflow warning fails the test
        steps = build_milestones(1e308, *DECEMBER)
    assert [s.cumulative for s in steps] == pytest.approx([2.5e307, 5e307, 7.5e307, 1e308])
