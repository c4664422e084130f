"""Mapping an export's columns to deal fields, and asking how its dates are written: Calibrate and Team review."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from planner.imports import DEAL_FIELDS, HISTORY_FIELDS, PRESETS, Mapping, RawTable, date_order_needed, detect_mapping

__all__ = [
    "MAIN_FIELDS",
    "NOT_IN_FILE",
    "ask_date_order",
    "column_mapping",
    "date_order",
    "forget_mapping",
    "problem_table",
]

#: The choice for a field the file does not have.
NOT_IN_FILE = "— not in this file —"
#: Fields every export has a say on; the rest wait under "More columns".
MAIN_FIELDS = ("deal_id", "stage", "amount", "created", "closed", "owner", "account", "currency", "status")


def column_mapping(table: RawTable, prefix: str, on_format_change: Callable[[], None] | None = None) -> Mapping:
    """Export format and one picker per deal field, prefilled from the header row; the mapping they give.

    Widget keys are ``{prefix}.preset`` and ``{prefix}.map.<field>``: clear them
    (see :func:`forget_mapping`) when another file arrives, so its columns are
    recognised afresh.
    """
    preset_key = f"{prefix}.preset"
    detected = detect_mapping(table.columns, st.session_state.get(preset_key))
    if st.session_state.get(preset_key) is None:
        st.session_state[preset_key] = detected.preset
    for name in DEAL_FIELDS:
        st.session_state.setdefault(f"{prefix}.map.{name}", detected.fields.get(name, NOT_IN_FILE))
    labels = {p.name: p.label for p in PRESETS}
    st.selectbox(
        "Export format",
        list(labels),
        key=preset_key,
        format_func=labels.get,
        on_change=on_format_change or (lambda: forget_mapping(prefix, keep_format=True)),
        help="Recognised from the header row; pick another to re-map the columns.",
    )
    options = [NOT_IN_FILE, *table.columns]

    def pickers(names: list[str]) -> None:
        grid = st.columns(3)
        for i, name in enumerate(names):
            key = f"{prefix}.map.{name}"
            if st.session_state[key] not in options:
                st.session_state[key] = NOT_IN_FILE
            grid[i % 3].selectbox(DEAL_FIELDS[name], options, key=key)

    pickers([n for n in DEAL_FIELDS if n in MAIN_FIELDS])
    more = [n for n in DEAL_FIELDS if n not in MAIN_FIELDS]
    found = [DEAL_FIELDS[n] for n in more if st.session_state[f"{prefix}.map.{n}"] != NOT_IN_FILE]
    with st.expander(f"More columns ({', '.join(found) if found else 'none found'})"):
        st.caption("Status or won / closed flags decide won and lost over the stage's name; probabilities help "
                   "place lost deals; estimated amounts and close dates serve open deals.")  # fmt: skip
        pickers(more)
    fields = {n: st.session_state[f"{prefix}.map.{n}"] for n in DEAL_FIELDS}
    picked = {n: c for n, c in fields.items() if c != NOT_IN_FILE}
    # A stage history's own columns (when of change, which field) have no picker: they come as recognised.
    history = {n: c for n, c in detected.fields.items() if n in HISTORY_FIELDS}
    return Mapping(detected.preset, {**history, **picked}, detected.entered)


def date_order(table: RawTable, mapping: Mapping, prefix: str) -> str:
    """How the export's slashed dates are written: settled by the dates themselves, else asked ("MDY" by default)."""
    dates = [table.frame[mapping.fields[f]] for f in ("created", "closed") if f in mapping.fields]
    return ask_date_order(date_order_needed(*dates), prefix)


def ask_date_order(order: str | None, prefix: str) -> str:
    """The date order the dates settled (:func:`planner.imports.date_order_needed`'s answer), else asked."""
    if order != "ambiguous":
        return order or "MDY"  # None: ISO dates, where the order does not matter
    return (
        st.radio(
            "Dates like 03/04/2025 are written",
            ["MDY", "DMY"],
            key=f"{prefix}.date_order",
            horizontal=True,
            format_func={"MDY": "Month first: 03/04/2025 is 4 March", "DMY": "Day first: 03/04/2025 is 3 April"}.get,
        )
        or "MDY"
    )


def forget_mapping(prefix: str, *, keep_format: bool = False) -> None:
    """Clear the column pickers of :func:`column_mapping` (and the format, unless ``keep_format``)."""
    state = st.session_state
    for key in [k for k in state if isinstance(k, str) and k.startswith(f"{prefix}.map.")]:
        del state[key]
    if not keep_format:
        state[f"{prefix}.preset"] = None


def problem_table(problems: pd.DataFrame, rows: int = 1_000) -> pd.DataFrame:
    """The first ``rows`` problems of an import, with the headers a user reads (the last one: the figures each
    row was left out of)."""
    return problems.head(rows).rename(
        columns={"row": "Row", "column": "Column", "reason": "Problem", "left_out_of": "Left out of"}
    )
