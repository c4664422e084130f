"""Chart builders: valid Plotly figures that show the plan's own numbers."""

from __future__ import annotations

from datetime import date

import plotly.graph_objects as go
import pytest

from planner.charts import coverage_chart, funnel_chart, levers_chart, what_if_heatmap
from planner.funnel import PlanInputs, build_plan, levers, what_if_grid

INPUTS = PlanInputs(target=385_000, deal_size=3_850, period_start=date(2027, 1, 4), period_end=date(2027, 12, 31))
PLAN = build_plan(INPUTS)
FIGURES = {
    "funnel": funnel_chart(PLAN),
    "coverage": coverage_chart(PLAN, "EUR"),
    "levers": levers_chart(levers(INPUTS)),
    "what_if": what_if_heatmap(what_if_grid(INPUTS), "GBP"),
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
