"""Track: actuals week by week against the milestones, the activity they take, and what to do when the plan slips."""

from __future__ import annotations

import math
from datetime import date
from typing import Any

import pandas as pd
import streamlit as st

from planner import store
from planner.charts import burnup_chart, forecast_fan
from planner.forecast import ForecastRange, TeamOutlook, recovery_after_pipeline, weekly_ask
from planner.funnel import FunnelPlan, build_plan
from planner.imports import read_actuals_csv
from planner.milestones import (
    AHEAD_BEHIND_RULE,
    BEYOND_REACH,
    NOTE_COLUMN,
    REVENUE_COLUMN,
    WEEK_COLUMN,
    Pace,
    Recovery,
    activity_pace,
    actuals_table,
    booked_by,
    bookings,
    check_milestones,
    edits_to_apply,
    plan_pace,
    recovery_plan,
)
from planner.units import markdown_text, money, plural, times
from ui import auth, data, widgets
from ui import forecast as shown
from ui.plans import (
    chance_caption,
    linked_plan_id,
    load_demo,
    may_change_plan,
    plan_refusal,
    planned_funnel,
    show_plan_in_url,
)

viewer = auth.enter_page("track")

state = st.session_state

# --------------------------------------------------------------------------- the weekly actuals editor
#
# The editor's input (``track.table.<plan>``: the table, each week's version, each column's field) stays the
# same between reruns, as Streamlit needs; after each save it is read again from the database, so the next
# edit starts from what is saved. Streamlit keeps a keyed editor's edits (by row position) across a change of
# its input's values, and shows them over it; while what was saved is what they show, the editor keeps its key.
# When the database holds something else (another session's change, a refused edit, an import), the editor
# gets a new key, and with it no edits: it shows the database as it is.


def _table_key(plan_id: int) -> str:
    return f"track.table.{plan_id}"


def _editor_key(plan_id: int, draw: dict[str, Any]) -> str:
    return f"editor.actuals.{plan_id}.{draw['generation']}"


def _read_draw(plan_id: int, previous: dict[str, Any] | None, *, fresh: bool = False) -> dict[str, Any] | None:
    """The editor's input as the database holds it now; a new key unless ``previous``'s edits show just that."""
    con = data.db()
    saved = store.get_plan(con, plan_id)
    if saved is None:
        return None
    recorded = store.get_recorded_weeks(con, plan_id)
    frame = actuals_table(build_plan(saved.inputs), [r.actual for r in recorded])
    applied: dict[tuple[date, str], float] = dict(previous["applied"]) if previous else {}
    weeks = frame[WEEK_COLUMN].tolist()
    same = (
        previous is not None
        and not fresh
        and list(previous["frame"].columns) == list(frame.columns)
        and previous["frame"][WEEK_COLUMN].tolist() == weeks
        and all(float(frame[column].iloc[weeks.index(week)]) == value for (week, column), value in applied.items())
    )
    fields: dict[str, str | int] = {REVENUE_COLUMN: store.REVENUE_FIELD, saved.inputs.won_stage: store.WON_FIELD}
    fields |= {stage.name: stage.id for stage in saved.inputs.stages if stage.id is not None}
    return {
        "frame": frame,
        "versions": {r.actual.week_start: r.version for r in recorded},
        "fields": fields,
        "plan_version": saved.version,
        "currency": saved.currency,
        "generation": (previous["generation"] + (0 if same else 1)) if previous else 0,
        "applied": applied if same else {},
    }


def _stale_words(stale: store.StaleWeeks, draw: dict[str, Any], typed: dict[tuple[date, str], float]) -> str:
    """ "changed by NAME at TIME — here is the current value", for each week refused."""
    currency = draw["currency"]
    lines = []
    for week in stale.weeks:
        now = week.actual
        current = {REVENUE_COLUMN: money(now.revenue, currency), "deals won": f"{now.deals_won:,}"}
        current |= {name: f"{count:,}" for name, count in now.stage_counts.items()}
        yours = ", ".join(
            f"{markdown_text(column)} {money(value, currency) if column == REVENUE_COLUMN else f'{value:,.0f}'}"
            for (day, column), value in typed.items()
            if day == now.week_start
        )
        who = f"by {markdown_text(week.changed_by)}" if week.changed_by else "in another session"
        when = f" at {week.changed_at:%H:%M on %d %b}" if week.changed_at else ""
        values = ", ".join(f"{markdown_text(k)} {v}" for k, v in current.items())
        lines.append(
            f"The week of {now.week_start:%d %b %Y} was changed {who}{when} — here is the current value: {values}. "
            f"Your change ({yours}) was not saved; the table shows what is saved now."
        )
    return "\n\n".join(lines)


def _save_edits(plan_id: int) -> None:
    """Write the cells changed in this edit, and only those, onto the versions the table was read at."""
    if not may_change_plan(plan_id):
        return
    draw = state.get(_table_key(plan_id))
    if draw is None:
        return
    edits = state.get(_editor_key(plan_id, draw), {}).get("edited_rows", {})
    changes = edits_to_apply(draw["frame"], edits, draw["applied"])
    if not changes:
        return
    cells = [store.ActualCell(week, draw["fields"][column], value) for (week, column), value in changes.items()]
    versions = {week: draw["versions"].get(week, 0) for week, _ in changes}
    state["track.conflict"] = None
    try:
        store.save_actual_cells(data.db(), auth.viewer(), plan_id, cells, versions)
    except store.StaleWeeks as stale:
        state["track.conflict"] = (plan_id, _stale_words(stale, draw, changes))
    except data.WRITE_ERRORS as error:
        st.toast(f"Could not save that change: {data.failure(error)}", icon=":material/error:")
    draw["applied"].update(changes)
    state[_table_key(plan_id)] = _read_draw(plan_id, draw)


def _import(plan_id: int) -> None:
    pending = state.get("track.pending_import")
    if not pending or not may_change_plan(plan_id):
        return
    try:
        store.save_actuals(data.db(), auth.viewer(), plan_id, pending)
    except data.WRITE_ERRORS as error:
        st.toast(f"Nothing was imported: {data.failure(error)}", icon=":material/error:")
        return
    finally:
        state["track.pending_import"] = None
    state[_table_key(plan_id)] = _read_draw(plan_id, state.get(_table_key(plan_id)), fresh=True)
    st.toast(f"Imported {plural(len(pending), 'week')}.", icon=":material/check:")


def _empty_state() -> None:
    if not viewer.can_load_demo:
        st.info("You have no saved plans yet. Save one on the **Plan** page to track it here.", icon=":material/info:")
        return
    st.info(
        "There are no saved plans yet. Save one on the **Plan** page, or load a demo team to see tracking at work.",
        icon=":material/info:",
    )
    st.button("Load demo data", icon=":material/group_add:", key="btn.load_demo", on_click=load_demo, type="primary")


# --------------------------------------------------------------------------- sections


def _standing_card(column: Any, progress: Pace, period_start: date, currency: str) -> None:
    """Ahead or behind, by the one definition (AHEAD_BEHIND_RULE), as the chart's today marker shows it."""
    if progress.as_of < period_start:
        column.metric("Against the milestones", "—", border=True, help="Nothing is due before the period starts.")
        return
    gap, due = progress.gap_to_milestone, progress.due_to_date
    before, after = progress.latest_milestone, progress.next_milestone
    if before and after:
        between = (
            f"pro rata between {money(before.cumulative, currency)} due {before.due:%d %b} "
            f"and {money(after.cumulative, currency)} due {after.due:%d %b}"
        )
    elif after:
        between = f"pro rata towards {money(after.cumulative, currency)} due {after.due:%d %b}"
    else:
        between = "the target"
    column.metric(
        "Behind the milestones" if progress.behind else "Ahead of the milestones",
        money(abs(gap), currency),
        f"{gap / due:+.0%}" if due else None,
        border=True,
        help=f"By {progress.as_of:%d %b %Y} the milestones call for {money(due, currency)} ({between}); "
        f"{money(progress.booked, currency)} is booked.",
    )


def _cards(progress: Pace, period_start: date, currency: str) -> None:
    cards = st.columns(4)
    cards[0].metric(
        "Booked",
        money(progress.booked, currency),
        border=True,
        help=f"Revenue booked in the period by {progress.as_of:%d %b %Y}",
    )
    cards[1].metric(
        "Of target",
        f"{progress.attainment:.0%}",
        border=True,
        help=f"{money(progress.booked, currency)} of {money(progress.target, currency)}",
    )
    _standing_card(cards[2], progress, period_start, currency)
    required = progress.required_per_week
    widgets.note_card(
        cards[3],
        "Required per week",
        money(required, currency) if math.isfinite(required) else "—",
        f"plan {money(progress.planned_per_week, currency)} a week",
        help=f"{money(progress.remaining, currency)} left over {progress.working_weeks_left:.1f} working weeks",
    )


def _actuals_editor(plan_id: int, plan: FunnelPlan, stage_names: list[str]) -> None:
    st.subheader("Weekly actuals")
    st.caption(
        "Type this week's numbers in; each change is saved as you make it. The first weeks, *before the period*, "
        "are for the prospecting the plan asks for: their revenue does not count toward this period."
    )
    conflict = state.get("track.conflict")
    if conflict and conflict[0] == plan_id:
        st.warning(conflict[1], icon=":material/sync_problem:")
    draw = state[_table_key(plan_id)]
    counts = {
        name: st.column_config.NumberColumn(name, min_value=0, step=1, format="%d")
        for name in [plan.inputs.won_stage, *stage_names]
    }
    st.data_editor(
        draw["frame"],
        key=_editor_key(plan_id, draw),
        on_change=_save_edits,
        args=(plan_id,),
        hide_index=True,
        height=38 + 35 * min(len(draw["frame"]), 15),
        num_rows="fixed",
        disabled=[WEEK_COLUMN, NOTE_COLUMN],
        column_config={
            WEEK_COLUMN: st.column_config.DateColumn(WEEK_COLUMN, format="YYYY-MM-DD"),
            REVENUE_COLUMN: st.column_config.NumberColumn(REVENUE_COLUMN, min_value=0, step=100, format="%.0f"),
            NOTE_COLUMN: st.column_config.TextColumn(NOTE_COLUMN),
            **counts,
        },
    )


def _dash(value: object, digits: int = 0) -> str:
    """A number as the tables show it; an empty cell as "—"."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    return f"{value:,.{digits}f}"


def _activity(plan: FunnelPlan, weeks: list[store.WeekActual], as_of: date) -> None:
    st.subheader("Activity this week")
    now = activity_pace(plan, weeks, as_of)
    st.caption(
        f"The week of {now.week:%d %b %Y}, stage by stage, against the weekly activity the plan asks for (the weeks "
        "before the period included). **To do** this week = this week's plan plus what is behind so far, spread "
        "over the weeks the stage has left (less, when ahead). The arrow is the running gap: done − planned."
    )
    for row in range(0, len(now.stages), 4):
        columns = st.columns(4)
        for column, stage in zip(columns, now.stages[row : row + 4], strict=False):
            name = markdown_text(stage.name)
            column.metric(
                name,
                f"{stage.to_do:,} to do",
                f"{stage.gap:+,} so far" if stage.gap else "on plan so far",
                border=True,
                help=f"Plan this week: {stage.planned:,} · {stage.done:,} done · "
                f"{plural(stage.weeks_left, 'week')} left for this stage",
            )
    names = [s.name for s in now.stages]
    if state.get("track.pace_stage") not in names:
        state["track.pace_stage"] = names[0]
    stage = st.selectbox("Week by week for", names, key="track.pace_stage")
    rows = now.weeks[now.weeks["Stage"] == stage]
    st.dataframe(
        pd.DataFrame(
            {
                WEEK_COLUMN: rows[WEEK_COLUMN],
                NOTE_COLUMN: rows[NOTE_COLUMN],
                "Planned": rows["Planned"].map(_dash),
                "Done": rows["Done"].map(_dash),
                "Running gap": rows["Running gap"].map(lambda v: "—" if v is None or pd.isna(v) else f"{v:+,.0f}"),
            }
        ),
        hide_index=True,
        height=38 + 35 * min(len(rows), 12),
        column_config={WEEK_COLUMN: st.column_config.DateColumn(format="YYYY-MM-DD")},
    )


def _reach(stage: Any) -> str:
    if not stage.in_time:
        return "too late"
    if stage.within_reach:
        return "yes"
    if stage.per_week_needed > BEYOND_REACH * stage.planned_per_week:
        return f"no: over {BEYOND_REACH:g}× the plan"
    return f"no: over the best week ({stage.best_week:,})"


def _recovery(plan: FunnelPlan, progress: Pace, recovery: Recovery, currency: str) -> None:
    inputs = plan.inputs
    st.subheader("Recovery plan")
    if progress.remaining <= 0:
        st.success("The target is booked. Anything more is upside.", icon=":material/celebration:")
        return
    if progress.as_of >= inputs.period_end:
        st.info(
            f"The period ended on {inputs.period_end:%d %b %Y} with {money(progress.booked, currency)} booked, "
            f"{money(progress.remaining, currency)} short of the target. Carry the lessons into the next plan.",
            icon=":material/flag:",
        )
        return
    if recovery.cycle_too_long:
        st.warning(
            f"New {markdown_text(plan.stages[0].name.lower())} started now cannot close before "
            f"{inputs.period_end:%d %b}: the funnel takes {plan.stages[0].days_before_close} days. The "
            f"{money(recovery.remaining, currency)} left must come from pipeline that already exists — about "
            f"{money(recovery.pipeline_needed, currency)} of it at {times(inputs.coverage_ratio)} coverage.",
            icon=":material/hourglass_bottom:",
        )
    else:
        st.caption(
            f"{money(recovery.remaining, currency)} left is {recovery.deals_needed} deals. Each stage's activity "
            "has to happen before its lag runs out, so the top of the funnel has the least time. A pace is *within "
            f"reach* up to {BEYOND_REACH:g}× the plan's and no more than the best week recorded."
        )
    st.dataframe(
        [
            {
                "Stage": s.name,
                "Needed": f"{s.needed:,}",
                "Weeks left for it": _dash(s.weeks_available, 1),
                "Per week now": _dash(s.per_week_needed, 1) if s.in_time else "—",
                "Plan per week": _dash(s.planned_per_week, 1),
                "Best week": _dash(s.best_week),
                "Within reach?": _reach(s),
            }
            for s in recovery.stages
        ],
        hide_index=True,
    )
    if recovery.instead is None:
        return
    beyond = [s for s in recovery.stages if s.in_time and not s.within_reach]
    paces = "; ".join(
        f"**{markdown_text(s.name)}: {s.per_week_needed:,.0f} a week** (plan {s.planned_per_week:,.1f}, "
        f"{f'best week: {s.best_week:,}' if s.best_week else 'nothing recorded yet'})"
        for s in beyond
    )
    instead = recovery.instead
    options = [
        f"- **more pipeline**: about {money(instead.pipeline, currency)} of deals already open that close by "
        f"{inputs.period_end:%d %b} ({times(inputs.coverage_ratio)} what is left);"
    ]
    if instead.deal_size is not None:
        options.append(
            f"- **bigger deals**: deals of {money(instead.deal_size, currency)} on average instead of "
            f"{money(inputs.deal_size, currency)}, at a pace within reach;"
        )
    if instead.end_date is not None:
        options.append(
            f"- **a later date**: at a pace within reach, what is left is booked by {instead.end_date:%d %b %Y} "
            f"instead of {inputs.period_end:%d %b %Y}."
        )
    st.warning(
        f"This pace is beyond anything recorded: {paces}. What it would take instead:\n\n" + "\n".join(options),
        icon=":material/trending_up:",
    )


def _forecast(outlook: TeamOutlook | None, scenario: ForecastRange | None, currency: str, period_end: date) -> None:
    """The range under the burn-up: in words, what the toggle left out, the concentration flag, the assumptions."""
    if outlook is None or outlook.forecast is None or scenario is None:
        shown.missing(outlook)
        return
    result = outlook.forecast
    shown.left_out(scenario, result.deals, currency)
    mine = scenario.rows[0]  # the plan's rep: the only one
    st.markdown(f"**Forecast.** {shown.range_words(mine, currency, f'{period_end:%d %b %Y}')}")
    shown.concentration([mine], result.concentration_flag, currency)
    shown.assumptions(outlook)


def _recovery_without(plan: FunnelPlan, progress: Pace, scenario: ForecastRange | None, currency: str) -> None:
    """With the largest deals left out: what is left after the pipeline's expected wins, as a weekly ask."""
    if scenario is None or not scenario.without_top or not scenario.removed:
        return
    recovery = recovery_after_pipeline(plan, progress, scenario.team)
    st.info(
        f"**{shown.WITHOUT[scenario.without_top]}**, the rest of the open pipeline is expected to bring "
        f"{money(scenario.team.expected - scenario.team.booked, currency)}, leaving "
        f"{money(recovery.remaining, currency)} to find ({plural(recovery.deals_needed, 'more deal')}): "
        f"**{markdown_text(weekly_ask(recovery))}** a week from now.",
        icon=":material/trending_down:",
    )


def _import_section(plan_id: int, plan: FunnelPlan, stage_names: list[str]) -> None:
    with st.expander("Import actuals from a CSV", icon=":material/upload_file:"):
        st.caption(
            f"Columns: week (any day of it), revenue, deals, and a count per stage named as in the plan "
            f"({', '.join(markdown_text(n) for n in stage_names)}). Imported weeks replace what those weeks had; "
            f"weeks from {plan.start_by:%d %b %Y}, when the plan's prospecting starts, are read."
        )
        uploaded = st.file_uploader("Actuals CSV", type=["csv", "txt"], key=f"upload.actuals.{plan_id}")
        if uploaded is None:
            return
        result = read_actuals_csv(uploaded.getvalue(), stage_names, plan.start_by, plan.inputs.period_end)
        if result.problems:
            st.error(
                f"{plural(len(result.problems), 'problem')}; the rows with one are left out.", icon=":material/error:"
            )
            st.dataframe(
                [{"Row": p.row, "Column": p.column, "Problem": p.reason} for p in result.problems], hide_index=True
            )
        for note in result.notes:  # what reading had to clean, such as stray NUL bytes
            st.caption(markdown_text(note))
        if result.ignored_columns:
            st.caption("Not used: " + ", ".join(markdown_text(c) for c in result.ignored_columns))
        state["track.pending_import"] = list(result.weeks)
        st.button(
            f"Import {plural(len(result.weeks), 'week')}",
            key="btn.import_actuals",
            disabled=not result.weeks,
            on_click=_import,
            args=(plan_id,),
            type="primary",
        )


# --------------------------------------------------------------------------- the page

st.title("Track actuals against the plan")
con = data.db()
plans = data.saved_plans(viewer)
linked = linked_plan_id("track")
if linked is not None:
    refusal = plan_refusal(linked)
    if refusal:
        st.error(refusal, icon=":material/lock:")
    else:
        target = next(p for p in plans if p.id == linked)
        state["track.rep"], state["track.plan"] = target.rep_name, target.name
if not plans:
    _empty_state()
    st.stop()

reps = sorted({p.rep_name for p in plans})
pick_rep, pick_plan, pick_date = st.columns([1, 1, 0.6])
if state.get("track.rep") not in reps:
    state["track.rep"] = reps[0]
rep_name = pick_rep.selectbox("Rep", reps, key="track.rep")
rep_plans = {p.name: p for p in plans if p.rep_name == rep_name}  # names are unique per rep
if state.get("track.plan") not in rep_plans:
    state["track.plan"] = next(iter(rep_plans))
plan_name = pick_plan.selectbox(
    "Plan",
    list(rep_plans),
    key="track.plan",
    format_func=lambda name: f"{name} ({rep_plans[name].period_start:%d %b} to {rep_plans[name].period_end:%d %b %Y})",
)
plan_id = rep_plans[plan_name].id
show_plan_in_url("track", plan_id)
as_of = pick_date.date_input("As of", key="track.as_of", format="YYYY-MM-DD")

saved = store.get_plan(con, plan_id)
if saved is None:  # deleted in another session since the list was read
    st.warning("That plan has just been deleted. Pick another.", icon=":material/warning:")
    st.stop()
plan, chance = planned_funnel(saved)  # at the chance of hitting the target the plan was saved for
if caption := chance_caption(saved, chance):
    st.caption(caption)
steps = store.get_milestones(con, plan_id)
weeks = store.get_actuals(con, plan_id)
weekly, daily = bookings(weeks)
progress = plan_pace(saved.inputs, steps, weekly, as_of, daily)
currency = saved.currency
period = (saved.inputs.period_start, saved.inputs.period_end)
holidays = saved.inputs.holiday_weeks

_cards(progress, saved.inputs.period_start, currency)
burnup = burnup_chart(
    *period,
    check_milestones(steps, weekly, as_of, period=period, holiday_weeks=holidays, daily_revenue=daily),
    booked_by(weekly, *period, as_of, holiday_weeks=holidays, daily_revenue=daily),
    progress,
    currency,
)
# The forecast range to the period end, while there is a period left to forecast (the chart says the rest).
forecasting = period[0] <= as_of < period[1]
outlook = data.plan_forecast(plan_id, as_of) if forecasting else None
result = outlook.forecast if outlook is not None else None
without = shown.without_picker("track.without_top") if result is not None else 0
scenario = result.without_top(without) if result is not None else None
if scenario is not None:
    rep_range = scenario.rows[0]
    burnup = forecast_fan(burnup, as_of, period[1], rep_range.booked, rep_range.p10, rep_range.p50, rep_range.p90,
                          currency)  # fmt: skip
st.plotly_chart(burnup, config={"displayModeBar": False}, key="track.burnup_chart")
st.caption(AHEAD_BEHIND_RULE)
if forecasting:
    _forecast(outlook, scenario, currency, period[1])

draw = state.get(_table_key(plan_id))
if draw is None or draw["plan_version"] != saved.version:  # first shown, or the plan was saved meanwhile
    state[_table_key(plan_id)] = _read_draw(plan_id, draw)
stage_names = [s.name for s in plan.stages[:-1]]
_actuals_editor(plan_id, plan, stage_names)
_activity(plan, weeks, as_of)
_recovery(plan, progress, recovery_plan(plan, progress, weeks), currency)
_recovery_without(plan, progress, scenario, currency)
_import_section(plan_id, plan, stage_names)
