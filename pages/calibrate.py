"""Calibrate: last year's CRM export in, the ratios every plan should start from out."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import pandas as pd
import streamlit as st

from planner import store
from planner.calibrate import Calibration, CalibrationError, calibrate
from planner.charts import conversion_chart, histogram_chart, seasonality_chart
from planner.exports import csv_bytes
from planner.imports import (
    OUTCOMES,
    DealImport,
    ImportFailure,
    Mapping,
    RawTable,
    guess_outcome,
    guess_stage_order,
    read_deals,
    read_table,
)
from planner.units import markdown_text
from ui import auth, data
from ui import mapping as mapping_widgets

viewer = auth.enter_page("calibrate")

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "sample_crm_export.csv"
state = st.session_state


# --------------------------------------------------------------------------- cached steps


@st.cache_data(max_entries=2, show_spinner=False)
def _read(digest: str, name: str, sheet: str | None, _data: bytes) -> RawTable:
    # Keyed by the file's digest: hashing a 100 MB upload on every rerun would cost more than the page.
    return read_table(_data, name, sheet)


@st.cache_data(max_entries=4, show_spinner=False)
def _deals(
    digest: str,
    sheet: str | None,
    fields: tuple[tuple[str, str], ...],
    preset: str,
    entered: tuple[tuple[str, str], ...],
    outcomes: tuple[tuple[str, str], ...],
    order: tuple[str, ...],
    date_order: str,
    _table: RawTable,
) -> DealImport:
    return read_deals(_table, Mapping(preset, dict(fields), dict(entered)), dict(outcomes), order, date_order)


@st.cache_data(max_entries=4, show_spinner=False)
def _calibration(key: tuple, _deals: DealImport) -> Calibration:
    return calibrate(_deals.deals, _deals.stage_order, rows_read=_deals.rows_read, notes=_deals.notes)


# --------------------------------------------------------------------------- source


def _set_source(name: str, data: bytes) -> None:
    state["calibrate.source"] = {"name": name, "data": data, "digest": hashlib.sha256(data).hexdigest()}
    _reset_mapping()
    state["calibrate.sheet"] = None
    state["calibrate.preset"] = None
    state["calibrate.saved_id"] = None


def _take_upload() -> None:
    upload = state.get("calibrate.upload")
    if upload is not None:
        _set_source(upload.name, upload.getvalue())


def _take_sample() -> None:
    _set_source(SAMPLE.name, SAMPLE.read_bytes())


def _source() -> dict | None:
    st.file_uploader(
        "Upload last year's deals (CSV or Excel .xlsx)",
        type=["csv", "txt", "tsv", "xlsx"],
        key="calibrate.upload",
        on_change=_take_upload,
        help="Salesforce opportunity reports or exports, Salesforce stage history, HubSpot deals (with "
        "“Date entered …” columns), Pipedrive deals, or any CSV with a stage and an amount column.",
    )
    st.button("Try the sample export", icon=":material/science:", key="btn.calibrate_sample", on_click=_take_sample)
    return state.get("calibrate.source")


# --------------------------------------------------------------------------- mapping


def _mapping_inputs(table: RawTable) -> Mapping:
    mapping = mapping_widgets.column_mapping(table, "calibrate", on_format_change=_reset_mapping)
    if mapping.entered:
        st.caption(
            f"Stage history: {len(mapping.entered)} “Date entered …” columns found; "
            "stage conversion and lags come from them."
        )
    return mapping


def _new_sheet() -> None:
    """Another sheet has other columns: recognise its format afresh."""
    state["calibrate.preset"] = None
    _reset_mapping()


def _reset_mapping() -> None:
    """Recognise the columns and stages afresh (the format stays)."""
    mapping_widgets.forget_mapping("calibrate", keep_format=True)
    for key in [k for k in state if isinstance(k, str) and k.startswith("calibrate.stages")]:
        del state[key]


def _stage_frame(table: RawTable, mapping: Mapping) -> pd.DataFrame:
    """Stage → outcome and order, as the user last left them (guessed the first time)."""
    column = mapping.fields.get("stage")
    counts = (
        table.frame[column].astype("str").str.strip().value_counts(sort=False) if column else pd.Series(dtype="int64")
    )
    stages = [s for s in counts.index if s] + [s for s in mapping.entered if s not in counts.index]
    key = (tuple(stages), column)
    kept = state.get("calibrate.stages")
    if kept is not None and state.get("calibrate.stages_key") == key:
        return kept
    order = guess_stage_order(stages)
    frame = pd.DataFrame(
        {
            "Stage": stages,
            "Deals": [int(counts.get(s, 0)) for s in stages],
            "Outcome": [guess_outcome(s) for s in stages],
            "Order": [float(order.index(s) + 1) if s in order else None for s in stages],
        }
    )
    # Funnel order top down, lost stages last: the table reads like the pipeline.
    frame = frame.sort_values("Order", na_position="last", kind="stable", ignore_index=True)
    state["calibrate.stages"], state["calibrate.stages_key"] = frame, key
    return frame


def _apply_stage_edits() -> None:
    """Apply the data editor's edits to the stage table it was drawn from (so its input stays stable)."""
    edits = state.get("calibrate.stage_editor", {}).get("edited_rows", {})
    frame = state["calibrate.stages"].copy()
    for row, changes in edits.items():
        for column, value in changes.items():
            if column in ("Outcome", "Order"):
                frame.loc[int(row), column] = value
    state["calibrate.stages"] = frame


def _stage_inputs(frame: pd.DataFrame) -> tuple[dict[str, str], tuple[str, ...]]:
    st.data_editor(
        frame,
        key="calibrate.stage_editor",
        on_change=_apply_stage_edits,
        hide_index=True,
        width="stretch",
        disabled=["Stage", "Deals"],
        column_config={
            "Outcome": st.column_config.SelectboxColumn(options=list(OUTCOMES), required=True),
            "Order": st.column_config.NumberColumn(
                min_value=1, step=1, help="Funnel position, 1 at the top; the won stage last. Blank for lost stages."
            ),
        },
    )
    outcomes = dict(zip(frame["Stage"], frame["Outcome"], strict=True))
    funnel = frame[(frame["Outcome"] != "lost") & frame["Order"].notna()]
    won_last = funnel.assign(won=funnel["Outcome"] == "won").sort_values(["won", "Order"], kind="stable")
    return outcomes, tuple(won_last["Stage"])


# --------------------------------------------------------------------------- results


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def _num(value: float | None, suffix: str = "") -> str:
    return "—" if value is None else f"{value:,.0f}{suffix}"


def _days(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f} day{'' if round(value) == 1 else 's'}"


def _report(deals: DealImport) -> None:
    st.subheader("Validation")
    good, bad = len(deals.deals), deals.rows_bad
    cards = st.columns(3)
    cards[0].metric("Rows read", f"{deals.rows_read:,}", border=True)
    cards[1].metric("Deals used", f"{good:,}", border=True)
    cards[2].metric("Rows left out", f"{bad:,}", border=True)
    if deals.problems.empty:
        st.success("Every row could be read.", icon=":material/check_circle:")
        return
    st.warning(
        f"{len(deals.problems):,} problems in {bad:,} rows: those rows are left out, the other {good:,} still count. "
        "Fix them in the CRM or the file and upload again, or go on without them.",
        icon=":material/warning:",
    )
    shown = deals.problems.head(1_000).rename(columns={"row": "Row", "column": "Column", "reason": "Problem"})
    st.dataframe(shown, hide_index=True, height=240, width="stretch")
    st.download_button(
        "Download the problem report (CSV)",
        csv_bytes(deals.problems),
        file_name="backplan-import-problems.csv",
        mime="text/csv",
        icon=":material/download:",
        on_click="ignore",
    )


def _results(result: Calibration) -> None:
    o = result.overall
    st.subheader("What last year says")
    for note in result.notes:
        st.info(note, icon=":material/info:")
    cards = st.columns(4)
    cards[0].metric(
        "Win rate",
        _pct(o.win_rate),
        f"{_pct(o.win_rate_value)} by value",
        delta_color="off",
        delta_arrow="off",
        border=True,
        help=f"won ÷ (won + lost) = {o.won:,} ÷ {o.won + o.lost:,}; by value: won amount ÷ (won + lost amount)",
    )
    cards[1].metric(
        "Average deal size",
        _num(o.avg_deal_size),
        f"median {_num(o.median_deal_size)}",
        delta_color="off",
        delta_arrow="off",
        border=True,
        help=f"Mean amount of {o.won_with_amount:,} won deals",
    )
    cards[2].metric(
        "Sales cycle",
        _days(o.cycle_median_days),
        f"middle half {_num(o.cycle_q1_days)}–{_num(o.cycle_q3_days)} days",
        delta_color="off",
        delta_arrow="off",
        border=True,
        help=f"Median days from created to close over {o.cycle_deals:,} won deals",
    )
    cards[3].metric(
        "Suggested coverage",
        "—" if o.suggested_coverage is None else f"{o.suggested_coverage:.1f}×",
        border=True,
        help="1 ÷ win rate by value: the open pipeline each dollar of target needs",
    )
    st.caption(f"{o.won:,} won · {o.lost:,} lost · {o.open:,} still open")
    left, right = st.columns(2, gap="large")
    with left:
        if o.conversions:
            st.plotly_chart(conversion_chart(o.conversions), config={"displayModeBar": False})
        lags = ", ".join(f"{c.from_stage} {_num(lag)} d" for c, lag in zip(o.conversions, result.lag_days, strict=True))
        st.caption(f"Days from each stage to the next ({result.lag_source}): {lags}")
    with right:
        if result.seasonality:
            st.plotly_chart(seasonality_chart(result.seasonality), config={"displayModeBar": False})
    left, right = st.columns(2, gap="large")
    if result.deal_size_bins[0]:
        left.plotly_chart(
            histogram_chart(result.deal_size_bins, "Won deal sizes", "Deal size"), config={"displayModeBar": False}
        )
    if result.cycle_bins[0]:
        right.plotly_chart(
            histogram_chart(result.cycle_bins, "Sales cycle of won deals", "Days from created to close"),
            config={"displayModeBar": False},
        )
    st.subheader("By owner")
    rows = [
        {
            "Owner": f.owner or "(no owner)",
            "Deals": f.deals,
            "Won": f.won,
            "Lost": f.lost,
            "Open": f.open,
            "Win rate": None if f.win_rate is None else f.win_rate * 100,
            "Win rate by value": None if f.win_rate_value is None else f.win_rate_value * 100,
            "Average deal": None if f.avg_deal_size is None else round(f.avg_deal_size),
            "Median cycle (days)": f.cycle_median_days,
            "Coverage": f.suggested_coverage,
        }
        for f in result.by_owner
    ]
    st.dataframe(
        rows,
        hide_index=True,
        width="stretch",
        column_config={
            "Win rate": st.column_config.NumberColumn(format="%.1f%%"),
            "Win rate by value": st.column_config.NumberColumn(format="%.1f%%"),
            "Average deal": st.column_config.NumberColumn(format="localized"),
            "Coverage": st.column_config.NumberColumn(format="%.1f×"),
        },
    )
    conversions = [
        {
            "Owner": f.owner or "(no owner)",
            **{
                f"{c.from_stage} → {c.to_stage}": None if c.rate is None else round(c.rate * 100, 1)
                for c in f.conversions
            },
        }
        for f in result.by_owner
    ]
    st.caption("Stage conversion by owner (%): the fewer deals behind a figure, the less it can be trusted.")
    st.dataframe(conversions, hide_index=True, width="stretch")


# --------------------------------------------------------------------------- profiles


#: What anyone but sales ops is told when saving or deleting a profile.
ONLY_OPS = "Only sales ops can save or delete calibration profiles."


def _save(result: Calibration, deals: DealImport, source: str) -> None:
    if not auth.permitted(lambda who: who.can_calibrate, ONLY_OPS):
        return
    try:
        profile_id = store.save_profile(
            data.db(),
            auth.viewer(),
            state.get("calibrate.profile_name", ""),
            source,
            result.to_dict(),
            deals.deals,
            rows_read=deals.rows_read,
            rows_bad=deals.rows_bad,
        )
    except data.WRITE_ERRORS as error:
        state["calibrate.save_error"] = data.failure(error)
        return
    state["calibrate.save_error"] = None
    state["calibrate.saved_id"] = profile_id
    st.toast(f"Saved profile “{markdown_text(state['calibrate.profile_name'])}”.", icon=":material/check:")


def _save_form(result: Calibration, deals: DealImport, source: str) -> None:
    st.subheader("Save as a profile")
    st.caption("A profile keeps these figures and the deals behind them; apply it on the Plan page.")
    state.setdefault("calibrate.profile_name", f"{Path(source).stem} · {date.today():%d %b %Y}")
    name_col, button_col = st.columns([3, 1], vertical_alignment="bottom")
    name_col.text_input("Profile name", key="calibrate.profile_name", max_chars=80)
    button_col.button(
        "Save as profile",
        key="btn.calibrate_save",
        type="primary",
        icon=":material/save:",
        on_click=_save,
        args=(result, deals, source),
        disabled=result.overall.won == 0,
    )
    if result.overall.won == 0:
        st.caption("A profile needs won deals: there are none to learn a deal size from.")
    if state.get("calibrate.save_error"):
        st.error(markdown_text(state["calibrate.save_error"]), icon=":material/error:")
    elif state.get("calibrate.saved_id"):
        st.success("Saved. Open the Plan page and pick it under **Calibration profile**.", icon=":material/check:")
        st.page_link("pages/plan.py", label="Go to the Plan page", icon=":material/flag:")


def _delete_profile(profile_id: int) -> None:
    state["calibrate.confirm_delete"] = None
    if not auth.permitted(lambda who: who.can_calibrate, ONLY_OPS):
        return
    try:
        store.delete_profile(data.db(), auth.viewer(), profile_id)
    except data.WRITE_ERRORS as error:
        st.toast(f"Nothing was deleted: {markdown_text(data.failure(error))}", icon=":material/error:")


def _saved_profiles() -> None:
    profiles = store.list_profiles(data.db())
    st.subheader("Saved profiles")
    if not profiles:
        st.caption("None yet.")
        return
    for p in profiles:
        with st.container(border=True):
            text, action = st.columns([5, 1], vertical_alignment="center")
            text.markdown(f"**{markdown_text(p.name)}**")
            text.caption(
                f"from {markdown_text(p.source_file)} · {p.rows_used:,} deals used of {p.rows_read:,} rows "
                f"({p.rows_bad:,} left out) · saved {p.created_at:%d %b %Y %H:%M}"
            )
            if state.get("calibrate.confirm_delete") == p.id:
                action.button(
                    "Yes, delete", key=f"btn.profile_delete_yes.{p.id}", on_click=_delete_profile, args=(p.id,)
                )
            else:
                action.button(
                    "Delete…",
                    key=f"btn.profile_delete.{p.id}",
                    on_click=lambda pid=p.id: state.update({"calibrate.confirm_delete": pid}),
                )


# --------------------------------------------------------------------------- the page


st.title("Calibrate from last year's deals")
st.caption(
    "Upload a CRM export → check the columns and stages → see the win rates, deal size, cycle and stage "
    "conversion it implies → save it as a profile every plan can start from."
)
source_col, profiles_col = st.columns([0.6, 0.4], gap="large")
with source_col:
    source = _source()
with profiles_col:
    _saved_profiles()

if source is None:
    st.info(
        "Export last year's closed and open deals from your CRM with at least a **stage** (or won/lost status) "
        "and an **amount** column; created and close dates give the sales cycle and seasonality, and "
        "“Date entered …” columns give true stage-by-stage conversion.",
        icon=":material/upload_file:",
    )
    st.stop()

st.divider()
progress = st.progress(0, text=f"Reading {markdown_text(source['name'])}…")
try:
    table = _read(source["digest"], source["name"], state.get("calibrate.sheet"), source["data"])
except ImportFailure as error:
    progress.empty()
    st.error(
        f"**{markdown_text(source['name'])}** could not be read. {markdown_text(str(error))}", icon=":material/error:"
    )
    st.stop()

st.subheader(markdown_text(source["name"]))
st.caption(f"{table.layout} · {len(table.frame):,} rows · {len(table.columns):,} columns")
if len(table.sheets) > 1:
    st.selectbox(
        "Sheet",
        list(table.sheets),
        key="calibrate.sheet",
        index=table.sheets.index(table.sheet),
        on_change=_new_sheet,
        help="The first sheet is read unless you pick another.",
    )
with st.expander("Preview: the first 20 rows", expanded=False):
    st.dataframe(table.frame.head(20), hide_index=True, width="stretch")

st.subheader("Columns")
mapping = _mapping_inputs(table)
missing = mapping.missing()
if missing:
    progress.empty()
    st.error(
        f"Pick the **{' and '.join(missing)}** column above: calibration cannot go on without it. "
        f"The columns found: {', '.join(markdown_text(c) for c in table.columns)}.",
        icon=":material/error:",
    )
    st.stop()
date_order = mapping_widgets.date_order(table, mapping, "calibrate")
st.subheader("Stages")
st.caption(
    "Say which stages mean won, lost and still open, and put the funnel stages in order (1 at the top, "
    "the won stage last). Stage conversion counts a deal as reaching every stage up to its furthest one."
)
stage_frame = _stage_frame(table, mapping)
outcomes, order = _stage_inputs(stage_frame)
progress.progress(40, text="Checking every row…")
deals = _deals(
    source["digest"],
    state.get("calibrate.sheet"),
    tuple(sorted(mapping.fields.items())),
    mapping.preset,
    tuple(sorted(mapping.entered.items())),
    tuple(sorted(outcomes.items())),
    order,
    date_order,
    table,
)
_report(deals)
progress.progress(70, text="Calibrating…")
try:
    result = _calibration(
        (source["digest"], tuple(sorted(mapping.fields.items())), tuple(sorted(outcomes.items())), order, date_order),
        deals,
    )
except CalibrationError as error:
    progress.empty()
    st.error(str(error), icon=":material/error:")
    st.stop()
progress.empty()
_results(result)
_save_form(result, deals, source["name"])
