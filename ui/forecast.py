"""What Team review and Track both show of a forecast: the "without the largest deals" toggle, the range in
words, the concentration flag, what is missing, and every assumption in the user's words."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from planner.forecast import ForecastRange, RangeRow, TeamOutlook
from planner.units import markdown_text, money, money_short, plural

__all__ = ["WITHOUT", "assumptions", "concentration", "left_out", "missing", "range_words", "without_picker"]

#: The toggle's choices: how many of the largest open deals to leave out.
WITHOUT = {0: "Every open deal", 1: "Without the largest deal", 3: "Without the largest 3"}


def without_picker(key: str) -> int:
    """The toggle: every open deal, or without the largest one or three (the value kept under ``key``)."""
    return int(
        st.segmented_control(  # required: never None once the session has its default (ui.session)
            "What if the biggest deals slip?",
            list(WITHOUT),
            key=key,
            format_func=WITHOUT.__getitem__,
            required=True,
            help="The same simulated periods with the largest open deals closing in the period never won: "
            "the difference is those deals', not chance.",
        )
    )


def range_words(row: RangeRow, currency: str, period_end_text: str) -> str:
    """ "P10 … · P50 … · P90 … by <end>; a N% chance of reaching the target", in Markdown."""
    return (
        f"**P10 {money(row.p10, currency)} · P50 {money(row.p50, currency)} · P90 {money(row.p90, currency)}** "
        f"by {period_end_text}: **a {row.chance_of_hitting:.0%} chance** of reaching the target of "
        f"{money(row.target, currency)} ({money(row.booked, currency)} booked, "
        f"{money(row.pipeline, currency)} of open pipeline closing in the period)."
    )


def left_out(scenario: ForecastRange, deals: pd.DataFrame, currency: str) -> None:
    """Which deals the toggle left out, named with their owner and amount."""
    if not scenario.without_top:
        return
    if not scenario.removed:
        st.caption("There is no open deal closing in the period to leave out.")
        return
    table = deals.set_index("deal_id")
    named = "; ".join(
        f"{markdown_text(deal)} ({markdown_text(str(table.loc[deal, 'owner']))}, "
        f"{money(float(table.loc[deal, 'amount']), currency)})"
        for deal in scenario.removed
    )
    st.caption(f"Left out: {named} — {money(scenario.removed_amount, currency)} in all.")


def concentration(rows: list[RangeRow], flag: float, currency: str) -> None:
    """A warning naming whoever leans on one deal: the largest open deal over ``flag`` of their pipeline."""
    leaning = [r for r in rows if r.concentrated]
    if not leaning:
        return
    who = "; ".join(
        f"**{markdown_text(r.rep)}**: {r.concentration:.0%} in one deal of {money_short(r.largest_deal, currency)}"
        for r in leaning[:8]
    )
    more = f" and {plural(len(leaning) - 8, 'more rep')}" if len(leaning) > 8 else ""
    st.warning(
        f"The forecast leans on single deals — the largest open deal is over {flag:.0%} of the pipeline for "
        f"{who}{more}. Ask about those deals first, and look at the range without them.",
        icon=":material/warning:",
    )


def missing(outlook: TeamOutlook | None) -> None:
    """Why there is no forecast, and how to get one."""
    what = outlook.missing if outlook is not None else "The plan no longer exists."
    st.info(f"**No forecast range yet.** {markdown_text(what)}", icon=":material/query_stats:")


def assumptions(outlook: TeamOutlook) -> None:
    """Every assumption the forecast made, and what it noticed in the data, in words."""
    result = outlook.forecast
    with st.expander("What this forecast assumes", icon=":material/rule:"):
        st.markdown("\n".join(f"- {markdown_text(line)}" for line in outlook.assumptions))
        for note in result.notes if result is not None else ():
            st.caption(markdown_text(note))
