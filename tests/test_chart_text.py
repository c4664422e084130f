"""User text in charts shows as typed: no builder lets a link or styled text through to Plotly.

Plotly draws a subset of HTML found in any text of a figure (<a href>, <span style>, <b>, <br> …):
a stage, rep or account named ``<a href=…>`` would be a live link on a manager's screen. Every
builder is fed the payload in every field that can hold user text, and the figure it returns must
hold no raw tag, only the escaped text (which Plotly shows literally), and no user text inside a
hover or text template, where ``%{…}`` would be read as a placeholder.
"""

from __future__ import annotations

import html
import json
from datetime import date
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import pytest

from planner import charts
from planner.calibrate import StageConversion
from planner.funnel import PlanInputs, Stage, build_plan, levers, what_if_grid
from planner.milestones import booked_by, build_milestones, check_milestones, pace

PAYLOAD = '<a href="https://evil.test/">link</a><span style="color:red">red</span> R&D %{y}'
SHOWN = html.escape(PAYLOAD, quote=False)  # what a figure holds: Plotly turns &lt; &gt; &amp; back into < > &

STAGES = tuple(Stage(f"{PAYLOAD} {n}", 2.0) for n in (1, 2, 3))
INPUTS = PlanInputs(385_000, 3_850, date(2027, 1, 4), date(2027, 12, 31), stages=STAGES, won_stage=f"{PAYLOAD} won")
PLAN = build_plan(INPUTS)
PERIOD = (date(2027, 1, 4), date(2027, 3, 26))
STEPS = build_milestones(60_000, *PERIOD)
REVENUE = {date(2027, 1, 4): 5_000.0, date(2027, 1, 11): 7_000.0}
AS_OF = date(2027, 1, 20)
CONVERSION = StageConversion(PAYLOAD, f"{PAYLOAD} next", 40, 10, 0.25, 0.1, 0.4)

#: Every builder, with the payload in each field a user's text can reach.
FIGURES: dict[str, go.Figure] = {
    "funnel_chart": charts.funnel_chart(PLAN),
    "coverage_chart": charts.coverage_chart(PLAN, currency=PAYLOAD),
    "levers_chart": charts.levers_chart(levers(INPUTS)),
    "what_if_heatmap": charts.what_if_heatmap(what_if_grid(INPUTS), currency=PAYLOAD),
    "burnup_chart": charts.burnup_chart(
        *PERIOD,
        check_milestones(STEPS, REVENUE, AS_OF),
        booked_by(REVENUE, *PERIOD, AS_OF),
        pace(60_000, *PERIOD, STEPS, REVENUE, AS_OF),
        currency=PAYLOAD,
    ),
    "milestones_chart": charts.milestones_chart(STEPS, PERIOD[0], 60_000, currency=PAYLOAD),
    "conversion_chart": charts.conversion_chart([CONVERSION]),
    "histogram_chart": charts.histogram_chart(
        ([0.0, 10.0, 20.0], [3, 4]), PAYLOAD, PAYLOAD, prefix=PAYLOAD, suffix=PAYLOAD
    ),
    "seasonality_chart": charts.seasonality_chart([1 / 12] * 12),  # no user text: month names only
    "waterfall_chart": charts.waterfall_chart(
        1_000.0, [(PAYLOAD, 200.0), ("lost", -300.0)], 900.0, PAYLOAD, f"{PAYLOAD} end", currency=PAYLOAD
    ),
    "team_burnup_chart": charts.team_burnup_chart(
        pd.DataFrame({"week": [date(2027, 1, 4)] * 3, "line": [0, 7, 8], "booked": [5_000.0, 2_000.0, 3_000.0]}),
        pd.DataFrame({"due": [date(2027, 1, 31)], "cumulative": [20_000.0]}),
        60_000,
        [(0, "Team"), (7, PAYLOAD), (8, "Ana")],
        PERIOD,
        currency=PAYLOAD,
    ),
    "forecast_fan": charts.forecast_fan(
        charts.burnup_chart(
            *PERIOD,
            check_milestones(STEPS, REVENUE, AS_OF),
            booked_by(REVENUE, *PERIOD, AS_OF),
            pace(60_000, *PERIOD, STEPS, REVENUE, AS_OF),
        ),
        AS_OF,
        PERIOD[1],
        12_000.0,
        20_000.0,
        40_000.0,
        60_000.0,
        currency=PAYLOAD,
        label=PAYLOAD,
    ),
    "forecast_accuracy_chart": charts.forecast_accuracy_chart(
        pd.DataFrame(
            {
                "as_of": [date(2027, 1, 11), date(2027, 1, 18)],
                "method": ["P50", "P50"],
                "projected": [50_000.0, 55_000.0],
                "actual": [58_000.0, 58_000.0],
            }
        ),
        who=PAYLOAD,
        currency=PAYLOAD,
    ),
}
#: Builders whose figure shows the payload somewhere (the others only take it as a currency code,
#: which picks a symbol from a fixed list and never reaches the figure).
SHOWS_USER_TEXT = {
    "funnel_chart", "levers_chart", "conversion_chart", "histogram_chart", "waterfall_chart", "team_burnup_chart",
    "forecast_fan", "forecast_accuracy_chart",
}  # fmt: skip


def strings(node: Any, key: str = "") -> list[tuple[str, str]]:
    """Every (property name, string) pair anywhere in a figure's JSON."""
    if isinstance(node, str):
        return [(key, node)]
    if isinstance(node, dict):
        return [pair for k, v in node.items() for pair in strings(v, k)]
    if isinstance(node, list):
        return [pair for v in node for pair in strings(v, key)]
    return []


def test_every_builder_is_fed_the_payload() -> None:
    # A new chart builder must be added to FIGURES with the payload in its text fields.
    assert set(FIGURES) == set(charts.__all__) - {"PALETTE"}


@pytest.mark.parametrize("name", FIGURES)
def test_no_builder_lets_a_link_or_styled_text_through(name: str) -> None:
    found = strings(json.loads(FIGURES[name].to_json()))
    raw = [(key, text) for key, text in found if "<a" in text.lower() or "<span" in text.lower()]
    assert raw == [], f"{name} passes HTML to Plotly: {raw[:3]}"
    if name in SHOWS_USER_TEXT:  # and the text is there, escaped, for Plotly to show as typed
        assert any(SHOWN in text for _, text in found), f"{name} lost the user's text"


@pytest.mark.parametrize("name", FIGURES)
def test_user_text_never_lands_in_a_template(name: str) -> None:
    templates = [text for key, text in strings(json.loads(FIGURES[name].to_json())) if key.endswith("template")]
    assert not [t for t in templates if "evil.test" in t or "R&amp;D" in t or "R&D" in t], name


def test_a_reps_name_is_the_legend_entry_and_the_hover_reads_it_from_there() -> None:
    rep = next(t for t in FIGURES["team_burnup_chart"].data if t.name == SHOWN)
    assert "%{fullData.name}" in rep.hovertemplate


def test_a_long_lever_name_is_broken_into_escaped_lines_with_only_the_builders_own_breaks() -> None:
    ticks = FIGURES["levers_chart"].layout.yaxis.ticktext
    lines = [line for label in ticks for line in label.split("<br>")]
    assert len(lines) > len(ticks)  # the payload's names are long: they wrap
    assert html.escape(html.unescape("".join(lines)), quote=False) == "".join(lines)  # every line escaped


def test_stage_names_on_the_funnel_axis_are_the_escaped_names_in_order() -> None:
    trace = FIGURES["funnel_chart"].data[0]
    assert list(trace.y) == [f"{SHOWN} 1", f"{SHOWN} 2", f"{SHOWN} 3", f"{SHOWN} won"]


def test_the_code_s_own_markup_in_templates_is_kept() -> None:
    # Escaping is for data, not for the builders' own hover templates (<br>, <extra>).
    heatmap = FIGURES["what_if_heatmap"].data[0]
    assert "<br>" in heatmap.hovertemplate and heatmap.hovertemplate.endswith("<extra></extra>")
