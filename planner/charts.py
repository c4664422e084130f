"""Plotly figure builders: data in, ``go.Figure`` out.  No queries, no widgets.

Plotly draws a subset of HTML found in a figure's text (``<a href>``, ``<span style>``, ``<b>``,
``<br>`` …), so a stage, rep or account named ``<a href=…>`` would be a live link on somebody
else's screen. Every figure is built through :func:`_figure`, which escapes every string in it
(:func:`_inert`) but the builders' own hover and text templates. Those templates stay literal
code: user text reaches a hover through the data (``%{y}``, ``%{customdata[0]}``,
``%{fullData.name}``), never by being pasted into a template, where ``%{…}`` would be read too.
"""

from __future__ import annotations

import html
import itertools
import textwrap
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import numpy as np
import plotly.graph_objects as go

from planner.funnel import FunnelPlan, Lever, WhatIfGrid
from planner.milestones import Milestone, MilestoneCheck, Pace, milestone_path
from planner.team import TEAM_LINE
from planner.units import CURRENCIES, times

__all__ = [
    "PALETTE",
    "burnup_chart",
    "conversion_chart",
    "coverage_chart",
    "forecast_accuracy_chart",
    "forecast_fan",
    "funnel_chart",
    "histogram_chart",
    "levers_chart",
    "milestones_chart",
    "seasonality_chart",
    "team_burnup_chart",
    "waterfall_chart",
    "what_if_heatmap",
]

#: Brand colours, darkest first; the theme in .streamlit/config.toml uses PALETTE[0].
PALETTE = ("#1f4e79", "#2e75b6", "#5b9bd5", "#9dc3e6", "#c9dcef", "#e3edf7")
_AMBER = "#d9822b"
_GREEN = "#2e7d32"
_RED = "#c62828"
_GREY = "#9e9e9e"
_FONT = {"family": "Source Sans Pro, sans-serif", "size": 14}


#: Properties that hold the builders' own Plotly templates, markup and placeholders included.
_TEMPLATES = frozenset({"hovertemplate", "texttemplate"})


class _Markup(str):
    """Text a builder escaped itself and joined with its own tags (the lines of a long label): left as it is."""


def _wrapped(text: str, width: int = 24) -> _Markup:
    """``text`` escaped, in lines of at most ``width`` characters where it has spaces, broken with Plotly's ``<br>``.

    >>> _wrapped("Appointment Scheduled → Qualified To Buy <b>")
    'Appointment Scheduled →<br>Qualified To Buy &lt;b&gt;'
    """
    lines = textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False) or [""]
    return _Markup("<br>".join(html.escape(line, quote=False) for line in lines))


def _inert(value: Any) -> Any:
    """``value`` with every string in it (in dicts, lists and text arrays too) HTML-escaped.

    Only ``&``, ``<`` and ``>`` change: Plotly turns ``&amp;``, ``&lt;`` and ``&gt;`` back into the
    characters as it draws, once, so the text shows exactly as typed and no tag in it is read.
    (Quotes stay as they are: Plotly knows no ``&quot;`` and would show it.)

    >>> _inert({"name": "<b>R&D</b>", "hovertemplate": "%{y}<extra></extra>", "x": [1, "a<b"]})
    {'name': '&lt;b&gt;R&amp;D&lt;/b&gt;', 'hovertemplate': '%{y}<extra></extra>', 'x': [1, 'a&lt;b']}
    """
    if isinstance(value, _Markup):
        return str(value)
    if isinstance(value, str):
        return html.escape(value, quote=False)
    if isinstance(value, dict):
        return {key: item if key in _TEMPLATES else _inert(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_inert(item) for item in value]
    if getattr(getattr(value, "dtype", None), "kind", None) in ("O", "U", "S") and hasattr(value, "tolist"):
        return _inert(value.tolist())  # a numpy or pandas array of text; numbers and dates pass as they are
    return value


def _figure(traces: list[dict[str, Any]], layout: dict[str, Any]) -> go.Figure:
    """A figure from plain dicts, with the house layout under ``layout``, user text made inert.

    Every string but the builders' templates is escaped here, the one place (:func:`_inert`).

    Plotly checks every property path as a figure is built, which costs about
    20 ms a chart: a quarter of a Plan page rerun. The dicts here are fixed by
    code, so they skip that check at run time; tests/test_charts.py rebuilds
    every figure with it, so a misspelt property still fails the build.
    """
    base: dict[str, Any] = {
        "height": 360,
        "margin": {"l": 10, "r": 10, "t": 40, "b": 10},
        "font": _FONT,
        "plot_bgcolor": "white",
        "paper_bgcolor": "white",
        "hoverlabel": {"font": {"size": 13}},
    }
    return go.Figure(data=_inert(traces), layout=_inert(base | layout), _validate=False)


#: The share of the widest bar each character of a number needs to be shown inside its bar; a narrower bar
#: shows the number beside it, where Plotly would otherwise shrink it to nothing.
_SHARE_PER_CHARACTER = 0.03


def funnel_chart(plan: FunnelPlan) -> go.Figure:
    """Stage totals from the top of the funnel down; a stage too narrow for its number shows it beside the bar."""
    names = [s.name for s in plan.stages]
    totals = [s.total for s in plan.stages]
    widest = max([*totals, 1])
    inside = [total / widest >= _SHARE_PER_CHARACTER * len(f"{total:,}") for total in totals]
    colours = [PALETTE[min(i, len(PALETTE) - 1)] for i in range(len(names))]
    trace = {
        "type": "funnel",
        "y": names,
        "x": totals,
        "texttemplate": "%{x:,}",
        "textposition": ["inside" if fits else "outside" for fits in inside],
        # Inside, white on the dark bars and ink on the light ones; beside a bar, ink.
        "textfont": {
            "size": 14,
            "color": ["white" if fits and i < 3 else "#1c2733" for i, fits in enumerate(inside)],
        },
        "constraintext": "none",
        "cliponaxis": False,
        "marker": {"color": colours},
        "connector": {"line": {"color": "#c0c0c0", "width": 1}},
        "hovertemplate": "%{y}: %{x:,}<extra></extra>",
    }
    return _figure([trace], {"title": {"text": f"{plan.deals_needed:,} deals, walked back through the funnel"}})


def coverage_chart(plan: FunnelPlan, currency: str = "USD") -> go.Figure:
    """Open pipeline needed on the first of each month, beside that month's target."""
    months = [c.month for c in plan.coverage]
    symbol = CURRENCIES.get(currency, "")
    bars = {
        "type": "bar",
        "x": months,
        "y": [c.pipeline_needed for c in plan.coverage],
        "name": f"Pipeline needed ({times(plan.inputs.coverage_ratio)} coverage)",
        "marker": {"color": PALETTE[1]},
        "hovertemplate": f"%{{x|%b %Y}}: {symbol}%{{y:,.0f}} open pipeline<extra></extra>",
    }
    line = {
        "type": "scatter",
        "x": months,
        "y": [c.month_target for c in plan.coverage],
        "name": "Month's share of the target",
        "mode": "lines+markers",
        "line": {"color": _AMBER, "width": 2},
        "hovertemplate": f"%{{x|%b %Y}}: {symbol}%{{y:,.0f}} to book<extra></extra>",
    }
    return _figure(
        [bars, line],
        {
            "title": {"text": "Open pipeline needed on the 1st of each month"},
            "legend": {"orientation": "h", "y": -0.2},
            "bargap": 0.3,
            "xaxis": {"dtick": "M1", "tickformat": "%b\n%Y"},
            "yaxis": {"tickprefix": symbol, "tickformat": ",.0f", "gridcolor": "#eee"},
        },
    )


def levers_chart(ranked: Sequence[Lever]) -> go.Figure:
    """Each lever's saving, biggest at the top.

    A long lever name ("Presentation Scheduled → Appointment Scheduled") is drawn on two lines, so the
    bars keep their room and the number beside the longest one stays on the chart.
    """
    labels = [lv.label for lv in ranked][::-1]
    saved = [lv.effort_saved * 100 for lv in ranked][::-1]
    trace = {
        "type": "bar",
        "x": saved,
        "y": labels,
        "orientation": "h",
        "marker": {"color": [PALETTE[3]] * (len(labels) - 1) + [PALETTE[0]]},
        "text": [f"{s:.1f}%" for s in saved],
        "textposition": "outside",
        "cliponaxis": False,
        "hovertemplate": "%{y}: saves %{x:.1f}% of the prospecting effort<extra></extra>",
    }
    return _figure(
        [trace],
        {
            "height": max(220, 48 * len(labels) + 80),
            "title": {"text": "Levers: +10% on each, ranked"},
            "xaxis": {
                "title": {"text": "Prospecting effort saved"},
                "ticksuffix": "%",
                "range": [0, max([*saved, 1.0]) * 1.3],
                "gridcolor": "#eee",
            },
            "yaxis": {"tickmode": "array", "tickvals": labels, "ticktext": [_wrapped(label) for label in labels]},
        },
    )


def _compact(value: float) -> str:
    """A count in four characters at most, as a cell of a heatmap can show it: 7, 312, 1.2k, 15k, 2.3M.

    >>> [_compact(v) for v in (7.4, 312.0, 1_234.0, 15_499.0, 2_345_678.0)]
    ['7', '312', '1.2k', '15k', '2.3M']
    """
    for limit, suffix in ((1e6, "M"), (1e3, "k")):
        if value >= limit:
            scaled = value / limit
            return f"{scaled:.1f}{suffix}" if scaled < 9.95 else f"{scaled:.0f}{suffix}"
    return f"{value:.0f}"


def what_if_heatmap(grid: WhatIfGrid, currency: str = "USD") -> go.Figure:
    """Weekly top-of-funnel activity for every deal size x overall win rate.

    The plan as it stands is outlined, its own number left readable.
    """
    symbol = CURRENCIES.get(currency, "")
    z = np.round(grid.top_per_week, 1)
    heatmap = {
        "type": "heatmap",
        "x": grid.deal_sizes,
        "y": grid.win_rates * 100,
        "z": z,
        # Light to dark: more activity needed reads as heavier. A named scale would follow
        # the Streamlit theme, which runs the other way.
        "colorscale": [[0.0, PALETTE[-1]], [0.5, PALETTE[2]], [1.0, PALETTE[0]]],
        "colorbar": {"title": {"text": "per week"}},
        "hovertemplate": (
            f"Deal size {symbol}%{{x:,.0f}}<br>Win rate %{{y:.1f}}%<br>%{{z:,.1f}} top-of-funnel a week<extra></extra>"
        ),
    }
    if z.size <= 225:  # numbers in the cells only while they stay readable
        # At most four characters ("1.2k"), at a size that does not shrink to fit the cell.
        heatmap |= {
            "text": [[_compact(v) for v in row] for row in z],
            "texttemplate": "%{text}",
            "textfont": {"size": 12},
        }
    marker = {
        "type": "scatter",
        "x": [grid.current_deal_size],
        "y": [grid.current_win_rate * 100],
        "mode": "markers",
        "marker": {"symbol": "square-open", "size": 34, "color": _AMBER, "line": {"width": 3, "color": _AMBER}},
        "name": "Your plan",
        "hovertemplate": "Your plan<extra></extra>",
        "showlegend": False,
    }
    return _figure(
        [heatmap, marker],
        {
            "height": 420,
            "title": {"text": "What if: top-of-funnel activity a week"},
            "xaxis": {"title": {"text": "Average deal size"}, "tickprefix": symbol, "tickformat": ",.0f"},
            "yaxis": {
                "title": {"text": "Overall win rate (top of funnel → won)"},
                "ticksuffix": "%",
                "tickformat": ".1f" if grid.win_rates.max(initial=0) < 0.1 else ".0f",
            },
        },
    )


def milestones_chart(steps: Sequence[Milestone], period_start: date, target: float, currency: str = "USD") -> go.Figure:
    """The milestones a plan will save, as the steps of a small burn-up: typed ones solid, filled ones hollow."""
    symbol = CURRENCIES.get(currency, "")
    money_hover = f"{symbol}%{{y:,.0f}}"
    line = {
        "type": "scatter",
        "x": [period_start] + [m.due for m in steps],
        "y": [0.0] + [m.cumulative for m in steps],
        "mode": "lines",
        "line": {"shape": "hv", "color": PALETTE[2], "width": 2},
        "hoverinfo": "skip",
        "showlegend": False,
    }
    marks = {
        "type": "scatter",
        "x": [m.due for m in steps],
        "y": [m.cumulative for m in steps],
        "mode": "markers",
        "marker": {
            "size": 9,
            "color": ["white" if m.filled else PALETTE[0] for m in steps],
            "line": {"width": 2, "color": PALETTE[0]},
        },
        "customdata": ["filled by the shape" if m.filled else "" for m in steps],
        "hovertemplate": f"%{{x|%d %b %Y}}: {money_hover} booked by then %{{customdata}}<extra></extra>",
        "showlegend": False,
    }
    return _figure(
        [line, marks],
        {
            "height": 220,
            "margin": {"l": 10, "r": 10, "t": 30, "b": 10},
            "title": {"text": "The milestones Save will store", "font": {"size": 14}},
            "xaxis": {"gridcolor": "#eee", "tickformat": "%d %b"},
            "yaxis": {"tickprefix": symbol, "tickformat": ",.0f", "gridcolor": "#eee", "range": [0, target * 1.08]},
        },
    )


def burnup_chart(
    period_start: date,
    period_end: date,
    checks: Sequence[MilestoneCheck],
    booked: Sequence[tuple[date, float]],
    progress: Pace,
    currency: str = "USD",
) -> go.Figure:
    """Target, what the milestones call for, cumulative actuals, today, run-rate projection and required pace.

    The milestones line runs from 0 at the period start through each
    milestone: what is due by any day (:data:`planner.milestones.AHEAD_BEHIND_RULE`).
    Milestone markers are green when hit, red when missed and grey while
    upcoming; today's marker is green when ahead, red when behind, as the card says.
    """
    symbol = CURRENCIES.get(currency, "")
    money_hover = f"{symbol}%{{y:,.0f}}"
    path = milestone_path([c.milestone for c in checks], period_start)
    steps_y = [v for _, v in path]
    colours = {"hit": _GREEN, "missed": _RED, "upcoming": _GREY}
    today = min(max(progress.as_of, period_start), period_end)
    standing = "behind" if progress.behind else "ahead"
    traces: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "x": [period_start, period_end],
            "y": [progress.target, progress.target],
            "mode": "lines",
            "name": "Target",
            "line": {"color": PALETTE[0], "width": 1.5, "dash": "dash"},
            "hovertemplate": f"Target {money_hover}<extra></extra>",
        },
        {
            "type": "scatter",
            "x": [d for d, _ in path],
            "y": steps_y,
            "mode": "lines",
            "line": {"color": PALETTE[3], "width": 2},
            "name": "Milestones (due by each day)",
            "hoverinfo": "skip",
        },
        {
            "type": "scatter",
            "x": [c.milestone.due for c in checks],
            "y": [c.milestone.cumulative for c in checks],
            "mode": "markers",
            "name": "Milestone: hit / missed / upcoming",
            "marker": {
                "size": 11,
                "color": [colours[c.status] for c in checks],
                "symbol": ["circle" if c.status != "upcoming" else "circle-open" for c in checks],
                "line": {"width": 2, "color": [colours[c.status] for c in checks]},
            },
            "customdata": [[c.status, c.booked] for c in checks],
            "hovertemplate": (
                f"%{{x|%d %b}}: milestone {money_hover}, %{{customdata[0]}}"
                f" (booked {symbol}%{{customdata[1]:,.0f}})<extra></extra>"
            ),
        },
        {
            "type": "scatter",
            "x": [d for d, _ in booked],
            "y": [v for _, v in booked],
            "mode": "lines+markers",
            "name": "Booked",
            "line": {"color": _AMBER, "width": 3},
            "marker": {"size": 6},
            "hovertemplate": f"%{{x|%d %b}}: booked {money_hover}<extra></extra>",
        },
    ]
    if progress.as_of >= period_start:
        traces.append(
            {
                "type": "scatter",
                "x": [today],
                "y": [progress.booked],
                "mode": "markers",
                "name": "Today",
                "marker": {"size": 14, "symbol": "diamond", "color": _RED if progress.behind else _GREEN},
                "customdata": [[standing, abs(progress.gap_to_milestone), progress.due_to_date]],
                "hovertemplate": (
                    f"%{{x|%d %b}}: booked {money_hover}, %{{customdata[0]}} by {symbol}%{{customdata[1]:,.0f}}"
                    f" ({symbol}%{{customdata[2]:,.0f}} due)<extra></extra>"
                ),
            }
        )

    def from_today(name: str, end_value: float, line: dict[str, Any], hover: str) -> dict[str, Any]:
        return {
            "type": "scatter",
            "x": [today, period_end],
            "y": [progress.booked, end_value],
            "mode": "lines",
            "name": name,
            "line": line,
            "hovertemplate": f"%{{x|%d %b}}: {money_hover} {hover}<extra></extra>",
        }

    if progress.as_of < period_end:
        traces.append(
            from_today(
                "Run-rate projection",
                progress.run_rate_projection,
                {"color": _AMBER, "width": 2, "dash": "dot"},
                "at today's rate",
            )
        )
        if progress.remaining > 0:  # nothing is required once the target is met
            pace_colour = _RED if progress.behind else _GREEN
            traces.append(
                from_today(
                    "Required pace", progress.target, {"color": pace_colour, "width": 2, "dash": "dashdot"}, "needed"
                )
            )
    top = max([progress.target, progress.run_rate_projection, *steps_y, *(v for _, v in booked)]) * 1.08
    return _figure(
        traces,
        {
            "height": 420,
            "title": {"text": "Burn-up: booked against milestones"},
            "legend": {"orientation": "h", "y": -0.15},
            "xaxis": {"range": [period_start, period_end + timedelta(days=2)], "gridcolor": "#eee"},
            "yaxis": {"tickprefix": symbol, "tickformat": ",.0f", "range": [0, top], "gridcolor": "#eee"},
            "shapes": [
                {
                    "type": "line",
                    "x0": today,
                    "x1": today,
                    "y0": 0,
                    "y1": 1,
                    "yref": "paper",
                    "line": {"color": _GREY, "width": 1, "dash": "dot"},
                }
            ],
            "annotations": [
                {"x": today, "y": 1, "yref": "paper", "text": "today", "showarrow": False, "yanchor": "bottom"}
            ],
        },
    )


# --------------------------------------------------------------------------- calibration

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def conversion_chart(conversions: Sequence[Any]) -> go.Figure:
    """Stage-to-stage conversion with its 95% interval; a thin sample shows as a long whisker.

    ``conversions`` are :class:`planner.calibrate.StageConversion` (anything with from_stage,
    to_stage, rate, low, high, reached, advanced).
    """
    labels = [f"{c.from_stage} → {c.to_stage}" for c in conversions]
    rates = [(c.rate or 0) * 100 for c in conversions]
    trace = {
        "type": "bar",
        "x": rates,
        "y": labels,
        "orientation": "h",
        "marker": {"color": PALETTE[1]},
        "error_x": {
            "type": "data",
            "symmetric": False,
            "array": [max(c.high * 100 - r, 0) for c, r in zip(conversions, rates, strict=True)],
            "arrayminus": [max(r - c.low * 100, 0) for c, r in zip(conversions, rates, strict=True)],
            "color": "#1c2733",
            "thickness": 1.5,
        },
        "text": [f"{r:.0f}% of {c.reached:,}" for c, r in zip(conversions, rates, strict=True)],
        "textposition": "inside",
        "insidetextanchor": "start",
        "customdata": [[c.advanced, c.reached, c.low * 100, c.high * 100] for c in conversions],
        "hovertemplate": "%{y}: %{x:.1f}% (%{customdata[0]:,} of %{customdata[1]:,}),"
        " 95% interval %{customdata[2]:.0f}–%{customdata[3]:.0f}%<extra></extra>",
    }
    return _figure(
        [trace],
        {
            "height": max(240, 56 * len(labels) + 90),
            "title": {"text": "Stage conversion, with 95% intervals"},
            "xaxis": {"range": [0, 100], "ticksuffix": "%", "gridcolor": "#eee"},
            "yaxis": {"autorange": "reversed"},
        },
    )


def histogram_chart(
    bins: tuple[Sequence[float], Sequence[int]], title: str, x_title: str, prefix: str = "", suffix: str = ""
) -> go.Figure:
    """Pre-binned counts (edges, counts) as bars: the deal size or sales-cycle distribution."""
    edges, counts = list(bins[0]), list(bins[1])
    centres = [(a + b) / 2 for a, b in itertools.pairwise(edges)]
    widths = [b - a for a, b in itertools.pairwise(edges)]
    trace = {
        "type": "bar",
        "x": centres,
        "y": counts,
        "width": widths,
        "marker": {"color": PALETTE[2], "line": {"color": "white", "width": 1}},
        # The bin's bounds as text with their prefix and suffix: text, unlike a template, is escaped.
        "customdata": [[f"{prefix}{edge:,.0f}{suffix}" for edge in pair] for pair in itertools.pairwise(edges)],
        "hovertemplate": "%{customdata[0]} to %{customdata[1]}: %{y:,} won deals<extra></extra>",
    }
    return _figure(
        [trace],
        {
            "height": 300,
            "title": {"text": title},
            "bargap": 0,
            "xaxis": {"title": {"text": x_title}, "tickprefix": prefix, "ticksuffix": suffix, "tickformat": ",.0f"},
            "yaxis": {"title": {"text": "Won deals"}, "gridcolor": "#eee"},
        },
    )


def seasonality_chart(shares: Sequence[float]) -> go.Figure:
    """Share of won amount by calendar month: the "historical" milestone shape."""
    values = [s * 100 for s in shares]
    even = 100 / 12
    trace = {
        "type": "bar",
        "x": list(_MONTHS[: len(values)]),
        "y": values,
        "marker": {"color": [PALETTE[0] if v >= even else PALETTE[3] for v in values]},
        "hovertemplate": "%{x}: %{y:.1f}% of the year's won amount<extra></extra>",
    }
    even_line = {
        "type": "scatter",
        "x": list(_MONTHS[: len(values)]),
        "y": [even] * len(values),
        "mode": "lines",
        "name": "An even year",
        "line": {"color": _GREY, "dash": "dot"},
        "hoverinfo": "skip",
    }
    return _figure(
        [trace, even_line],
        {
            "height": 300,
            "title": {"text": "Seasonality: share of won amount by month"},
            "showlegend": False,
            "yaxis": {"ticksuffix": "%", "gridcolor": "#eee"},
        },
    )


# --------------------------------------------------------------------------- team review


def waterfall_chart(
    start_total: float, causes: Sequence[tuple[str, float]], end_total: float, start_label: str, end_label: str,
    currency: str = "USD",
) -> go.Figure:  # fmt: skip
    """Last week's pipeline total to this week's, by cause: new, pulled in, amounts, slipped, won, lost, dropped.

    A cause that moved nothing has no bar: a "+$0" beside deals the caption says changed without moving
    the total read as a contradiction.
    """
    symbol = CURRENCIES.get(currency, "")
    causes = [(name, value) for name, value in causes if value]
    labels = [start_label, *[name.capitalize() for name, _ in causes], end_label]
    values = [start_total, *[value for _, value in causes], end_total]
    trace = {
        "type": "waterfall",
        "x": labels,
        "y": values,
        "measure": ["absolute", *["relative"] * len(causes), "total"],
        "text": [
            f"{'+' if v >= 0 else '-'}{symbol}{abs(v):,.0f}" if 0 < i < len(values) - 1 else f"{symbol}{v:,.0f}"
            for i, v in enumerate(values)
        ],
        "textposition": "outside",
        "increasing": {"marker": {"color": _GREEN}},
        "decreasing": {"marker": {"color": _RED}},
        "totals": {"marker": {"color": PALETTE[1]}},
        "connector": {"line": {"color": "#c0c0c0", "width": 1}},
        "hovertemplate": f"%{{x}}: {symbol}%{{y:,.0f}}<extra></extra>",
    }
    return _figure(
        [trace],
        {
            "height": 380,
            "title": {"text": "What moved the pipeline closing in the period"},
            "showlegend": False,
            "yaxis": {"tickprefix": symbol, "tickformat": ",.0f", "gridcolor": "#eee"},
        },
    )


def team_burnup_chart(
    booked: Any,
    milestones: Any,
    target: float,
    lines: Sequence[tuple[int, str]],
    period: tuple[date, date],
    currency: str = "USD",
) -> go.Figure:
    """The team's cumulative booked against its summed milestones and target, with the chosen reps' lines.

    ``booked`` has columns week, line, booked (:func:`planner.team.team_burnup`); ``lines`` are the
    (line key, name) pairs to draw, the team's own among them when wanted. Lines are found by key,
    so a rep called "Team", or two reps of one name, each keep a line of their own.
    """
    symbol = CURRENCIES.get(currency, "")
    traces: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "x": list(period),
            "y": [target, target],
            "mode": "lines",
            "name": "Team target",
            "line": {"color": PALETTE[0], "width": 1.5, "dash": "dash"},
            "hovertemplate": f"Team target {symbol}%{{y:,.0f}}<extra></extra>",
        },
        {
            "type": "scatter",
            "x": [period[0], *list(milestones["due"])],
            "y": [0.0, *list(milestones["cumulative"])],
            "mode": "lines+markers",
            # Straight between milestones: what is due runs pro rata between them (AHEAD_BEHIND_RULE).
            "line": {"color": _GREY, "width": 1.5},
            "name": "Team milestones",
            "hovertemplate": f"Milestone %{{x|%d %b}}: {symbol}%{{y:,.0f}}<extra></extra>",
        },
    ]
    colours = [PALETTE[1], _AMBER, PALETTE[2], "#7e57c2", "#26a69a", "#8d6e63"]
    wanted = booked[booked["line"].isin([key for key, _ in lines])] if len(booked) else booked
    by_line = {key: rows for key, rows in wanted.groupby("line")} if len(wanted) else {}
    for i, (key, name) in enumerate(sorted(lines, key=lambda line: line[0] != TEAM_LINE)):
        rows = by_line.get(key)
        if rows is None or rows.empty:
            continue
        team = key == TEAM_LINE
        # Booked by the end of each week: plotted on the week's Friday.
        x = [w + timedelta(days=4) for w in rows["week"]]
        traces.append(
            {
                "type": "scatter",
                "x": [period[0], *x],
                "y": [0.0, *list(rows["booked"])],
                "mode": "lines+markers",
                "name": name,
                "line": {
                    "color": _GREEN if team else colours[(i - 1) % len(colours)],
                    "width": 3 if team else 1.5,
                },
                "hovertemplate": f"%{{fullData.name}}, %{{x|%d %b}}: {symbol}%{{y:,.0f}} booked<extra></extra>",
            }
        )
    return _figure(
        traces,
        {
            "height": 400,
            "title": {"text": "Team burn-up: booked against milestones"},
            "legend": {"orientation": "h", "y": -0.15},
            "yaxis": {"tickprefix": symbol, "tickformat": ",.0f", "gridcolor": "#eee"},
            "xaxis": {"range": [period[0], period[1] + timedelta(days=1)]},
        },
    )


# --------------------------------------------------------------------------- forecast


_METHOD_COLOURS = {"run-rate": _AMBER, "pipeline-weighted": PALETTE[2], "P50": PALETTE[0], "commit": "#7e57c2"}


def forecast_fan(
    figure: go.Figure,
    today: date,
    period_end: date,
    booked: float,
    p10: float,
    p50: float,
    p90: float,
    currency: str = "USD",
    label: str = "Forecast",
) -> go.Figure:
    """``figure`` (a burn-up) with the forecast range added: a P10–P90 band and the P50 line to the period end.

    The band starts at what is booked today and opens to P10 and P90 on ``period_end``; a fixed
    y-axis range is widened to show P90. ``figure`` itself is left as it was.
    """
    symbol = CURRENCIES.get(currency, "")
    spec = figure.to_dict()
    name = label  # made inert with the traces below, like every builder's text
    x = [today, period_end]
    hover = f"%{{fullData.name}}, %{{x|%d %b}}: {symbol}%{{y:,.0f}}<extra></extra>"
    traces = [
        {
            "type": "scatter",
            "x": x,
            "y": [booked, p10],
            "mode": "lines",
            "name": f"{name}: P10",
            "legendgroup": "forecast range",
            "showlegend": False,
            "line": {"color": PALETTE[2], "width": 0.5},
            "hovertemplate": hover,
        },
        {
            "type": "scatter",
            "x": x,
            "y": [booked, p90],
            "mode": "lines",
            "name": f"{name}: P10–P90 range",
            "legendgroup": "forecast range",
            "fill": "tonexty",
            "fillcolor": "rgba(91, 155, 213, 0.25)",
            "line": {"color": PALETTE[2], "width": 0.5},
            "customdata": [[booked], [p10]],
            "hovertemplate": f"%{{x|%d %b}}: P90 {symbol}%{{y:,.0f}}, P10 {symbol}%{{customdata[0]:,.0f}}"
            "<extra></extra>",
        },
        {
            "type": "scatter",
            "x": x,
            "y": [booked, p50],
            "mode": "lines",
            "name": f"{name}: P50",
            # Solid, unlike the dashed target: half the simulated periods end below it.
            "line": {"color": PALETTE[0], "width": 2},
            "hovertemplate": hover,
        },
    ]
    layout = spec.get("layout", {})
    axis = layout.get("yaxis", {})
    if "range" in axis:
        low, high = axis["range"]
        layout["yaxis"] = {**axis, "range": [low, max(high, p90 * 1.08)]}
    return go.Figure(data=[*spec.get("data", []), *_inert(traces)], layout=layout, _validate=False)


def forecast_accuracy_chart(data: Any, who: str = "Team", currency: str = "USD") -> go.Figure:
    """Each method's projection by snapshot date, against the period's final bookings.

    ``data`` has as_of, method, projected and actual (see :func:`planner.forecast.accuracy_by_week`).
    """
    symbol = CURRENCIES.get(currency, "")
    traces: list[dict[str, Any]] = []
    for method in dict.fromkeys(data["method"]):
        rows = data[data["method"] == method]
        traces.append(
            {
                "type": "scatter",
                "x": list(rows["as_of"]),
                "y": list(rows["projected"]),
                "mode": "lines+markers",
                "name": method,
                "line": {"color": _METHOD_COLOURS.get(method, _GREY), "width": 2},
                "hovertemplate": f"%{{fullData.name}} on %{{x|%d %b}}: {symbol}%{{y:,.0f}}<extra></extra>",
            }
        )
    if len(data):
        days = list(data["as_of"])
        actual = float(data["actual"].iloc[0])
        traces.append(
            {
                "type": "scatter",
                "x": [min(days), max(days)],
                "y": [actual, actual],
                "mode": "lines",
                "name": "Actual",
                "line": {"color": _GREEN, "width": 2, "dash": "dash"},
                "hovertemplate": f"Actual {symbol}%{{y:,.0f}}<extra></extra>",
            }
        )
    return _figure(
        traces,
        {
            "height": 300,
            "title": {"text": f"Forecast vs actual: {who}"},
            "legend": {"orientation": "h", "y": -0.25},
            "yaxis": {"tickprefix": symbol, "tickformat": ",.0f", "gridcolor": "#eee"},
            # A tick on each snapshot date: the weeks the projections were made.
            "xaxis": {"gridcolor": "#eee", "tickformat": "%d %b", "tickvals": sorted(set(data["as_of"]))},
        },
    )
