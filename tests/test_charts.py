"""Chart builders: valid Plotly figures that show the plan's own numbers."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import pytest

from planner.calibrate import calibrate_export
from planner.charts import (
    burnup_chart,
    conversion_chart,
    coverage_chart,
    forecast_accuracy_chart,
    forecast_fan,
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
from planner.milestones import build_milestones, check_milestones, pace

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
        pd.DataFrame({"week": [date(2027, 1, 4)] * 2, "line": [0, 7], "booked": [5_000.0, 2_000.0]}),
        pd.DataFrame({"due": [date(2027, 1, 31)], "cumulative": [20_000.0]}),
        60_000,
        [(0, "Team"), (7, "Ana")],
        (date(2027, 1, 4), date(2027, 3, 31)),
    ),
}

_Q1 = (date(2027, 1, 4), date(2027, 3, 26))
_STEPS = build_milestones(60_000, *_Q1)
_WEEKS = {date(2027, 1, 4): 9_000.0, date(2027, 1, 11): 6_000.0}
_PACE = pace(60_000, *_Q1, _STEPS, _WEEKS, date(2027, 1, 17))
BURNUP = burnup_chart(*_Q1, check_milestones(_STEPS, _WEEKS, date(2027, 1, 17)), [(_Q1[0], 0.0)], _PACE)
FIGURES |= {
    "forecast_fan": forecast_fan(BURNUP, date(2027, 1, 17), _Q1[1], 15e3, 41e3, 55e3, 72e3, "GBP", "<b>Ana</b>"),
    "team_forecast_fan": forecast_fan(FIGURES["team_burnup"], date(2027, 1, 10), date(2027, 3, 31), 5e3, 4e4, 5e4, 6e4),
    "forecast_accuracy": forecast_accuracy_chart(
        pd.DataFrame(
            {
                "as_of": [date(2027, 3, 8), date(2027, 3, 15)] * 2,
                "method": ["run-rate", "run-rate", "P50", "P50"],
                "projected": [80_000.0, 90_000.0, 95_000.0, 100_000.0],
                "actual": 100_000.0,
            }
        ),
        "<i>East</i>",
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


def test_a_cause_that_moved_nothing_has_no_bar_in_the_waterfall() -> None:
    """A "+$0 Won" bar beside a caption counting a won deal read as a contradiction; the caption names those."""
    causes = [("new", 200.0), ("pulled in", 0.0), ("won", 0.0), ("lost", -300.0)]
    trace = waterfall_chart(1_000.0, causes, 900.0, "9 Nov", "16 Nov").data[0]
    assert list(trace.x) == ["9 Nov", "New", "Lost", "16 Nov"]
    assert list(trace.text) == ["$1,000", "+$200", "-$300", "$900"]
    unchanged = waterfall_chart(500.0, [("new", 0.0), ("lost", 0.0)], 500.0, "9 Nov", "16 Nov").data[0]
    assert list(unchanged.x) == ["9 Nov", "16 Nov"]


def test_the_forecast_fan_opens_from_todays_booked_to_p10_and_p90_with_the_p50_line() -> None:
    figure = FIGURES["forecast_fan"]
    assert len(figure.data) == len(BURNUP.data) + 3  # the burn-up is kept, the fan added
    low, high, middle = figure.data[-3:]
    assert list(low.y) == [15_000, 41_000] and list(high.y) == [15_000, 72_000] and list(middle.y) == [15_000, 55_000]
    assert list(high.x) == [date(2027, 1, 17), date(2027, 3, 26)]
    assert high.fill == "tonexty"
    assert figure.layout.yaxis.range[1] >= 72_000  # the axis widens to show P90
    assert high.name == "&lt;b&gt;Ana&lt;/b&gt;: P10–P90 range"  # a name shows as typed, not as markup
    fresh = burnup_chart(*_Q1, check_milestones(_STEPS, _WEEKS, date(2027, 1, 17)), [(_Q1[0], 0.0)], _PACE)
    assert BURNUP.to_dict() == fresh.to_dict()  # the burn-up passed in is left as it was


def test_forecast_vs_actual_draws_each_method_by_week_and_the_actual() -> None:
    figure = FIGURES["forecast_accuracy"]
    assert [t.name for t in figure.data] == ["run-rate", "P50", "Actual"]
    assert list(figure.data[1].y) == [95_000, 100_000]
    assert list(figure.data[2].y) == [100_000, 100_000]
    assert figure.layout.title.text == "Forecast vs actual: &lt;i&gt;East&lt;/i&gt;"


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


def test_long_lever_names_wrap_and_their_numbers_are_not_clipped() -> None:
    """Two stage names from a CRM export made a 40-character lever name that squeezed the bars to a sliver."""
    inputs = PlanInputs(
        385_000, 3_850, date(2027, 1, 4), date(2027, 12, 31),
        stages=(Stage("Presentation Scheduled", 2), Stage("Appointment Scheduled", 2)),
    )  # fmt: skip
    figure = levers_chart(levers(inputs))
    trace, axis = figure.data[0], figure.layout.yaxis
    assert list(axis.tickvals) == list(trace.y)  # the hover keeps the whole name
    lines = [line for label in axis.ticktext for line in label.split("<br>")]
    assert max(len(line) for line in lines) <= 24
    assert "Presentation Scheduled →<br>Appointment Scheduled" in axis.ticktext
    assert trace.cliponaxis is False


def test_what_if_cells_hold_short_numbers_at_a_readable_size() -> None:
    # With a calibrated funnel the weekly activity runs to thousands; Plotly shrank "1,497" to fit the cell.
    heatmap = what_if_heatmap(what_if_grid(STEEP)).data[0]
    labels = [label for row in heatmap.text for label in row]
    assert max(len(label) for label in labels) <= 4 and "1.5k" in labels
    assert heatmap.textfont.size == 12
