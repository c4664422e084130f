"""Plan: from a revenue target back to the weekly activity it takes."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from planner import funnel_table, store
from planner.access import Viewer
from planner.calibrate import Calibration, CalibrationError, Confidence, plan_for_chance, plan_settings
from planner.charts import coverage_chart, funnel_chart, levers_chart, milestones_chart, what_if_heatmap
from planner.choices import CADENCE_CHOICES, PlanChoices, check_choices
from planner.exports import csv_bytes
from planner.funnel import (
    MAX_LAG_DAYS,
    FunnelPlan,
    PlanInputError,
    PlanInputs,
    Problem,
    Stage,
    levers,
    period_weeks,
    validate,
    weekly_activity_table,
    what_if_grid,
)
from planner.imports import parse_amount_list
from planner.milestones import (
    SHAPES,
    MilestoneError,
    choose_cadence,
    milestone_table,
    months_without_history,
    plan_milestones,
)
from planner.units import CURRENCIES, markdown_text, money, plural, ratio_label
from ui import auth, data, session, widgets
from ui.plans import linked_plan_id, may_change_plan, plan_refusal, show_plan_in_url

viewer = auth.enter_page("plan")

TARGET_SLIDER = widgets.Slider(10_000, 5_000_000, 5_000)
#: The box takes any coverage of 1× or more (a calibrated one is kept exactly); the slider drags in half steps.
COVERAGE_SLIDER = widgets.Slider(1.0, 12.0, 0.5, format="%.1f×")
#: "Plan for" choices: the expected case, or a chance of hitting the target.
CONFIDENCE_CHOICES = {"expected": "Expected case", "0.5": "50% chance", "0.8": "80% chance", "0.9": "90% chance"}
#: Each choice's level, as a plan saves it (None: the expected case).
CONFIDENCE_LEVEL: dict[str, float | None] = {"expected": None, "0.5": 0.5, "0.8": 0.8, "0.9": 0.9}
DEAL_SIZE_SLIDER = widgets.Slider(100, 200_000, 50)

state = st.session_state


# --------------------------------------------------------------------------- callbacks


def _stage_editor_key() -> str:
    """The funnel table's key: a new one for each version of the stages, so its edits are applied once."""
    return f"editor.stages.{state['plan.stages_version']}"


def _put_stages(stages: tuple[Stage, ...]) -> None:
    state["plan.stages"] = stages
    state["plan.stages_version"] += 1  # the next run draws the table afresh from these


def _add_stage() -> None:
    number = state["plan.next_stage_id"] + 1
    state["plan.next_stage_id"] = number
    _put_stages((funnel_table.new_stage(number), *state["plan.stages"]))


def _apply_stage_edits() -> None:
    """The table's edits (names, ratios, lags, order, rows added or deleted) applied to the plan's stages."""
    edits = state.get(_stage_editor_key()) or {}
    try:
        stages = funnel_table.apply_edits(state["plan.stages"], edits, state["plan.next_stage_id"] + 1)
    except ValueError as refused:
        state["plan.stage_error"] = str(refused)
        stages = state["plan.stages"]  # drawn again as they were: the deleted rows come back
    else:
        state["plan.stage_error"] = None
    state["plan.next_stage_id"] += len(edits.get("added_rows") or ())
    _put_stages(stages)


# --------------------------------------------------------------------------- inputs


def _target_inputs(currency: str) -> None:
    symbol = CURRENCIES[currency].strip()
    widgets.number_pair(
        "plan.target",
        f"Revenue target ({symbol})",
        TARGET_SLIDER,
        slider_label="Drag to change the revenue target",
        min_value=0,
        step=TARGET_SLIDER.step,
        help="What you must book in the period: your quota.",
    )
    widgets.number_pair(
        "plan.deal_size",
        f"Average deal size ({symbol})",
        DEAL_SIZE_SLIDER,
        slider_label="Drag to change the average deal size",
        min_value=0,
        step=DEAL_SIZE_SLIDER.step,
        help="The typical value of a won deal. Calibrate it from last year's CRM export.",
    )


def _stage_inputs() -> None:
    st.data_editor(
        funnel_table.table(state["plan.stages"]),
        key=_stage_editor_key(),
        on_change=_apply_stage_edits,
        hide_index=True,
        num_rows="dynamic",
        width="stretch",
        disabled=["Conversion"],
        column_config={  # widths in pixels: every column fits the funnel's half of the page, none scrolls
            "Order": st.column_config.NumberColumn(
                "#", min_value=1, step=1, width=44, help="Funnel position, 1 at the top: type another to move it."
            ),
            "Stage": st.column_config.TextColumn(max_chars=60, width=146),
            "Ratio": st.column_config.NumberColumn(
                min_value=0.0,
                step=0.01,
                format="%.2f",
                width=64,
                help="How many of this stage it takes to get one of the next: 2 means 2 : 1, a 50% conversion rate.",
            ),
            "Conversion": st.column_config.TextColumn(width=88, help="The ratio, and the conversion rate it is."),
            "Lag, days": st.column_config.NumberColumn(
                min_value=0, max_value=MAX_LAG_DAYS, step=1, format="%d", width=84, help="Typical days to the next."
            ),
        },
    )
    if state.get("plan.stage_error"):
        st.warning(state["plan.stage_error"], icon=":material/warning:")
    won_col, add_col = st.columns([0.55, 0.45], vertical_alignment="bottom")
    won_col.text_input("Won stage name", key="plan.won_stage", max_chars=60)
    add_col.button("Add a stage at the top", icon=":material/add:", key="btn.stage_add", on_click=_add_stage)


def _period_inputs() -> None:
    start_col, end_col = st.columns(2)
    start_col.date_input("Period start", key="plan.start", format="YYYY-MM-DD")
    end_col.date_input("Period end", key="plan.end", format="YYYY-MM-DD")
    st.multiselect(
        "Holiday weeks (not worked)",
        period_weeks(state["plan.start"], state["plan.end"]),
        key="plan.holiday_weeks",
        format_func=lambda d: f"Week of {d:%d %b %Y}",
        placeholder="None — every week is worked",
    )
    widgets.number_pair(
        "plan.coverage",
        "Pipeline coverage (×)",
        COVERAGE_SLIDER,
        slider_label="Drag to change the pipeline coverage",
        step=0.1,
        format="%.2f",
        help="Open pipeline you need for each dollar you must book. 3× is the usual rule of thumb; "
        "a calibration profile sets it to 1 ÷ last year's win rate by value.",
    )


def _shape_label(shape: str) -> str:
    return "Historical (the profile's seasonality)" if shape == "historical" else shape.capitalize()


def _milestone_inputs(profile: Calibration | None, currency: str) -> None:
    """Shape, cadence and custom amounts, with the checkpoints they make shown as they change."""
    st.markdown("**Milestones, counted back from the end date**")
    shape_col, cadence_col, amounts_col, fill_col = st.columns([1, 1.2, 1.3, 1])
    allowed = _shapes_allowed(profile)
    shape = shape_col.selectbox(
        "Shape",
        allowed,
        key="plan.milestone_shape",
        format_func=_shape_label,
        help="How the target is spread over the checkpoints. Historical follows the applied calibration "
        "profile's month-by-month won amounts; custom takes the amounts you type.",
    )
    cadence_col.selectbox(
        "Checkpoints",
        CADENCE_CHOICES,
        key="plan.cadence",
        format_func=lambda c: "Weekly for a quarter, else monthly" if c == "auto" else c.capitalize(),
    )
    if shape == "custom":
        amounts_col.text_input(
            "Booked with 1, 2, 3 … checkpoints to go",
            key="plan.milestone_custom",
            placeholder="42,000; 30,000; 20,000",
            help="Amounts that must be booked with one checkpoint to go, two to go, and so on, working back "
            "from the target date. Separate them with “; ”.",
        )
        fill_col.selectbox(
            "Checkpoints not typed follow",
            [s for s in allowed if s != "custom"],
            key="plan.milestone_fill",
            format_func=_shape_label,
            help="The earlier checkpoints you leave out climb to your first amount as this shape would.",
        )
    uses_history = "historical" in (shape, state["plan.milestone_fill"] if shape == "custom" else None)
    shares = list(profile.seasonality) if profile is not None and uses_history else None
    empty = months_without_history(shares) if shares else ()
    if empty and len(empty) < 12:
        names = ", ".join(f"{date(2000, m, 1):%b}" for m in empty)
        st.warning(
            f"The profile's history has no won deals in {names} ({12 - len(empty)} of 12 months covered): "
            f"{'that month gets' if len(empty) == 1 else 'those months get'} an even twelfth of the year, "
            "the linear shape, instead of nothing.",
            icon=":material/warning:",
        )
    _milestone_preview(shape, shares, currency)


def _milestone_preview(shape: str, shares: list[float] | None, currency: str) -> None:
    """The checkpoints Save would store, as a mini burn-up and a table; what is wrong with them, where it is typed."""
    inputs = _inputs_from_state()
    try:
        steps = plan_milestones(
            inputs, shape, state["plan.cadence"], _custom_amounts(), shares, state["plan.milestone_fill"]
        )
    except ValueError as error:  # a MilestoneError, or an amount that is not one
        problems = getattr(error, "problems", None) or [Problem("custom", str(error))]
        mine = [p.message for p in problems if p.field.startswith(("custom", "milestones", "shares", "fill"))]
        if mine:
            st.error("\n\n".join(markdown_text(m) for m in mine), icon=":material/error:")
        else:
            st.caption("Fix the plan's inputs above to see its milestones.")
        return
    filled = [m for m in steps if m.filled]
    if shape == "custom" and filled:
        fill = _shape_label(state["plan.milestone_fill"]).lower()
        if len(filled) <= 3:
            listed = ", ".join(f"{m.due.day} {m.due:%b} ({money(m.cumulative, currency)})" for m in filled)
        else:
            listed = f"{plural(len(filled), 'checkpoint')} from {filled[0].due:%d %b} to {filled[-1].due:%d %b}"
        st.caption(markdown_text(f"Not typed, so filled by the {fill} shape: {listed}."))
    chart_col, table_col = st.columns([0.45, 0.55], gap="medium")
    chart_col.plotly_chart(
        milestones_chart(steps, inputs.period_start, inputs.target, currency), config={"displayModeBar": False}
    )
    symbol = CURRENCIES[currency].strip()
    cadence = state["plan.cadence"]
    if cadence == "auto":
        cadence = choose_cadence(inputs.period_start, inputs.period_end)
    table = milestone_table(steps, cadence, custom=shape == "custom")
    table_col.dataframe(
        table,
        hide_index=True,
        height=min(35 * (len(steps) + 1) + 3, 246),
        column_order=list(table.columns) if shape == "custom" else list(table.columns[:-1]),
        column_config={
            "Checkpoint": st.column_config.DateColumn(format="D MMM YYYY"),
            "Booked by then": st.column_config.NumberColumn(f"Booked by then ({symbol})", format="localized"),
            "This step": st.column_config.NumberColumn(f"This step ({symbol})", format="localized", width="small"),
            "Set by": st.column_config.TextColumn(width="small"),
        },
    )


def _inputs_from_state() -> PlanInputs:
    stages = state["plan.stages"]  # each with its saved identity: a rename keeps its actuals
    return PlanInputs(
        target=float(state["plan.target"] or 0),
        deal_size=float(state["plan.deal_size"] or 0),
        period_start=state["plan.start"],
        period_end=state["plan.end"],
        stages=tuple(stages),
        won_stage=state["plan.won_stage"] or "",
        holiday_weeks=tuple(state["plan.holiday_weeks"]),
        coverage_ratio=float(state["plan.coverage"] or 0),
    )


def _set_stages(stages: tuple[Stage, ...]) -> None:
    """Replace the funnel's stages (a profile's, a saved plan's).

    Each keeps its saved identity: its own, or, for a stage without one (from a
    profile), that of the stage on screen with the same name.
    """
    on_screen = {stage.name.strip().casefold(): stage.id for stage in state["plan.stages"]}
    state["plan.stage_error"] = None
    _put_stages(
        tuple(
            replace(
                stage,
                ratio=float(stage.ratio),
                lag_days=min(int(stage.lag_days), MAX_LAG_DAYS),  # the table's maximum
                id=stage.id if stage.id is not None else on_screen.get(stage.name.casefold()),
            )
            for stage in stages
        )
    )


# --------------------------------------------------------------------------- calibration profiles


def _apply_profile(profile_id: int | None) -> None:
    """Put a profile's deal size, funnel, lags and coverage into the plan's inputs."""
    found = data.calibration(profile_id)
    if found is None:
        state["plan.profile_error"] = "Pick a saved profile first (make one on the Calibrate page)."
        return
    summary, result = found
    try:
        settings = plan_settings(result)
    except CalibrationError as error:
        state["plan.profile_error"] = str(error)
        return
    _set_stages(settings.stages)
    state["plan.won_stage"] = settings.won_stage[:60]
    state["plan.deal_size"] = round(settings.deal_size)
    if settings.coverage_ratio is not None:
        state["plan.coverage"] = settings.coverage_ratio  # exactly: the slider under it only drags
    state["plan.profile_id"] = summary.id
    state["plan.profile_error"] = None
    state["plan.profile_notes"] = list(settings.notes)
    st.toast(f"Applied profile “{markdown_text(summary.name)}”.", icon=":material/tune:")


def _clear_profile() -> None:
    state["plan.profile_id"] = None
    state["plan.confidence"] = "expected"
    state["plan.profile_notes"] = []


def _applied_profile() -> tuple[store.ProfileSummary, Calibration] | None:
    """The applied profile (its summary and calibration), or None; one deleted on the Calibrate page is let go."""
    applied = data.calibration(state["plan.profile_id"])
    if applied is None and state["plan.profile_id"] is not None:
        _clear_profile()
    return applied


def _profile_inputs(applied: tuple[store.ProfileSummary, Calibration] | None) -> Calibration | None:
    """The profile picker; returns the applied profile's calibration."""
    profiles = data.profiles()
    labels = {p.id: f"{p.name} ({plural(p.rows_used, 'deal')})" for p in profiles}
    if not profiles:
        if viewer.can_calibrate:
            st.caption(
                "**Calibration profile:** none saved yet. Calibrate from last year's CRM export to start from "
                "your team's real ratios."
            )
            st.page_link("pages/calibrate.py", label="Calibrate from a CRM export", icon=":material/tune:")
        else:
            st.caption("**Calibration profile:** none saved yet — your sales ops team calibrates them.")
        return None
    pick_col, apply_col = st.columns([3, 1], vertical_alignment="bottom")
    picked = pick_col.selectbox(
        "Calibration profile",
        list(labels),
        format_func=labels.get,
        index=list(labels).index(state["plan.profile_id"]) if state["plan.profile_id"] in labels else None,
        placeholder="Choose a profile",
        key="plan.profile_pick",
        help="Applying a profile sets the deal size, the funnel's stages, ratios and lags, and the coverage "
        "from last year's deals.",
    )
    apply_col.button("Apply", key="btn.profile_apply", on_click=_apply_profile, args=(picked,), disabled=picked is None)
    if state.get("plan.profile_error"):
        st.error(state["plan.profile_error"], icon=":material/error:")
    if applied is None:
        return None
    summary, result = applied
    st.caption(
        f"Started from **{markdown_text(summary.name)}**: {plural(result.overall.won, 'won deal')}, "
        f"win rate {result.overall.win_rate or 0:.0%}. Edit anything; the profile's sample sizes still say how "
        "sure the plan is."
    )
    for note in state.get("plan.profile_notes") or []:
        st.warning(note, icon=":material/warning:")
    st.button("Stop using the profile", key="btn.profile_clear", on_click=_clear_profile, type="tertiary")
    return result


def _confidence_inputs(result: Calibration | None) -> None:
    st.radio(
        "Plan for",
        list(CONFIDENCE_CHOICES),
        key="plan.confidence",
        format_func=CONFIDENCE_CHOICES.get,
        horizontal=True,
        disabled=result is None,
        help="With a profile applied, plan the activity that hits the target with this chance, allowing for "
        "how few deals last year's ratios were learned from.",
    )


# --------------------------------------------------------------------------- saved plans


def _custom_amounts() -> list[float]:
    """The custom checkpoints as typed; ValueError names a bad one."""
    return parse_amount_list(state["plan.milestone_custom"]) if state["plan.milestone_shape"] == "custom" else []


def _choices() -> PlanChoices:
    """The plan's choices as the widgets hold them; planner.choices checks them before anything is saved."""
    level = state["plan.confidence"]
    return PlanChoices(
        currency=state["plan.currency"],
        milestone_shape=state["plan.milestone_shape"],
        cadence=state["plan.cadence"],
        milestone_fill=state["plan.milestone_fill"],
        confidence=CONFIDENCE_LEVEL.get(level, level),  # type: ignore[arg-type]  (a stray value is refused)
        profile_id=state["plan.profile_id"],
    )


def _drawn_reps(who: Viewer) -> dict[int, str]:
    """The reps the Rep box offers ``who``: those they may see."""
    return {r.id: r.name for r in data.reps() if who.can_see_rep(r.id)}


def _fill_state(saved: store.SavedPlan) -> None:
    """Put a saved plan into every input of the page, exactly as it was saved."""
    inputs = saved.inputs
    _set_stages(inputs.stages)
    state["plan.target"], state["plan.deal_size"] = round(inputs.target), round(inputs.deal_size)
    state["plan.currency"] = saved.currency if saved.currency in CURRENCIES else "USD"  # stored before it was checked
    state["plan.start"], state["plan.end"] = inputs.period_start, inputs.period_end
    state["plan.holiday_weeks"] = list(inputs.holiday_weeks)
    state["plan.coverage"] = inputs.coverage_ratio
    state["plan.profile_id"] = saved.profile_id
    state["plan.won_stage"] = inputs.won_stage
    state["plan.milestone_shape"] = saved.milestone_shape if saved.milestone_shape in SHAPES else "linear"
    state["plan.cadence"] = saved.cadence
    state["plan.milestone_custom"] = "; ".join(
        f"{v:,.0f}" if v == round(v) else f"{v:,.2f}" for v in saved.milestone_custom
    )
    state["plan.milestone_fill"] = saved.milestone_fill
    state["plan.loaded_id"], state["plan.name"], state["plan.rep"] = saved.id, saved.name, saved.rep_id
    state["plan.loaded_version"], state["plan.conflict"] = saved.version, None
    state["plan.confidence"] = next(
        (key for key, level in CONFIDENCE_LEVEL.items() if level == saved.confidence and saved.profile_id is not None),
        "expected",
    )
    state["plan.confirm_delete"] = False
    state["plan.save_error"] = None


def _open(plan_id: int | None) -> None:
    saved = store.get_plan(data.db(), plan_id) if plan_id is not None else None
    refusal = plan_refusal(plan_id)
    if saved is None or refusal:
        state["plan.save_error"] = refusal
        return
    _fill_state(saved)
    st.toast(f"Opened “{markdown_text(saved.name)}”.", icon=":material/folder_open:")


def _save(as_new: bool, over_version: int | None = None) -> None:
    """Save the page's plan: as a new one, or over the loaded one if it is still the version it was loaded at.

    ``over_version`` saves over that version instead, deliberately (the refusal's "Save mine over it").
    """
    state["plan.save_error"] = None
    inputs = _inputs_from_state()
    problems = validate(inputs)
    if problems:
        state["plan.save_error"] = "Fix the plan first: " + problems[0].message
        return
    rep = state["plan.rep"] if state["plan.rep"] is not None else state["plan.new_rep"]
    plan_id = None if as_new else state["plan.loaded_id"]
    if not _may_save(rep, plan_id):
        return
    expected = over_version if over_version is not None else state["plan.loaded_version"]
    try:
        # Against what the page offered: a browser can send a value that was never among the options.
        choices = check_choices(
            _choices(),
            profile_ids=[p.id for p in data.profiles()],
            rep=rep,
            rep_ids=_drawn_reps(auth.viewer() or viewer),
        )
        custom = _custom_amounts()
        options = {
            "currency": choices.currency,
            "milestone_shape": choices.milestone_shape,
            "cadence": choices.cadence,
            "profile_id": choices.profile_id,
            "confidence": choices.confidence,
            "milestone_fill": choices.milestone_fill,
        }
        saved_id = store.save_plan(
            data.db(),
            auth.viewer(),
            rep,
            state["plan.name"],
            inputs,
            milestone_custom=custom,
            plan_id=plan_id,
            new_rep_team=state["plan.new_rep_team"] or "",
            expected_version=None if plan_id is None else expected,
            **options,
        )
    except store.StalePlan as stale:
        mine = store.SavedPlan(plan_id, rep if isinstance(rep, int) else -1, state["plan.name"].strip(), inputs,
                               milestone_custom=tuple(custom), **options)  # fmt: skip
        state["plan.conflict"] = {
            "plan_id": plan_id,
            "version": stale.current.version,
            "message": str(stale),
            "differences": store.plan_differences(mine, stale.current),
        }
        st.toast(
            "Not saved: the plan was changed since you opened it — see the sidebar.", icon=":material/sync_problem:"
        )
        return
    except (*data.WRITE_ERRORS, MilestoneError, ValueError) as error:
        state["plan.save_error"] = data.failure(error)
        return
    _fill_state(store.get_plan(data.db(), saved_id))  # the page now shows what the database holds
    st.toast(f"Saved “{markdown_text(state['plan.name'])}”.", icon=":material/check:")


def _save_mine_as_new() -> None:
    """The refusal's way out that keeps both: the page's plan saved beside the other, as "NAME (my version)"."""
    state["plan.name"] = f"{state['plan.name'].strip()} (my version)"
    _save(as_new=True)


def _conflict_box() -> None:
    """A save refused because the plan changed since it was opened: who, when, what differs, and the ways on."""
    conflict = state.get("plan.conflict")
    if not conflict:
        return
    differences = "\n".join(
        f"- **{markdown_text(what)}**: yours {markdown_text(mine)}, now {markdown_text(theirs)}"
        for what, mine, theirs in conflict["differences"]
    )
    st.warning(
        f"{markdown_text(conflict['message'])}\n\n{differences or 'Nothing you changed differs from it.'}",
        icon=":material/sync_problem:",
    )
    st.button(
        "Load the current plan",
        key="btn.plan_conflict_load",
        on_click=_open,
        args=(conflict["plan_id"],),
        icon=":material/refresh:",
        width="stretch",
    )
    st.button("Save mine as a new plan", key="btn.plan_conflict_new", on_click=_save_mine_as_new, width="stretch")
    st.button(
        "Save mine over it",
        key="btn.plan_conflict_over",
        on_click=_save,
        args=(False, conflict["version"]),
        help="Replaces what was saved meanwhile with what is on your screen.",
        width="stretch",
    )


def _say(refusal: str) -> None:
    """Where the Plan page tells a refusal: under the save buttons, in the sidebar."""
    state["plan.save_error"] = refusal


def _may_save(rep: int | str, plan_id: int | None) -> bool:
    """Whether the viewer may save this plan for ``rep`` (an id, or a new rep's name); if not, says why.

    Checked on the server at the moment of writing, whatever the session's
    state says: a tampered ``plan.loaded_id`` or ``plan.rep`` cannot reach
    someone else's plan.
    """
    if plan_id is not None and not may_change_plan(plan_id, _say):
        return False
    if isinstance(rep, str):
        return auth.permitted(lambda who: who.can_add_reps, "You can save plans for yourself only.", _say)
    return auth.permitted(
        lambda who: who.can_see_rep(rep), "You can save plans only for yourself and, as a manager, your team.", _say
    )


def _new_rep_team() -> None:
    """Ask which team a new rep joins: the saver's own, or (sales ops) the first team on file or one typed."""
    teams = sorted({r.team for r in data.reps() if r.team})
    if not state["plan.new_rep_team"]:
        state["plan.new_rep_team"] = viewer.team_for_new_reps or (teams[0] if teams else "")
    st.text_input(
        "Their team",
        key="plan.new_rep_team",
        max_chars=80,
        disabled=not viewer.can_manage_people,  # a manager adds reps to their own team only
        help=f"Teams on file: {', '.join(teams)}" if teams else "Type the team they sell in, such as Mid-Market East",
    )


def _duplicate() -> None:
    state["plan.save_error"] = None
    if not may_change_plan(state["plan.loaded_id"], _say):
        return
    try:
        copy_id = store.duplicate_plan(
            data.db(), auth.viewer(), state["plan.loaded_id"], f"{state['plan.name']} (copy)"
        )
    except data.WRITE_ERRORS as error:
        state["plan.save_error"] = data.failure(error)
        return
    _open(copy_id)


def _delete() -> None:
    name = state["plan.name"]
    state["plan.confirm_delete"] = False
    if not may_change_plan(state["plan.loaded_id"], _say):
        return
    try:
        store.delete_plan(data.db(), auth.viewer(), state["plan.loaded_id"])
    except data.WRITE_ERRORS as error:
        state["plan.save_error"] = data.failure(error)
        return
    state["plan.loaded_id"] = None
    st.toast(f"Deleted “{markdown_text(name)}”.", icon=":material/delete:")


def _saved_plans() -> None:
    plans = data.saved_plans(viewer)
    reps = _drawn_reps(viewer)
    linked = linked_plan_id("plan")
    if linked is not None:
        _open(linked)
        if state["plan.save_error"]:  # a link's refusal belongs where the eye is, not only in the sidebar
            st.toast(markdown_text(state["plan.save_error"]), icon=":material/lock:")
    st.subheader("Saved plans")
    if plans:
        labels = {p.id: f"{p.rep_name} · {p.name}" for p in plans}
        picked = st.selectbox(
            "Open a saved plan",
            list(labels),
            format_func=labels.get,
            index=None,
            placeholder="Choose a plan",
            key="plan.pick",
        )
        st.button(
            "Open",
            key="btn.plan_open",
            on_click=_open,
            args=(picked,),
            disabled=picked is None,
            icon=":material/folder_open:",
        )
    else:
        st.caption("No saved plans yet. Save this one, or load the demo team on the Track page.")
    loaded = state["plan.loaded_id"]
    show_plan_in_url("plan", loaded)
    st.divider()
    st.caption(f"Editing saved plan “{markdown_text(state['plan.name'])}”" if loaded else "This plan is not saved yet.")
    if state["plan.rep"] not in reps:
        state["plan.rep"] = None if viewer.can_add_reps else viewer.rep_id
    st.selectbox(
        "Rep",
        list(reps),
        key="plan.rep",
        format_func=reps.get,
        index=None,
        placeholder="New rep…" if reps else "Type a new rep below",
        disabled=not viewer.can_add_reps and len(reps) <= 1,
    )
    if state["plan.rep"] is None and viewer.can_add_reps:
        st.text_input("New rep's name", key="plan.new_rep", max_chars=80)
        _new_rep_team()
    st.text_input("Plan name", key="plan.name", placeholder="Q1 2027", max_chars=80)
    save, save_new = st.columns(2)
    save.button("Save plan", key="btn.plan_save", on_click=_save, args=(False,), type="primary", icon=":material/save:")
    save_new.button("Save as new", key="btn.plan_save_new", on_click=_save, args=(True,), disabled=loaded is None)
    if state.get("plan.save_error"):
        st.error(markdown_text(state["plan.save_error"]), icon=":material/error:")
    _conflict_box()
    if loaded:
        dup, new = st.columns(2)
        dup.button("Duplicate", key="btn.plan_duplicate", on_click=_duplicate, icon=":material/content_copy:")
        new.button(
            "New plan", key="btn.plan_new", on_click=session.new_plan, args=(date.today(),), icon=":material/add:"
        )
        st.button(
            "Delete…",
            key="btn.plan_delete",
            icon=":material/delete:",
            on_click=lambda: state.update({"plan.confirm_delete": True}),
        )
        if state["plan.confirm_delete"]:
            widgets.confirm_delete(
                f"Delete “{markdown_text(state['plan.name'])}” with its milestones and actuals?",
                ("btn.plan_delete_yes", "btn.plan_delete_no"),
                on_yes=_delete,
                on_no=lambda: state.update({"plan.confirm_delete": False}),
            )


# --------------------------------------------------------------------------- outputs


def _when(day: date, today: date) -> str:
    days = (day - today).days
    if days == 0:
        return "today"
    return f"in {plural(days, 'day')}" if days > 0 else f"{plural(-days, 'day')} ago"


def _metrics(plan: FunnelPlan, currency: str, deals_label: str = "Deals needed") -> None:
    top = plan.top_of_funnel
    meetings = plan.stage("Meetings") or plan.stages[min(1, len(plan.stages) - 1)]
    today = date.today()
    cards = st.columns(4)
    cards[0].metric(
        deals_label,
        f"{plan.deals_needed:,}",
        border=True,
        help=f"{money(plan.inputs.target, currency)} ÷ {money(plan.inputs.deal_size, currency)}"
        f" = {plan.deals_exact:,.2f}, rounded up",
    )
    # The stage's name alone is the label, the unit a chip under the number: "Presentation Scheduled / week"
    # from a CRM export was cut short beside three other cards.
    widgets.note_card(
        cards[1],
        markdown_text(top.name),
        f"{top.per_week:,.1f}",
        "a week",
        help=f"{top.total:,} over {plural(round(plan.working_weeks, 1), 'working week')} ({top.per_day:,.1f} a day)",
    )
    widgets.note_card(
        cards[2],
        markdown_text(meetings.name),
        f"{meetings.per_week:,.1f}",
        "a week",
        help=f"{meetings.total:,} over {plural(round(plan.working_weeks, 1), 'working week')}",
    )
    cards[3].metric(
        "Start prospecting by",
        f"{plan.start_by:%d %b %Y}",
        _when(plan.start_by, today),
        delta_color="inverse" if plan.start_by < today else "off",
        delta_arrow="off",
        border=True,
        help=f"{plural(top.days_before_close, 'day')} of lags before the first deal of the period closes",
    )
    if plan.start_by < today:
        st.info(
            f"The lags put the first deals' prospecting before today ({plan.start_by:%d %b %Y}). "
            "The weekly table front-loads it in the weeks marked *before the period*: catch up now, "
            "or start the period later.",
            icon=":material/schedule:",
        )


def _weekly_table(plan: FunnelPlan) -> None:
    st.subheader("Weekly activity")
    st.caption(
        "Whole activities per week, each stage shifted earlier by its lag so deals land in the period. "
        "Each column adds up to the stage total."
    )
    table = weekly_activity_table(plan)
    st.dataframe(
        table,
        hide_index=True,
        height=320,
        column_config={"Week starting": st.column_config.DateColumn(format="YYYY-MM-DD")},
    )
    st.download_button(
        "Download weekly activity (CSV)",
        lambda: csv_bytes(table),  # built when clicked, not on every slider move
        file_name="backplan-weekly-activity.csv",
        mime="text/csv",
        icon=":material/download:",
        on_click="ignore",
    )


def _stage_table(plan: FunnelPlan) -> None:
    rows = [
        {
            "Stage": s.name,
            "Ratio to next (conversion)": ratio_label(s.ratio) if s.ratio else "—",
            "Total": s.total,
            "Per week": round(s.per_week, 1),
            "Per day": round(s.per_day, 1),
            "Days before close": s.days_before_close,
        }
        for s in plan.stages
    ]
    st.dataframe(rows, hide_index=True, column_config={"Total": st.column_config.NumberColumn(format="localized")})


def _levers(inputs: PlanInputs, currency: str) -> None:
    st.subheader("Levers")
    ranked = levers(inputs)
    st.plotly_chart(levers_chart(ranked), config={"displayModeBar": False})
    best = ranked[0]
    if best.kind == "deal_size":
        change = f"{money(best.before, currency)} → {money(best.after, currency)}"
    elif best.kind == "ratio":
        change = f"{best.before:g} : 1 → {best.after:.2f} : 1"
    else:
        change = f"{best.before:,.1f} → {best.after:,.1f} a week"
    st.caption(
        f"Cheapest on paper: **{best.label}** ({change}) reaches the target "
        f"{plural(round(best.weeks_saved, 1), 'week')} sooner. Every lever multiplies, so +10% anywhere saves "
        "about 9% — pick the one that is easiest for you to move."
    )


def _certainty_table(certainty: Confidence, inputs: PlanInputs, currency: str) -> None:
    chosen = state["plan.confidence"]
    top_name = inputs.stages[0].name
    rows = [{"Plan for": "Expected case", f"{top_name}": certainty.expected_top, "× expected": 1.0}]
    rows += [
        {"Plan for": f"{lv.level:.0%} chance", f"{top_name}": lv.top_of_funnel, "× expected": lv.multiplier}
        for lv in certainty.levels
    ]
    chance = certainty.chance_plan_hits
    with st.container(border=True):
        text, table = st.columns([0.45, 0.55], vertical_alignment="center")
        text.metric(
            "Chance the expected plan hits the target",
            f"{chance:.0%}",
            border=False,
            help=f"{certainty.simulations:,} simulated years with ratios drawn from what the profile's sample "
            "sizes allow (fixed seed: the same plan always gives the same answer).",
        )
        if chosen != "expected":
            level = certainty.at(float(chosen))
            text.caption(
                f"Planning for **{level.level:.0%} confidence** in {money(inputs.target, currency)}: the activity "
                f"below is what an expected {money(inputs.target * level.multiplier, currency)} takes "
                f"(×{level.multiplier:.2f})."
            )
        table.dataframe(
            rows,
            hide_index=True,
            column_config={
                top_name: st.column_config.NumberColumn(f"{top_name} needed", format="localized"),
                "× expected": st.column_config.NumberColumn(format="×%.2f"),
            },
        )


def _shapes_allowed(profile: Calibration | None) -> list[str]:
    """The milestone shapes on offer: "historical" only with a profile to take the history from."""
    return [s for s in SHAPES if s != "historical" or profile is not None]


def _settle_inputs(profile: Calibration | None) -> None:
    """Let go of the inputs the widgets would no longer offer, before the plan is made from them."""
    weeks = period_weeks(state["plan.start"], state["plan.end"])  # holiday weeks picked for an older period
    state["plan.holiday_weeks"] = [w for w in state["plan.holiday_weeks"] if w in weeks]
    allowed = _shapes_allowed(profile)
    for key in ("plan.milestone_shape", "plan.milestone_fill"):
        if state[key] not in allowed:
            state[key] = "linear"


def _plan_inputs(applied: tuple[store.ProfileSummary, Calibration] | None) -> DeltaGenerator:
    """Every input of the plan: the profile and chance, target and deal size, the period, the funnel, milestones.

    Returns the funnel's column.
    """
    left, right = st.columns([0.42, 0.58], gap="large")
    with left:
        with st.container(border=True):
            profile = _profile_inputs(applied)
            _confidence_inputs(profile)
        with st.container(border=True):
            st.selectbox("Currency", list(CURRENCIES), key="plan.currency")
            _target_inputs(state["plan.currency"])
        with st.container(border=True):
            _period_inputs()
    with right, st.container(border=True):
        st.markdown("**Funnel, top down**")
        _stage_inputs()
    with st.container(border=True):
        _milestone_inputs(profile, state["plan.currency"])
    return right


def _plan_figures(profile: Calibration | None) -> tuple[PlanInputs, FunnelPlan] | None:
    """The plan the inputs make and its metric cards (or what to fix); None when the inputs make no plan."""
    currency = state["plan.currency"]
    inputs = _inputs_from_state()
    try:
        certainty = data.confidence(state["plan.profile_id"], inputs) if profile is not None else None
        plan, _ = plan_for_chance(inputs, certainty, CONFIDENCE_LEVEL.get(state["plan.confidence"]))
    except PlanInputError as error:
        st.error(
            "**Fix these to see your plan:**\n\n" + "\n".join(f"- {p.message}" for p in error.problems),
            icon=":material/error:",
        )
        return None
    chosen = state["plan.confidence"]
    sure = certainty is not None and chosen != "expected"
    _metrics(plan, currency, f"Deals to plan for ({float(chosen):.0%} sure)" if sure else "Deals needed")
    if certainty is not None:
        _certainty_table(certainty, inputs, currency)
    return inputs, plan


def _plan_outputs(inputs: PlanInputs, plan: FunnelPlan, funnel_area: DeltaGenerator) -> None:
    """The rest of the plan: the funnel, stage and weekly tables, coverage, levers, what-if."""
    currency = state["plan.currency"]
    with funnel_area:
        st.plotly_chart(funnel_chart(plan), config={"displayModeBar": False})
    _stage_table(plan)
    _weekly_table(plan)
    coverage_col, levers_col = st.columns(2, gap="large")
    with coverage_col:
        st.subheader("Pipeline coverage")
        st.plotly_chart(coverage_chart(plan, currency), config={"displayModeBar": False})
    with levers_col:
        _levers(inputs, currency)
    st.subheader("What if")
    st.caption(
        "Weekly top-of-funnel activity for other deal sizes and overall win rates; the outlined cell is your plan."
    )
    st.plotly_chart(what_if_heatmap(what_if_grid(inputs), currency), config={"displayModeBar": False})


@st.fragment
def _plan() -> None:
    """The page below its title: the inputs and the plan they make, rerun on their own when one of them changes.

    A slider move reruns this and nothing else: not app.py's navigation and sidebar, not the saved plans. Every
    output depends on the inputs, so they are one fragment; the sidebar's buttons (save, open, new plan) rerun
    the whole app, and their callbacks read the inputs from the session.
    """
    with auth.page_fragment("plan"):
        applied = _applied_profile()
        profile = applied[1] if applied is not None else None
        _settle_inputs(profile)
        # The cards first: what a move changes reaches the browser before the inputs and charts, so it is drawn
        # while they are still on their way (the browser paints between messages, not while drawing charts).
        figured = _plan_figures(profile)
        funnel_area = _plan_inputs(applied)
        if figured is not None:
            _plan_outputs(*figured, funnel_area)


with st.sidebar:
    _saved_plans()

st.title("Plan backwards from your target")
st.caption("Target → deals → funnel → weekly activity. Change any input and the plan follows.")
_plan()
