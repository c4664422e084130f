"""The backward funnel, checked against numbers a rep can work out by hand."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from planner.funnel import (
    PlanInputError,
    PlanInputs,
    Stage,
    build_plan,
    deals_needed,
    default_period,
    levers,
    twelve_months_from,
    validate,
    weekly_activity_table,
    what_if_grid,
)

# A 52-week year of Mondays to Fridays: 4 Jan 2027 is a Monday, 31 Dec 2027 a Friday.
YEAR = dict(period_start=date(2027, 1, 4), period_end=date(2027, 12, 31))


def example(**changes: object) -> PlanInputs:
    """The literature's example: $385,000 at $3,850 a deal, 2 : 1 at every step."""
    return PlanInputs(**{"target": 385_000, "deal_size": 3_850, **YEAR, **changes})


# --------------------------------------------------------------------------- totals


def test_the_literature_example_walks_back_to_800_connection_requests() -> None:
    plan = build_plan(example())
    assert plan.deals_needed == 100
    assert [(s.name, s.total) for s in plan.stages] == [
        ("Connection requests", 800),
        ("Meetings", 400),
        ("Qualified prospects", 200),
        ("Deals won", 100),
    ]


def test_deals_round_up_because_part_of_a_deal_cannot_be_won() -> None:
    assert deals_needed(100_000, 3_000) == 34
    assert deals_needed(90_000, 3_000) == 30


def test_float_noise_does_not_ask_for_an_extra_deal() -> None:
    # 1.1 / 0.1 is 11.000000000000002 in floating point.
    assert deals_needed(1.1, 0.1) == 11


def test_exact_values_are_kept_beside_the_whole_numbers() -> None:
    plan = build_plan(example(target=100_000, deal_size=3_000, stages=(Stage("Meetings", 2.5),)))
    meetings, won = plan.stages
    assert plan.deals_exact == pytest.approx(33.333, abs=1e-3)
    assert won.exact == pytest.approx(33.333, abs=1e-3) and won.total == 34
    assert meetings.exact == pytest.approx(83.333, abs=1e-3)
    assert meetings.total == 85  # 34 whole deals x 2.5


def test_conversion_rate_is_the_inverse_of_the_ratio() -> None:
    plan = build_plan(example(stages=(Stage("Calls", 4), Stage("Meetings", 2.5))))
    assert [s.conversion_rate for s in plan.stages] == [0.25, 0.4, None]
    assert plan.overall_win_rate == pytest.approx(0.1)


# --------------------------------------------------------------------------- weeks and days


def test_per_week_and_per_day_over_a_52_week_year() -> None:
    plan = build_plan(example())
    assert plan.working_days == 260 and plan.working_weeks == 52
    top = plan.top_of_funnel
    assert top.per_week == pytest.approx(800 / 52)
    assert top.per_day == pytest.approx(800 / 260)


def test_holiday_weeks_leave_fewer_weeks_to_do_the_same_work() -> None:
    christmas = date(2027, 12, 22)  # a Wednesday: the whole week from Monday 20 Dec is off
    plan = build_plan(example(holiday_weeks=(christmas,)))
    assert plan.working_days == 255 and plan.working_weeks == 51
    assert plan.top_of_funnel.per_week == pytest.approx(800 / 51)
    table = weekly_activity_table(plan)
    christmas_week = table[table["Week starting"] == np.datetime64("2027-12-20")]
    assert christmas_week["Working days"].item() == 0
    assert christmas_week["Note"].item() == "holiday"
    assert christmas_week["Deals won"].item() == 0


def test_weekends_are_not_working_days() -> None:
    plan = build_plan(example(period_start=date(2027, 1, 1), period_end=date(2027, 1, 10)))
    # Fri 1, Mon 4 .. Fri 8 Jan.
    assert plan.working_days == 6


def test_weekly_counts_add_up_to_each_stage_total() -> None:
    plan = build_plan(example(stages=(Stage("Calls", 3.3, 5), Stage("Meetings", 1.7, 12))))
    assert plan.weekly.sum(axis=1).tolist() == [s.total for s in plan.stages]
    assert (plan.weekly >= 0).all()


# --------------------------------------------------------------------------- time phasing


def test_without_lags_activity_starts_with_the_period() -> None:
    plan = build_plan(example())
    assert plan.start_by == date(2027, 1, 4)
    assert plan.week_starts[0] == np.datetime64("2027-01-04")
    assert plan.week_in_period.all()


def test_lags_move_each_stage_earlier_and_set_the_start_by_date() -> None:
    stages = (Stage("Connection requests", 2, 7), Stage("Meetings", 2, 14), Stage("Qualified prospects", 2, 21))
    plan = build_plan(example(stages=stages))
    assert [s.days_before_close for s in plan.stages] == [42, 35, 21, 0]
    assert plan.start_by == date(2026, 11, 23)  # 42 days before Monday 4 Jan 2027
    # Six weeks of prospecting happen before the period starts, and no deals close then.
    before = ~plan.week_in_period
    assert before.sum() == 6
    assert plan.weekly[-1, before].sum() == 0
    assert plan.weekly[0, before].sum() > 0
    # The first week's connection requests land before the first deals close.
    first_activity = [int(np.argmax(row > 0)) for row in plan.weekly]
    assert first_activity == sorted(first_activity)


def test_a_lag_shorter_than_a_week_still_moves_activity_to_the_week_before() -> None:
    plan = build_plan(example(stages=(Stage("Meetings", 2, 3),), period_start=date(2027, 1, 4)))
    assert plan.start_by == date(2027, 1, 1)
    assert plan.week_starts[0] == np.datetime64("2026-12-28")


def test_the_weekly_table_marks_weeks_before_the_period() -> None:
    plan = build_plan(example(stages=(Stage("Meetings", 2, 14),)))
    table = weekly_activity_table(plan)
    assert list(table.columns) == ["Week starting", "Working days", "Meetings", "Deals won", "Note"]
    assert table["Note"].tolist()[:2] == ["before the period", "before the period"]
    assert int(table["Meetings"].sum()) == 200


# --------------------------------------------------------------------------- coverage


def test_pipeline_coverage_is_three_times_each_months_share() -> None:
    plan = build_plan(example(period_start=date(2027, 1, 1), period_end=date(2027, 3, 31)))
    months = [c.month for c in plan.coverage]
    assert months == [date(2027, 1, 1), date(2027, 2, 1), date(2027, 3, 1)]
    # 21 + 20 + 23 working days in Q1 2027.
    assert [c.working_days for c in plan.coverage] == [21, 20, 23]
    january = plan.coverage[0]
    assert january.month_target == pytest.approx(385_000 * 21 / 64)
    assert january.pipeline_needed == pytest.approx(3 * 385_000 * 21 / 64)
    assert sum(c.month_target for c in plan.coverage) == pytest.approx(385_000)


def test_a_month_that_is_all_holiday_needs_no_pipeline_of_its_own() -> None:
    august = tuple(date(2027, 8, d) for d in (2, 9, 16, 23, 30))
    plan = build_plan(example(holiday_weeks=august, coverage_ratio=4))
    by_month = {c.month.month: c for c in plan.coverage}
    assert by_month[8].working_days == 0 and by_month[8].pipeline_needed == 0
    assert by_month[9].pipeline_needed == pytest.approx(4 * by_month[9].month_target)


# --------------------------------------------------------------------------- levers and what-if


def test_every_lever_saves_about_nine_percent_and_rounding_ranks_them() -> None:
    ranked = levers(example())
    assert {lv.kind for lv in ranked} == {"deal_size", "ratio", "activity"}
    assert len(ranked) == 5  # deal size, three ratios, activity
    by_label = {lv.label: lv for lv in ranked}
    deal = by_label["Average deal size"]
    assert deal.after == pytest.approx(4_235)
    assert deal.top_of_funnel_total == 728  # ceil(385000 / 4235) = 91 deals x 8
    ratio = by_label["Meetings → Qualified prospects"]
    assert ratio.after == pytest.approx(2 / 1.1)
    assert ratio.top_of_funnel_total == 728
    activity = by_label["Weekly activity"]
    assert activity.top_of_funnel_total == 800
    assert activity.effort_saved == pytest.approx(1 - 1 / 1.1)
    assert ranked[0] is activity  # 9.09% beats the 9.0% that rounding to 91 deals leaves
    assert all(0.08 < lv.effort_saved < 0.1 for lv in ranked)
    assert ranked == sorted(ranked, key=lambda lv: -lv.effort_saved)


def test_a_ratio_already_at_one_cannot_be_improved() -> None:
    ranked = levers(example(stages=(Stage("Meetings", 1), Stage("Proposals", 3))))
    meetings = next(lv for lv in ranked if lv.label == "Meetings → Proposals")
    assert meetings.after == 1 and meetings.effort_saved == pytest.approx(0)
    assert ranked[-1] is meetings


def test_what_if_grid_matches_the_plan_at_the_current_point() -> None:
    inputs = example()
    grid = what_if_grid(inputs)
    assert grid.top_per_week.shape == (grid.win_rates.size, grid.deal_sizes.size)
    assert grid.win_rates.max() <= 1
    plan = build_plan(inputs)
    i = int(np.argmin(abs(grid.win_rates - grid.current_win_rate)))
    j = int(np.argmin(abs(grid.deal_sizes - grid.current_deal_size)))
    assert grid.top_per_week[i, j] == pytest.approx(plan.top_of_funnel.per_week)
    # Bigger deals and better win rates both need less activity.
    assert (np.diff(grid.top_per_week, axis=1) <= 0).all()
    assert (np.diff(grid.top_per_week, axis=0) <= 0).all()


def test_what_if_grid_takes_explicit_axes() -> None:
    grid = what_if_grid(example(), deal_sizes=np.linspace(1_000, 10_000, 100), win_rates=np.linspace(0.01, 1, 100))
    assert grid.top_per_week.shape == (100, 100)


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"target": 0}, "target", "revenue target must be more than 0"),
        ({"target": -5}, "target", "revenue target must be more than 0"),
        ({"deal_size": 0}, "deal_size", "average deal size must be more than 0"),
        ({"deal_size": float("nan")}, "deal_size", "average deal size must be more than 0"),
        ({"stages": (Stage("Meetings", 0.5),)}, "stages[0].ratio", "Meetings → Deals won is 0.5 : 1"),
        ({"stages": (Stage("Meetings", 2, -3),)}, "stages[0].lag_days", "lag after Meetings"),
        ({"stages": (Stage("Meetings", 2, 999_999_999),)}, "stages[0].lag_days", "lag after Meetings must be 0 to 730"),
        (
            {"period_start": date(1, 1, 3), "period_end": date(1, 12, 31), "stages": (Stage("Meetings", 2, 7),)},
            "period_start",
            "before 1 Jan of year 1",
        ),
        ({"stages": (Stage("", 2),)}, "stages[0].name", "Stage 1 has no name"),
        ({"stages": (Stage("Meetings", 2), Stage("meetings", 2))}, "stages[1].name", "Two stages are called"),
        ({"stages": ()}, "stages", "at least one stage"),
        ({"coverage_ratio": 0.5}, "coverage_ratio", "at least 1×"),
        ({"deal_size": 0.001}, "target", "more than a billion"),
        ({"period_end": date(2026, 12, 1)}, "period_end", "ends (01 Dec 2026) before it starts (04 Jan 2027)"),
        ({"period_start": date(2027, 1, 2), "period_end": date(2027, 1, 3)}, "period_end", "No working weeks"),
        (
            {"period_start": date(2027, 1, 4), "period_end": date(2027, 1, 8), "holiday_weeks": (date(2027, 1, 6),)},
            "holiday_weeks",
            "remove a holiday week",
        ),
    ],
)
def test_bad_input_names_the_field_and_the_fix(changes: dict, field: str, words: str) -> None:
    inputs = example(**changes)
    problems = validate(inputs)
    assert [p.field for p in problems] == [field]
    assert words.casefold() in problems[0].message.casefold()
    with pytest.raises(PlanInputError) as raised:
        build_plan(inputs)
    assert raised.value.problems == problems


def test_every_problem_is_reported_at_once() -> None:
    problems = validate(example(target=0, deal_size=-1, period_end=date(2026, 1, 1)))
    assert [p.field for p in problems] == ["target", "deal_size", "period_end"]


def test_default_period_is_the_next_twelve_full_months() -> None:
    assert default_period(date(2026, 11, 22)) == (date(2026, 12, 1), date(2027, 11, 30))
    assert default_period(date(2026, 12, 31)) == (date(2027, 1, 1), date(2027, 12, 31))


# --------------------------------------------------------------------------- the ends of the calendar


def test_twelve_months_from_29_february_end_on_28_february() -> None:
    assert twelve_months_from(date(2028, 2, 29)) == date(2029, 2, 28)
    assert twelve_months_from(date(2027, 3, 15)) == date(2028, 3, 14)


def test_twelve_months_that_would_leave_the_calendar_ask_for_an_end_date() -> None:
    assert twelve_months_from(date(9999, 1, 1)) == date(9999, 12, 31)
    with pytest.raises(PlanInputError, match="give the period an end date") as refused:
        twelve_months_from(date(9999, 3, 1))
    assert [p.field for p in refused.value.problems] == ["period_end"]


def test_a_plan_ending_on_the_last_day_of_the_calendar() -> None:
    plan = build_plan(example(period_start=date(9999, 1, 4), period_end=date(9999, 12, 31)))
    assert plan.working_days == 260 and plan.stages[-1].total == 100


def test_a_target_far_below_one_deal_still_takes_one_deal_and_the_levers_work() -> None:
    inputs = example(target=3_831, deal_size=3e145)
    assert build_plan(inputs).deals_needed == 1
    assert levers(inputs)[0].effort_saved >= 0
