"""Calibrate: last year's CRM export in, the ratios every plan should start from out."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import pandas as pd
import streamlit as st

from planner import store
from planner.calibrate import Calibration, CalibrationError, Figures
from planner.charts import conversion_chart, histogram_chart, seasonality_chart
from planner.exports import csv_bytes
from planner.imports import (
    OUTCOMES,
    DealImport,
    ImportFailure,
    Mapping,
    RawTable,
    TypedDeals,
    funnel_order,
    pair_exports,
    stage_table,
)
from planner.units import markdown_text
from ui import auth, data, widgets
from ui import calibration as steps
from ui import mapping as mapping_widgets

viewer = auth.enter_page("calibrate")

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "sample_crm_export.csv"
state = st.session_state


# --------------------------------------------------------------------------- source


def _file(name: str, data: bytes) -> dict:
    """An uploaded file as the page keeps it, with the digest its cached readings are keyed by."""
    return {"name": name, "data": data, "digest": hashlib.sha256(data).hexdigest()}


def _set_source(name: str, data: bytes) -> None:
    state["calibrate.source"] = _file(name, data)
    _reset_mapping()
    state["calibrate.sheet"] = None
    state["calibrate.preset"] = None
    state["calibrate.saved_id"] = None


def _uploader_key(which: str) -> str:
    """The uploader's key for the next file. Each file taken empties its uploader (a fresh key): Streamlit copies
    every file an uploader holds on every rerun, 130 MB for a million-row export."""
    return f"calibrate.upload.{which}.{state['calibrate.upload_round']}"


def _taken(key: str) -> tuple[str, bytes] | None:
    """The file just given to the uploader ``key``, and a fresh, empty uploader from the next run on."""
    upload = state.get(key)
    if upload is None:
        return None
    state["calibrate.upload_round"] += 1
    return upload.name, upload.getvalue()  # the uploader's own bytes, not a copy


def _take_upload(key: str) -> None:
    taken = _taken(key)
    if taken is not None:
        _set_source(*taken)


def _take_sample() -> None:
    state["calibrate.history_source"] = None  # a history given before belongs to no sample deal
    _set_source(SAMPLE.name, SAMPLE.read_bytes())


def _take_history(key: str) -> None:
    taken = _taken(key)
    if taken is not None:
        state["calibrate.history_source"] = _file(*taken)
        _reset_mapping()


def _drop_history() -> None:
    state["calibrate.history_source"] = None
    _reset_mapping()


def _source() -> dict | None:
    deals_key, history_key = _uploader_key("deals"), _uploader_key("history")
    st.file_uploader(
        "Upload last year's deals (CSV or Excel .xlsx)",
        type=["csv", "txt", "tsv", "xlsx"],
        key=deals_key,
        on_change=_take_upload,
        args=(deals_key,),
        help="Salesforce (API names, reports, stage history), HubSpot (UI or API), Zoho CRM, Dynamics 365, Odoo, "
        "Bitrix24, Pipedrive, Excel's Unicode text, or any CSV with a stage and an amount column.",
    )
    st.file_uploader(
        "Stage history, if you have it (optional)",
        type=["csv", "txt", "tsv", "xlsx"],
        key=history_key,
        on_change=_take_history,
        args=(history_key,),
        help="Salesforce OpportunityHistory or OpportunityFieldHistory: with it, stage conversion and lags come "
        "from the stages each deal really went through, skipped ones included.",
    )
    source, history = state.get("calibrate.source"), state.get("calibrate.history_source")
    if source is not None:
        reading = f"Reading {markdown_text(source['name'])}"
        if history is not None:
            reading += f" with its stage history from {markdown_text(history['name'])}"
        st.caption(reading + ".")
    left, right = st.columns(2)
    left.button("Try the sample export", icon=":material/science:", key="btn.calibrate_sample", on_click=_take_sample)
    if history is not None:
        right.button("Leave the stage history out", icon=":material/close:", key="btn.calibrate_history_out",
                     on_click=_drop_history)  # fmt: skip
    return source


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


def _stage_frame(typed: TypedDeals, column: str | None) -> pd.DataFrame:
    """Stage → outcome and order, as the user last left them (the one stage table the command line uses too)."""
    key = (typed.stages, tuple(typed.entered), column)
    kept = state.get("calibrate.stages")
    if kept is not None and state.get("calibrate.stages_key") == key:
        return kept
    frame = stage_table(typed)
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
        column_order=["Stage", "Deals", "Outcome", "Order", "Guessed"],
        disabled=["Stage", "Deals", "Guessed"],
        column_config={
            "Outcome": st.column_config.SelectboxColumn(options=list(OUTCOMES), required=True),
            "Guessed": st.column_config.CheckboxColumn(
                "Order guessed", help="Nothing in the file says where this stage belongs: check its Order."
            ),
            "Order": st.column_config.NumberColumn(
                min_value=1, step=1, help="Funnel position, 1 at the top; the won stage last. Blank for lost stages."
            ),
        },
    )
    if (frame["Guessed"] & (frame["Outcome"] == "open")).any():
        # Counted, not named: a stage's name is the file's text and stays out of Markdown.
        st.caption(
            "Nothing in the file says where the stages ticked *Order guessed* belong: they are in the order they "
            "first appear. Check the Order column."
        )
    return funnel_order(frame)


# --------------------------------------------------------------------------- results


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def _num(value: float | None, suffix: str = "") -> str:
    return "—" if value is None else f"{value:,.0f}{suffix}"


def _middle_half(q1: float | None, q3: float | None) -> str:
    """The sales cycle's quartiles as a range of days, or that they are unknown (no deal could be dated)."""
    return "middle half unknown" if q1 is None or q3 is None else f"middle half {q1:,.0f}–{q3:,.0f} days"


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
        if bad:
            st.info(
                f"Every row could be read; {bad:,} left out for a reason the notes below give.", icon=":material/info:"
            )
        else:
            st.success("Every row could be read.", icon=":material/check_circle:")
        return
    rows_with_problems = deals.problems["row"].nunique()
    st.warning(
        f"{len(deals.problems):,} problems in {rows_with_problems:,} rows. A problem in one field costs its row only "
        f"the figures that need that field (the last column says which); {bad:,} rows with no outcome or a repeated "
        "deal ID are left out entirely. Fix them in the CRM or the file and upload again, or go on without them.",
        icon=":material/warning:",
    )
    st.dataframe(mapping_widgets.problem_table(deals.problems), hide_index=True, height=240, width="stretch")
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
        st.info(markdown_text(note), icon=":material/info:")  # notes quote stage names and currencies from the file
    cards = st.columns(4)
    widgets.note_card(
        cards[0],
        "Win rate",
        _pct(o.win_rate),
        f"{_pct(o.win_rate_value)} by value",
        help=f"won ÷ (won + lost) = {o.won:,} ÷ {o.won + o.lost:,}; by value: won amount ÷ (won + lost amount)",
    )
    widgets.note_card(
        cards[1],
        "Average deal size",
        _num(o.avg_deal_size),
        f"median {_num(o.median_deal_size)}",
        help=f"Mean amount of {o.won_with_amount:,} won deals",
    )
    widgets.note_card(
        cards[2],
        "Sales cycle",
        _days(o.cycle_median_days),
        _middle_half(o.cycle_q1_days, o.cycle_q3_days),
        help=f"Median days from created to close over {o.cycle_deals:,} won deals",
    )
    cards[3].metric(
        "Suggested coverage",
        "—" if o.suggested_coverage is None else f"{o.suggested_coverage:.1f}×",
        border=True,
        help="1 ÷ win rate by value: the open pipeline each dollar of target needs",
    )
    money = f" · amounts in {result.currency}" if result.currency else ""
    st.caption(f"{o.won:,} won · {o.lost:,} lost · {o.open:,} still open{money}")
    if result.by_currency:
        st.caption("Each currency's own figures, in its own currency:")
        _figures_table("Currency", [(f.currency or "", f) for f in result.by_currency])
    left, right = st.columns(2, gap="large")
    with left:
        if o.conversions:
            st.plotly_chart(conversion_chart(o.conversions), config={"displayModeBar": False})
    with right:
        if result.seasonality:
            st.plotly_chart(seasonality_chart(result.seasonality), config={"displayModeBar": False})
    steps = [
        {
            "From": c.from_stage,
            "To": c.to_stage,
            "Reached": c.reached,
            "Advanced": c.advanced,
            "Rate": None if c.rate is None else c.rate * 100,
            "95% interval": f"{c.low:.0%}–{c.high:.0%}",
            "Days to next": lag,
        }
        for c, lag in zip(o.conversions, result.lag_days, strict=True)
    ]
    if not steps:
        st.caption("The file names no stage before won, so there is no stage-to-stage conversion to show.")
    else:
        st.dataframe(
            steps,
            hide_index=True,
            width="stretch",
            column_config={
                "Rate": st.column_config.NumberColumn(format="%.1f%%"),
                "Days to next": st.column_config.NumberColumn(format="%.0f"),
            },
        )
        lags = f" Days to the next stage come from the {result.lag_source}." if result.lag_source != "none" else ""
        st.caption(
            "Stage conversion: closed deals that reached each stage and went on to the next; the rates multiply out "
            f"to the win rate.{lags}"
        )
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
    _figures_table("Owner", [(f.owner or "(no owner)", f) for f in result.by_owner])
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
    if steps:  # else there is no stage conversion, for anyone
        st.caption("Stage conversion by owner (%): the fewer deals behind a figure, the less it can be trusted.")
        st.dataframe(conversions, hide_index=True, width="stretch")


def _figures_table(first: str, labelled: list[tuple[str, Figures]]) -> None:
    """One row of figures per owner, or per currency (each in its own currency)."""
    rows = [
        {
            first: label,
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
        for label, f in labelled
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


def _currency_inputs(counts: pd.Series) -> tuple[str | None, tuple[tuple[str, float], ...]]:
    """The profile's currency and the rates that bring other currencies into it, when the file has several
    (``counts``: deals by currency, most first)."""
    if len(counts) < 2:
        return None, ()
    codes = list(counts.index)
    st.subheader("Currencies")
    listing = ", ".join(f"{markdown_text(c)} {n:,}" for c, n in counts.items())
    st.caption(
        f"The deals are in {len(codes)} currencies ({listing}). "
        "Amounts are never added across them: pick the profile's currency, and give a rate for any other currency "
        "whose deals should count in the amount figures (0 leaves them out of deal size and value win rate)."
    )
    if state.get("calibrate.currency") not in codes:
        state["calibrate.currency"] = codes[0]
    currency = st.selectbox("Profile currency", codes, key="calibrate.currency")
    rates = []
    grid = st.columns(min(len(codes) - 1, 4))
    for i, code in enumerate(c for c in codes if c != currency):
        rate = grid[i % len(grid)].number_input(
            f"1 {markdown_text(code)} = ? {markdown_text(currency)}",
            min_value=0.0,
            value=0.0,
            step=0.01,
            format="%.4f",
            key=f"calibrate.rate.{code}.{currency}",
        )
        if rate > 0:
            rates.append((code, float(rate)))
    return currency, tuple(rates)


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
history_source = state.get("calibrate.history_source")
try:
    table = steps.table(source["digest"], source["name"], state.get("calibrate.sheet"), source["data"])
except ImportFailure as error:
    progress.empty()
    st.error(
        f"**{markdown_text(source['name'])}** could not be read. {markdown_text(str(error))}", icon=":material/error:"
    )
    st.stop()
history = None
if history_source is not None:
    try:
        other = steps.table(history_source["digest"], history_source["name"], None, history_source["data"])
        table, history_table = pair_exports(table, other)
        history = steps.history(history_source["digest"] + source["digest"], history_table)
    except ImportFailure as error:
        progress.empty()
        st.error(
            f"**{markdown_text(history_source['name'])}** cannot be the stage history of these deals. "
            f"{markdown_text(str(error))}",
            icon=":material/error:",
        )
        st.stop()

st.subheader(markdown_text(table.source))
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
if history is not None:
    st.caption(
        f"Stage history: {history.events['deal_id'].nunique():,} deals in {markdown_text(history.source)}; stage "
        "conversion and lags come from the stages each deal went through."
    )
missing = mapping.missing()
if missing:
    progress.empty()
    st.error(
        f"Pick the **{' and '.join(missing)}** column above: calibration cannot go on without it. "
        f"The columns found: {', '.join(markdown_text(c) for c in table.columns)}.",
        icon=":material/error:",
    )
    st.stop()
files = (source["digest"], history_source["digest"] if history_source else None, state.get("calibrate.sheet"))
date_columns = tuple(mapping.fields[f] for f in ("created", "closed") if f in mapping.fields)
date_order = mapping_widgets.ask_date_order(steps.date_order_found(files, date_columns, table), "calibrate")
progress.progress(30, text="Checking every row…")
try:
    typed = steps.typed(
        files,
        tuple(sorted(mapping.fields.items())),
        mapping.preset,
        tuple(sorted(mapping.entered.items())),
        date_order,
        table,
        history,
    )
except ImportFailure as error:
    progress.empty()
    st.error(markdown_text(str(error)), icon=":material/error:")
    st.stop()
st.subheader("Stages")
st.caption(
    "Say which stages mean won, lost and still open, and put the funnel stages in order (1 at the top, "
    "the won stage last). A lost deal counts at the furthest stage its own fields show it reached."
)
stage_frame = _stage_frame(typed, mapping.fields.get("stage"))
outcomes, order = _stage_inputs(stage_frame)
# What the typed columns were made from, so the deals and figures cached for them are told apart from any other's.
typed_key = (files, tuple(sorted(mapping.fields.items())), mapping.preset, tuple(sorted(mapping.entered.items())),
             date_order)  # fmt: skip
deals_key = (typed_key, tuple(sorted(outcomes.items())), order)
deals = steps.deals(typed_key, tuple(sorted(outcomes.items())), order, typed)
_report(deals)
currency, rates = _currency_inputs(steps.currency_counts(deals_key, deals))
progress.progress(70, text="Calibrating…")
try:
    result = steps.calibration(deals_key, currency, rates, deals)
except CalibrationError as error:
    progress.empty()
    st.error(str(error), icon=":material/error:")
    st.stop()
progress.empty()
_results(result)
_save_form(result, deals, source["name"])
