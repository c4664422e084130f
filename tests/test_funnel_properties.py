"""Invariants of the backward funnel that must hold for any plan a rep can enter."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from planner.funnel import PlanInputs, Stage, build_plan, deals_needed, validate, what_if_grid

money = st.floats(min_value=1, max_value=1e9, allow_nan=False, allow_infinity=False)
deal_sizes = st.floats(min_value=1, max_value=1e7, allow_nan=False, allow_infinity=False)
ratios = st.floats(min_value=1, max_value=20, allow_nan=False, allow_infinity=False)
stages = st.lists(
    st.builds(Stage, name=st.just(""), ratio=ratios, lag_days=st.integers(0, 120)), min_size=1, max_size=6
).map(lambda found: tuple(replace(s, name=f"Stage {n}") for n, s in enumerate(found, 1)))


@st.composite
def plans(draw: st.DrawFn) -> PlanInputs:
    start = date(2027, 1, 1) + timedelta(days=draw(st.integers(0, 365)))
    end = start + timedelta(days=draw(st.integers(0, 400)))
    inputs = PlanInputs(
        target=draw(money),
        deal_size=draw(deal_sizes),
        period_start=start,
        period_end=end,
        stages=draw(stages),
        coverage_ratio=draw(st.floats(min_value=1, max_value=10)),
    )
    assume(not validate(inputs))  # a period of only a weekend has nothing to plan
    return inputs


def totals(inputs: PlanInputs) -> list[int]:
    return [s.total for s in build_plan(inputs).stages]


@given(plans(), st.floats(min_value=1, max_value=10))
def test_a_larger_target_never_needs_less_activity(inputs: PlanInputs, factor: float) -> None:
    bigger = replace(inputs, target=inputs.target * factor)
    assume(not validate(bigger))  # past a billion activities the plan is refused, not computed
    assert all(b >= a for a, b in zip(totals(inputs), totals(bigger), strict=True))


@given(plans(), st.data())
def test_a_better_ratio_never_needs_more_activity(inputs: PlanInputs, data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(inputs.stages) - 1))
    stage = inputs.stages[index]
    better_ratio = data.draw(st.floats(min_value=1, max_value=stage.ratio))
    better = replace(
        inputs, stages=(*inputs.stages[:index], replace(stage, ratio=better_ratio), *inputs.stages[index + 1 :])
    )
    assert all(b <= a for a, b in zip(totals(inputs), totals(better), strict=True))


@given(plans(), st.floats(min_value=1, max_value=10))
def test_a_bigger_deal_size_never_needs_more_deals(inputs: PlanInputs, factor: float) -> None:
    assert deals_needed(inputs.target, inputs.deal_size * factor) <= deals_needed(inputs.target, inputs.deal_size)


@given(plans())
def test_totals_are_consistent_across_stages(inputs: PlanInputs) -> None:
    plan = build_plan(inputs)
    # Enough whole deals to reach the target, and not one more than that.
    assert plan.deals_needed * inputs.deal_size >= inputs.target * (1 - 1e-9)
    assert (plan.deals_needed - 1) * inputs.deal_size < inputs.target
    assert plan.stages[-1].total == plan.deals_needed
    for upper, lower in zip(plan.stages, plan.stages[1:], strict=False):
        # Every stage feeds the next through its ratio: never fewer above than below,
        # and enough above (up to rounding) to produce the whole number below.
        assert upper.total >= lower.total
        assert upper.total >= upper.ratio * lower.total - upper.ratio - 1e-6
        assert upper.total <= upper.ratio * lower.total + 1
    for stage in plan.stages:
        assert stage.total >= stage.exact - 1e-6
        assert stage.per_week == pytest.approx(stage.per_day * 5)


@given(plans())
def test_weekly_activity_adds_up_and_never_lands_after_the_period(inputs: PlanInputs) -> None:
    plan = build_plan(inputs)
    assert plan.weekly.sum(axis=1).tolist() == [s.total for s in plan.stages]
    assert (plan.weekly >= 0).all()
    assert plan.week_starts[-1] <= np.datetime64(inputs.period_end)
    assert plan.start_by <= inputs.period_start + timedelta(days=2)  # a weekend start begins on Monday
    # Won deals only ever close inside the period.
    assert plan.weekly[-1, ~plan.week_in_period].sum() == 0


@given(plans())
def test_monthly_targets_add_up_to_the_target(inputs: PlanInputs) -> None:
    plan = build_plan(inputs)
    assert sum(c.month_target for c in plan.coverage) == pytest.approx(inputs.target, rel=1e-9)
    for month in plan.coverage:
        assert month.pipeline_needed == pytest.approx(inputs.coverage_ratio * month.month_target)


@given(plans())
def test_what_if_activity_falls_with_deal_size_and_win_rate(inputs: PlanInputs) -> None:
    grid = what_if_grid(inputs)
    assert np.isfinite(grid.top_per_week).all()
    assert (np.diff(grid.top_per_week, axis=1) <= 1e-9).all()
    assert (np.diff(grid.top_per_week, axis=0) <= 1e-9).all()
