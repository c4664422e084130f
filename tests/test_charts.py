"""Chart builders: valid Plotly figures that show the plan's own numbers."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import pytest

from planner.calibrate import calibrate_export
from planner.charts import (
    conversion_chart,
    coverage_chart,
    funnel_chart,
    histogram_chart,
    levers_chart,
    milestones_chart,
    seasonality_chart,
    team_burnup_chart,
    waterfall_chart,
    what_if_heatmap,
)
from planner.funnel import PlanInputs, Stage, build_plan, levers, what_if_grid
from planner.milestones import build_milestones

INPUTS = PlanInputs(target=385_000, deal_size=3_850, period_start=date(2027, 1, 4), period_end=date(2027, 12, 31))
PLAN = build_plan(INPUTS)
FIGURES = {
    "funnel": funnel_chart(PLAN),
    "coverage": coverage_chart(PLAN, "EUR"),
    "levers": levers_chart(levers(INPUTS)),
    "what_if": what_if_heatmap(what_if_grid(INPUTS), "GBP"),
    "milestones": milestones_chart(
        build_milestones(50_000, date(2026, 12, 1), date(2026, 12, 31), shape="custom", custom_to_go=[42_000, 30_000]),
        date(2026, 12, 1),
        50_000,
        "GBP",
    ),
}
_SAMPLE = (Path(__file__).resolve().parent.parent / "data" / "sample_crm_export.csv").read_bytes()
CALIBRATION = calibrate_export(_SAMPLE, "sample.csv")[1]
FIGURES |= {
    "conversion": conversion_chart(CALIBRATION.overall.conversions),
    "deal_sizes": histogram_chart(CALIBRATION.deal_size_bins, "Won deal sizes", "Deal size"),
    "seasonality": seasonality_chart(CALIBRATION.seasonality),
    "waterfall": waterfall_chart(1_000.0, [("new", 200.0), ("lost", -300.0)], 900.0, "9 Nov", "16 Nov"),
    "team_burnup": team_burnup_chart(
        pd.DataFrame({"week": [date(2027, 1, 4)] * 2, "rep": ["Team", "Ana"], "booked": [5_000.0, 2_000.0]}),
        pd.DataFrame({"due": [date(2027, 1, 31)], "cumulative": [20_000.0]}),
        60_000,
        ["Ana"],
        (date(2027, 1, 4), date(2027, 3, 31)),
    ),
}


@pytest.mark.parametrize("name", FIGURES)
def test_every_figure_passes_plotlys_full_validation(name: str) -> None:
    # The builders skip validation for speed; this is where a misspelt property fails.
    go.Figure(FIGURES[name].to_dict())


def test_funnel_shows_every_stage_total_top_down() -> None:
    trace = FIGURES["funnel"].data[0]
    assert list(trace.y) == ["Connection requests", "Meetings", "Qualified prospects", "Deals won"]
    assert list(trace.x) == [800, 400, 200, 100]


def test_coverage_bars_are_the_pipeline_needed_in_the_plans_currency() -> None:
    bars, line = FIGURES["coverage"].data
    assert list(bars.y) == pytest.approx([c.pipeline_needed for c in PLAN.coverage])
    assert list(line.y) == pytest.approx([c.month_target for c in PLAN.coverage])
    assert FIGURES["coverage"].layout.yaxis.tickprefix == "€"


def test_levers_put_the_best_lever_on_top() -> None:
    trace = FIGURES["levers"].data[0]
    assert trace.y[-1] == levers(INPUTS)[0].label  # horizontal bars draw bottom-up


def test_what_if_marks_the_current_plan() -> None:
    heatmap, marker = FIGURES["what_if"].data
    assert heatmap.z.shape == (11, 11)
    assert list(marker.x) == [3_850]
    assert list(marker.y) == pytest.approx([12.5])


def test_conversion_chart_whiskers_are_the_95_percent_intervals() -> None:
    trace = FIGURES["conversion"].data[0]
    first = CALIBRATION.overall.conversions[0]
    assert trace.x[0] == pytest.approx(first.rate * 100)
    assert trace.x[0] - trace.error_x.arrayminus[0] == pytest.approx(first.low * 100)
    assert trace.x[0] + trace.error_x.array[0] == pytest.approx(first.high * 100)


def test_waterfall_runs_from_last_weeks_total_through_each_cause_to_this_weeks() -> None:
    trace = FIGURES["waterfall"].data[0]
    assert list(trace.x) == ["9 Nov", "New", "Lost", "16 Nov"]
    assert list(trace.measure) == ["absolute", "relative", "relative", "total"]
    assert list(trace.text) == ["$1,000", "+$200", "-$300", "$900"]


def test_the_milestones_chart_steps_up_to_the_target_and_shows_filled_checkpoints_hollow() -> None:
    line, marks = FIGURES["milestones"].data
    assert list(line.y) == [0.0, *marks.y] and marks.y[-1] == 50_000
    assert line.line.shape == "hv"
    # 42,000 and 30,000 typed; the 3rd and 10th of December filled by the linear shape
    assert list(marks.marker.color[:2]) == ["white", "white"] and "white" not in marks.marker.color[2:]


#: A calibrated funnel of 6.5, 4.2, 3.1 and 2.3 : 1: the bottom bars are a sliver of the top one.
STEEP = PlanInputs(
    385_000, 3_850, date(2027, 1, 4), date(2027, 12, 31),
    stages=(Stage("Calls", 6.5), Stage("Meetings", 4.2), Stage("Demos", 3.1), Stage("Proposals", 2.3)),
)  # fmt: skip


def test_a_funnel_stage_too_narrow_for_its_number_shows_it_beside_the_bar_at_full_size() -> None:
    # The bottom stages' numbers shrank to an unreadable speck inside their bars.
    trace = funnel_chart(build_plan(STEEP)).data[0]
    assert list(trace.x) == [19_465, 2_995, 713, 230, 100]
    assert list(trace.textposition) == ["inside", "inside", "outside", "outside", "outside"]
    assert trace.constraintext == "none" and trace.textfont.size == 14
    assert list(trace.textfont.color)[2:] == ["#1c2733"] * 3  # ink beside the bars, not white on white


def test_what_if_cells_hold_short_numbers_at_a_readable_size() -> None:
    # With a calibrated funnel the weekly activity runs to thousands; Plotly shrank "1,497" to fit the cell.
    heatmap = what_if_heatmap(what_if_grid(STEEP)).data[0]
    labels = [label for row in heatmap.text for label in row]
    assert max(len(label) for label in labels) <= 4 and "1.5k" in labels
    assert heatmap.textfont.size == 12
