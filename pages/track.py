"""Track: actuals week by week against the milestones, and what to do when the plan slips."""

from __future__ import annotations

import streamlit as st

from planner import store
from planner.charts import burnup_chart
from planner.funnel import build_plan
from planner.imports import read_actuals_csv
from planner.milestones import (
    REVENUE_COLUMN,
    WEEK_COLUMN,
    actuals_table,
    booked_by,
    check_milestones,
    plan_pace,
    recovery_plan,
    week_from_row,
)
from planner.units import money
from ui import auth, data
from ui.plans import linked_plan_id, load_demo, may_change_plan, plan_refusal, show_plan_in_url

viewer = auth.enter_page("track")

state = st.session_state


def _save_edits(plan_id: int, table_key: str, editor_key: str, won_stage: str, stage_names: list[str]) -> None:
    """Apply the editor's changed cells to the kept table and write those weeks, in one transaction."""
    if not may_change_plan(plan_id):
        return
    table = state[table_key]
    edits = state[editor_key]["edited_rows"]
    for row, changes in edits.items():
        for column, value in changes.items():
            table.at[int(row), column] = value if value is not None else 0
    weeks = [week_from_row(table.iloc[int(row)].to_dict(), won_stage, stage_names) for row in edits]
    try:
        store.save_actuals(data.db(), auth.viewer(), plan_id, weeks)
    except data.WRITE_ERRORS as error:
        st.toast(f"Could not save that change: {data.failure(error)}", icon=":material/error:")


def _empty_state() -> None:
    if not viewer.can_load_demo:
        st.info("You have no saved plans yet. Save one on the **Plan** page to track it here.", icon=":material/info:")
        return
    st.info(
        "There are no saved plans yet. Save one on the **Plan** page, or load a demo team to see tracking at work.",
        icon=":material/info:",
    )
    st.button("Load demo data", icon=":material/group_add:", key="btn.load_demo", on_click=load_demo, type="primary")


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
plan = build_plan(saved.inputs)
steps = store.get_milestones(con, plan_id)
weeks = store.get_actuals(con, plan_id)
revenue = {w.week_start: w.revenue for w in weeks}
progress = plan_pace(saved.inputs, steps, revenue, as_of)
currency = saved.currency

# --------------------------------------------------------------------------- metric cards

cards = st.columns(4)
cards[0].metric(
    "Booked",
    money(progress.booked, currency),
    border=True,
    help=f"Revenue recorded in weeks starting by {as_of:%d %b %Y}",
)
cards[1].metric(
    "Of target",
    f"{progress.attainment:.0%}",
    border=True,
    help=f"{money(progress.booked, currency)} of {money(progress.target, currency)}",
)
if progress.latest_milestone is None:
    cards[2].metric("Against the milestone", "—", border=True, help="No milestone is due yet.")
else:
    milestone = progress.latest_milestone
    cards[2].metric(
        "Behind the milestone" if progress.behind else "Ahead of the milestone",
        money(abs(progress.gap_to_milestone), currency),
        f"{progress.gap_to_milestone / milestone.cumulative:+.0%}" if milestone.cumulative else None,
        border=True,
        help=f"{money(milestone.cumulative, currency)} was due by {milestone.due:%d %b %Y}; "
        f"{money(progress.booked, currency)} is booked.",
    )
required = progress.required_per_week
cards[3].metric(
    "Required per week",
    money(required, currency) if required != float("inf") else "—",
    f"plan {money(progress.planned_per_week, currency)} a week",
    delta_color="off",
    delta_arrow="off",
    border=True,
    help=f"{money(progress.remaining, currency)} left over {progress.working_weeks_left:.1f} working weeks",
)

st.plotly_chart(
    burnup_chart(
        saved.inputs.period_start,
        saved.inputs.period_end,
        check_milestones(steps, revenue, as_of),
        booked_by(revenue, saved.inputs.period_start, saved.inputs.period_end, as_of),
        progress,
        currency,
    ),
    config={"displayModeBar": False},
    key="track.burnup_chart",
)

# --------------------------------------------------------------------------- weekly actuals

st.subheader("Weekly actuals")
st.caption("Type this week's numbers in; each change is saved as you make it.")
stage_names = [s.name for s in plan.stages[:-1]]
table_key, editor_key = f"track.table.{plan_id}", f"editor.actuals.{plan_id}"
if state.get(table_key) is None:
    state[table_key] = actuals_table(plan, weeks)
counts = {
    name: st.column_config.NumberColumn(name, min_value=0, step=1, format="%d")
    for name in [saved.inputs.won_stage, *stage_names]
}
st.data_editor(
    state[table_key],
    key=editor_key,
    on_change=_save_edits,
    args=(plan_id, table_key, editor_key, saved.inputs.won_stage, stage_names),
    hide_index=True,
    num_rows="fixed",
    disabled=[WEEK_COLUMN],
    column_config={
        WEEK_COLUMN: st.column_config.DateColumn(WEEK_COLUMN, format="YYYY-MM-DD"),
        REVENUE_COLUMN: st.column_config.NumberColumn(REVENUE_COLUMN, min_value=0, step=100, format="%.0f"),
        **counts,
    },
)

# --------------------------------------------------------------------------- recovery

st.subheader("Recovery plan")
recovery = recovery_plan(plan, progress)
if progress.remaining <= 0:
    st.success("The target is booked. Anything more is upside.", icon=":material/celebration:")
elif as_of >= saved.inputs.period_end:
    st.info(
        f"The period ended on {saved.inputs.period_end:%d %b %Y} with {money(progress.booked, currency)} booked, "
        f"{money(progress.remaining, currency)} short of the target. Carry the lessons into the next plan.",
        icon=":material/flag:",
    )
else:
    if recovery.cycle_too_long:
        st.warning(
            f"New {plan.stages[0].name.lower()} started now cannot close before {saved.inputs.period_end:%d %b}: "
            f"the funnel takes {plan.stages[0].days_before_close} days. The "
            f"{money(recovery.remaining, currency)} left must come from pipeline that already exists — about "
            f"{money(recovery.pipeline_needed, currency)} of it at {saved.inputs.coverage_ratio:g}× coverage.",
            icon=":material/hourglass_bottom:",
        )
    else:
        st.caption(
            f"{money(recovery.remaining, currency)} left is {recovery.deals_needed} deals. Each stage's activity "
            "has to happen before its lag runs out, so the top of the funnel has the least time."
        )
    st.dataframe(
        [
            {
                "Stage": s.name,
                "Needed": s.needed,
                "Weeks left for it": round(s.weeks_available, 1),
                "Per week now": round(s.per_week_needed, 1) if s.in_time else None,
                "Plan per week": round(s.planned_per_week, 1),
                "Extra per week": round(s.extra_per_week, 1) if s.in_time else None,
                "In time?": "yes" if s.in_time else "too late",
            }
            for s in recovery.stages
        ],
        hide_index=True,
    )

# --------------------------------------------------------------------------- import


def _import(plan_id: int) -> None:
    pending = state.get("track.pending_import")
    if not pending or not may_change_plan(plan_id):
        return
    try:
        store.save_actuals(data.db(), auth.viewer(), plan_id, pending)
    except data.WRITE_ERRORS as error:
        st.toast(f"Nothing was imported: {data.failure(error)}", icon=":material/error:")
        return
    state[f"track.table.{plan_id}"] = None  # rebuild the editor from the database
    state["track.pending_import"] = None
    st.toast(f"Imported {len(pending)} weeks.", icon=":material/check:")


with st.expander("Import actuals from a CSV", icon=":material/upload_file:"):
    st.caption(
        f"Columns: week (any day of it), revenue, deals, and a count per stage named as in the plan "
        f"({', '.join(stage_names)}). Imported weeks replace what those weeks had."
    )
    upload_key = f"upload.actuals.{plan_id}"
    uploaded = st.file_uploader("Actuals CSV", type=["csv", "txt"], key=upload_key)
    if uploaded is not None:
        result = read_actuals_csv(uploaded.getvalue(), stage_names, saved.inputs.period_start, saved.inputs.period_end)
        if result.problems:
            st.error(f"{len(result.problems)} problem(s); the rows with one are left out.", icon=":material/error:")
            st.dataframe(
                [{"Row": p.row, "Column": p.column, "Problem": p.reason} for p in result.problems], hide_index=True
            )
        if result.ignored_columns:
            st.caption("Not used: " + ", ".join(result.ignored_columns))
        state["track.pending_import"] = list(result.weeks)
        st.button(
            f"Import {len(result.weeks)} weeks",
            key="btn.import_actuals",
            disabled=not result.weeks,
            on_click=_import,
            args=(plan_id,),
            type="primary",
        )
