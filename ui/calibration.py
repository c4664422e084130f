"""The Calibrate page's steps for an uploaded export, each done once per file and choice, and held as it is.

``st.cache_resource``, not ``st.cache_data``: a million-row export's table, typed columns and
deals are hundreds of MB, and ``cache_data`` pickled and unpickled them on every rerun (half a
second and more, and a copy's worth of memory each time). Held objects are shared by every
session that uploads the same file, so nothing may write into them: the planner's steps build
new arrays and frames rather than change their inputs, and the page only reads them.

Each step is keyed by the files' digests (hashing a 100 MB upload on every rerun would cost
more than the page) and the user's choices; the underscored arguments are not hashed. The
bounds keep at most two versions of each big step per server process.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from planner.calibrate import Calibration, calibrate
from planner.imports import (
    DealImport,
    ImportFailure,
    Mapping,
    RawTable,
    StageHistory,
    TypedDeals,
    date_order_needed,
    detect_mapping,
    finish_deals,
    read_history,
    read_table,
    type_deals,
)

__all__ = ["calibration", "currency_counts", "date_order_found", "deals", "history", "table", "typed"]


@st.cache_resource(max_entries=2, show_spinner=False)
def table(digest: str, name: str, sheet: str | None, _data: bytes) -> RawTable:
    """Every cell of the file as text (:func:`planner.imports.read_table`)."""
    return read_table(_data, name, sheet)


@st.cache_resource(max_entries=2, show_spinner=False)
def history(digest: str, _table: RawTable) -> StageHistory:
    """A stage history export folded by deal; refused when its dates could be read two ways."""
    mapping = detect_mapping(_table.columns)
    order = date_order_needed(*[_table.frame[c] for k, c in mapping.fields.items() if k == "changed_at"])
    if order == "ambiguous":
        raise ImportFailure(f"{_table.source}: its dates could be day/month or month/day; export them as YYYY-MM-DD.")
    return read_history(_table, mapping, order or "MDY")


@st.cache_resource(max_entries=4, show_spinner=False)
def date_order_found(key: tuple, columns: tuple[str, ...], _table: RawTable) -> str | None:
    """What the dates in ``columns`` say of their order (:func:`planner.imports.date_order_needed`)."""
    return date_order_needed(*[_table.frame[c] for c in columns])


@st.cache_resource(max_entries=2, show_spinner=False)
def typed(
    key: tuple,
    fields: tuple[tuple[str, str], ...],
    preset: str,
    entered: tuple[tuple[str, str], ...],
    date_order: str,
    _table: RawTable,
    _history: StageHistory | None,
) -> TypedDeals:
    """Every mapped column typed, once per mapping and date order (:func:`planner.imports.type_deals`)."""
    return type_deals(_table, Mapping(preset, dict(fields), dict(entered)), date_order, _history)


@st.cache_resource(max_entries=2, show_spinner=False)
def deals(key: tuple, outcomes: tuple[tuple[str, str], ...], order: tuple[str, ...], _typed: TypedDeals) -> DealImport:
    """The deals ready to calibrate, once per stage → outcome map and funnel order."""
    return finish_deals(_typed, dict(outcomes), order)


@st.cache_resource(max_entries=4, show_spinner=False)
def currency_counts(key: tuple, _deals: DealImport) -> pd.Series:
    """How many deals each currency named in the file has, most first."""
    currency = _deals.deals["currency"]
    return currency[currency != ""].value_counts()


@st.cache_resource(max_entries=8, show_spinner=False)
def calibration(
    key: tuple, currency: str | None, rates: tuple[tuple[str, float], ...], _deals: DealImport
) -> Calibration:
    """Every calibrated figure, once per set of deals, currency and exchange rates."""
    return calibrate(
        _deals.deals,
        _deals.stage_order,
        rows_read=_deals.rows_read,
        notes=_deals.notes,
        currency=currency,
        rates=dict(rates),
    )
