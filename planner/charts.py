"""Plotly figure builders: data in, ``go.Figure`` out.  No queries, no widgets."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from planner.funnel import FunnelPlan, Lever, WhatIfGrid
from planner.units import CURRENCIES

__all__ = ["PALETTE", "coverage_chart", "funnel_chart", "levers_chart", "what_if_heatmap"]

#: Brand colours, darkest first; the theme in .streamlit/config.toml uses PALETTE[0].
PALETTE = ("#1f4e79", "#2e75b6", "#5b9bd5", "#9dc3e6", "#c9dcef", "#e3edf7")
_AMBER = "#d9822b"
_FONT = dict(family="Source Sans Pro, sans-serif", size=14)


def _layout(fig: go.Figure, *, height: int = 360, **kwargs: object) -> go.Figure:
    fig.update_layout(
        height=height,
        margin=dict(l=10, r=10, t=40, b=10),
        font=_FONT,
        plot_bgcolor="white",
        paper_bgcolor="white",
        hoverlabel=dict(font_size=13),
        **kwargs,
    )
    return fig


def funnel_chart(plan: FunnelPlan) -> go.Figure:
    """Stage totals from the top of the funnel down, with the ratio between stages."""
    names = [s.name for s in plan.stages]
    totals = [s.total for s in plan.stages]
    colours = [PALETTE[min(i, len(PALETTE) - 1)] for i in range(len(names))]
    fig = go.Figure(
        go.Funnel(
            y=names,
            x=totals,
            texttemplate="%{x:,}",
            textposition="inside",
            marker=dict(color=colours),
            connector=dict(line=dict(color="#c0c0c0", width=1)),
            hovertemplate="%{y}: %{x:,}<extra></extra>",
        )
    )
    return _layout(fig, title=dict(text=f"{plan.deals_needed:,} deals, walked back through the funnel"))


def coverage_chart(plan: FunnelPlan, currency: str = "USD") -> go.Figure:
    """Open pipeline needed on the first of each month, beside that month's target."""
    months = [c.month for c in plan.coverage]
    symbol = CURRENCIES.get(currency, "")
    fig = go.Figure()
    fig.add_bar(
        x=months,
        y=[c.pipeline_needed for c in plan.coverage],
        name=f"Pipeline needed ({plan.inputs.coverage_ratio:g}× coverage)",
        marker_color=PALETTE[1],
        hovertemplate=f"%{{x|%b %Y}}: {symbol}%{{y:,.0f}} open pipeline<extra></extra>",
    )
    fig.add_scatter(
        x=months,
        y=[c.month_target for c in plan.coverage],
        name="Month's share of the target",
        mode="lines+markers",
        line=dict(color=_AMBER, width=2),
        hovertemplate=f"%{{x|%b %Y}}: {symbol}%{{y:,.0f}} to book<extra></extra>",
    )
    fig.update_xaxes(dtick="M1", tickformat="%b\n%Y")
    fig.update_yaxes(tickprefix=symbol, tickformat=",.0f", gridcolor="#eee")
    return _layout(
        fig,
        title=dict(text="Open pipeline needed on the 1st of each month"),
        legend=dict(orientation="h", y=-0.2),
        bargap=0.3,
    )


def levers_chart(ranked: Sequence[Lever]) -> go.Figure:
    """Each lever's saving, biggest at the top."""
    labels = [lv.label for lv in ranked]
    saved = [lv.effort_saved * 100 for lv in ranked]
    fig = go.Figure(
        go.Bar(
            x=saved[::-1],
            y=labels[::-1],
            orientation="h",
            marker_color=[PALETTE[0] if i == 0 else PALETTE[3] for i in range(len(labels))][::-1],
            text=[f"{s:.1f}%" for s in saved[::-1]],
            textposition="outside",
            hovertemplate="%{y}: saves %{x:.1f}% of the prospecting effort<extra></extra>",
        )
    )
    fig.update_xaxes(
        title="Prospecting effort saved by +10% (%)",
        ticksuffix="%",
        rangemode="tozero",
        range=[0, max([*saved, 1.0]) * 1.25],
        gridcolor="#eee",
    )
    return _layout(fig, height=max(220, 48 * len(labels) + 80), title=dict(text="Levers: +10% on each, ranked"))


def what_if_heatmap(grid: WhatIfGrid, currency: str = "USD") -> go.Figure:
    """Weekly top-of-funnel activity for every deal size x overall win rate.

    The plan as it stands is marked with a cross.
    """
    symbol = CURRENCIES.get(currency, "")
    z = np.round(grid.top_per_week, 1)
    fig = go.Figure(
        go.Heatmap(
            x=grid.deal_sizes,
            y=grid.win_rates * 100,
            z=z,
            colorscale="Blues",
            colorbar=dict(title="per week"),
            text=z,
            texttemplate="%{text:,.0f}" if z.size <= 225 else None,
            hovertemplate=(
                f"Deal size {symbol}%{{x:,.0f}}<br>Win rate %{{y:.1f}}%<br>"
                "%{z:,.1f} top-of-funnel a week<extra></extra>"
            ),
        )
    )
    fig.add_scatter(
        x=[grid.current_deal_size],
        y=[grid.current_win_rate * 100],
        mode="markers",
        marker=dict(symbol="x", size=14, color=_AMBER, line=dict(width=2, color="white")),
        name="Your plan",
        hovertemplate="Your plan<extra></extra>",
        showlegend=False,
    )
    fig.update_xaxes(title="Average deal size", tickprefix=symbol, tickformat=",.0f")
    fig.update_yaxes(title="Overall win rate (top of funnel → won)", ticksuffix="%")
    return _layout(fig, height=420, title=dict(text="What if: top-of-funnel activity a week"))
