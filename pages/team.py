"""Team review: the manager's Monday pipeline review on one screen."""

from __future__ import annotations

import math
from datetime import date, datetime

import pandas as pd
import streamlit as st

from planner import store
from planner.backups import list_backups
from planner.charts import team_burnup_chart, waterfall_chart
from planner.imports import ImportFailure, read_deals, read_table
from planner.team import (
    STATUS_RULE,
    STATUSES,
    TeamReview,
    activity_check,
    review_table,
    slipped_deals,
    snapshot_diff,
    team_burnup,
    team_review,
)
from planner.units import markdown_text, money
from ui import auth, data, mapping, session, widgets
from ui.plans import load_demo

viewer = auth.enter_page("team")

state = st.session_state
#: Status → (Markdown colour, cell background) for the review.
STATUS_COLOURS = {"off track": ("red", "#fde2e1"), "at risk": ("orange", "#fdebd3"), "on track": ("green", "#dff3e3")}
MONEY_COLUMNS = (
    "Target",
    "Booked",
    "Milestone to date",
    "Ahead (+) / behind (-)",
    "Pipeline in period",
    "Run-rate projection",
    "Pipeline-weighted projection",
)


# --------------------------------------------------------------------------- callbacks


def _open_track() -> None:
    """A rep's row was clicked: open their plan on Track (done by the next run, which may switch pages)."""
    rows = state["team.review_table"]["selection"]["rows"]
    if rows and rows[0] > 0:  # row 0 is the team's totals
        state["team.open_track"] = int(rows[0]) - 1


def _save_snapshot(team: str, deals: pd.DataFrame, name: str) -> None:
    snapshot_date = state["team.snapshot_date"]
    if not auth.permitted(
        lambda who: who.can_review(team), "Only this team's manager or sales ops can store its pipeline."
    ):
        return
    try:
        count = store.save_snapshot(data.db(), auth.viewer(), team, snapshot_date, deals)
    except data.WRITE_ERRORS as error:
        st.toast(markdown_text(data.failure(error)), icon=":material/error:")
        return
    state["team.to_snapshot"] = snapshot_date
    state["team.from_snapshot"] = None
    state["team.snapshot_upload_done"] = (
        f"{markdown_text(name)}: {count:,} deals stored as the pipeline of {snapshot_date:%d %b %Y}."
    )


#: The members editor's columns a person may change, and the field of a rep each one is.
MEMBER_FIELDS = {"Team": "team", "Role": "role", "Sign-in email": "email"}


def _member_frame() -> pd.DataFrame:
    """Everyone on file as saved now, each row carrying the rep's id and version (hidden) for the edit it makes."""
    reps = store.list_reps(data.db())
    return pd.DataFrame(
        {
            "id": pd.Series([r.id for r in reps], dtype="int64"),
            "version": pd.Series([r.version for r in reps], dtype="int64"),
            "Name": pd.Series([r.name for r in reps], dtype="str"),
            "Team": pd.Series([r.team for r in reps], dtype="str"),
            "Role": pd.Series([r.role for r in reps], dtype="str"),
            "Sign-in email": pd.Series([r.email for r in reps], dtype="str"),
        }
    )


def _member_changes(editor_key: str) -> dict[int, dict[str, object]]:
    """The cells changed in this edit, by row drawn: the editor's edits less those already written.

    An edit is written as soon as it is made and the editor then drawn afresh,
    so its edits hold only this one; should a run have been cut short before
    that, cells already written are not written again.
    """
    edits = state[editor_key]["edited_rows"]
    done = state["team.members_applied"].get(editor_key, {})
    changes: dict[int, dict[str, object]] = {}
    for row, cells in edits.items():
        for column, value in cells.items():
            if column in MEMBER_FIELDS and done.get(row, {}).get(column, changes) != value:
                changes.setdefault(int(row), {})[MEMBER_FIELDS[column]] = value
    state["team.members_applied"] = {editor_key: {row: dict(cells) for row, cells in edits.items()}}
    return changes


def _apply_member_edits(editor_key: str, drawn: pd.DataFrame) -> None:
    """Write the cells just edited to the people the edited rows showed (by rep id), if nobody changed them since.

    ``drawn`` is the frame the editor was drawn from, so a row number always means
    the person that row showed, however the list is sorted now. Each person's
    change carries their version as drawn: a person changed meanwhile is not
    overwritten, and the page says by whom, when, and what is saved now.
    """
    state["team.members_generation"] += 1  # the next run draws a fresh editor from what is saved then
    if not auth.permitted(lambda who: who.can_manage_people, "Only sales ops can change teams and roles."):
        return
    for row, fields in _member_changes(editor_key).items():
        rep = drawn.iloc[row]
        if "role" in fields and not widgets.offered(fields["role"], store.ROLES):
            widgets.flash("team", "error", f"A role is one of {', '.join(store.ROLES)}; {rep['Name']}'s was kept.")
            continue
        cleaned = {field: str(value or "") for field, value in fields.items()}
        try:
            store.update_rep(data.db(), auth.viewer(), int(rep["id"]), **cleaned, version=int(rep["version"]))
        except data.WRITE_ERRORS as error:
            widgets.flash("team", "error", data.failure(error))


def _add_person() -> None:
    if not auth.permitted(lambda who: who.can_manage_people, "Only sales ops can add people."):
        return
    if not widgets.offered(state["team.new.role"], store.ROLES):
        st.toast(f"A role is one of {', '.join(store.ROLES)}.", icon=":material/error:")
        return
    try:
        store.add_rep(
            data.db(),
            auth.viewer(),
            state["team.new.name"],
            state["team.new.team"],
            state["team.new.role"],
            state["team.new.email"],
        )
    except data.WRITE_ERRORS as error:
        st.toast(markdown_text(data.failure(error)), icon=":material/error:")
    else:
        st.toast(f"Added {markdown_text(state['team.new.name'].strip())}.", icon=":material/person_add:")
        state["team.new.name"] = state["team.new.email"] = ""  # kept on a refusal, so it can be fixed


def _ask_remove(offered_ids: list[int]) -> None:
    """Remove…: ask first, naming what goes with the person picked (one of ``offered_ids``)."""
    rep_id = widgets.chosen("team.remove_pick", offered_ids)
    held = store.rep_holdings(data.db(), rep_id) if rep_id is not None else None
    state["team.confirm_remove"] = None if held is None else (rep_id, held.plans, held.weeks)


def _remove_person(rep_id: int, plans: int, weeks: int) -> None:
    state["team.confirm_remove"] = None
    if not auth.permitted(lambda who: who.can_manage_people, "Only sales ops can remove people."):
        return
    try:
        gone = store.remove_rep(data.db(), auth.viewer(), rep_id, plans=plans, weeks=weeks)
        store.purge_deleted_plans(data.db(), auth.viewer())  # their plans and actuals, gone for good
    except data.WRITE_ERRORS as error:
        widgets.flash("team", "error", data.failure(error))
    else:
        widgets.flash("team", "success", f"Removed {gone.name} with {gone.going}.")


def _remove_demo_team() -> None:
    if not auth.permitted(lambda who: who.can_load_demo, "Only sales ops can remove the demo team."):
        return
    try:
        gone = store.remove_demo(data.db(), auth.viewer())
        store.purge_deleted_plans(data.db(), auth.viewer())
    except data.WRITE_ERRORS as error:
        st.toast(markdown_text(data.failure(error)), icon=":material/error:")
    else:
        st.toast(
            f"Removed the demo team: {gone.people} people, {gone.plans} plans, {gone.snapshots} pipeline snapshots.",
            icon=":material/group_remove:",
        )


# --------------------------------------------------------------------------- sections


def _members(offer_demo: bool = True) -> None:
    if not viewer.can_manage_people:
        return
    with st.expander("Teams and roles", icon=":material/badge:"):
        st.caption(
            "Put each rep in a team (type its name) and mark its manager. The review shows one team at a time; "
            "managers are listed with their team, not reviewed as reps. With sign-in on, the sign-in email "
            "decides who is who: a rep sees their own plans, a manager their team's, sales ops everything."
        )
        widgets.show_flash("team")
        drawn = _member_frame()
        editor_key = f"team.members_editor.{state['team.members_generation']}"
        st.data_editor(
            drawn,
            key=editor_key,
            on_change=_apply_member_edits,
            args=(editor_key, drawn),
            hide_index=True,
            width="stretch",
            disabled=["id", "version", "Name"],
            column_config={
                "id": None,
                "version": None,
                "Team": st.column_config.TextColumn(max_chars=80),
                "Role": st.column_config.SelectboxColumn(options=list(store.ROLES), required=True),
                "Sign-in email": st.column_config.TextColumn(max_chars=254),
            },
        )
        with st.form("team.form.add_person", border=False):
            st.caption("**Add a person**, before they have a plan: a new rep, a manager or someone in sales ops.")
            name, team, role, email = st.columns([1.2, 1, 0.8, 1.4])
            name.text_input("Name", key="team.new.name", max_chars=80)
            team.text_input("Team", key="team.new.team", max_chars=80)
            role.selectbox("Role", list(store.ROLES), key="team.new.role")
            email.text_input("Sign-in email", key="team.new.email", max_chars=254)
            st.form_submit_button("Add person", icon=":material/person_add:", on_click=_add_person)
        _remove_form(drawn)
        _demo_controls(offer_demo)


def _remove_form(drawn: pd.DataFrame) -> None:
    """Remove a person (not oneself): their plans and actuals go after a confirmation naming how many."""
    people = {int(i): str(n) for i, n in zip(drawn["id"], drawn["Name"], strict=True) if int(i) != viewer.rep_id}
    if not people:
        return
    st.caption(
        "**Remove a person** who has left: their plans and actuals go too; their account plans stay, unassigned."
    )
    pick, button = st.columns([3, 1], vertical_alignment="bottom")
    pick.selectbox("Person to remove", list(people), key="team.remove_pick", format_func=people.get, index=None)
    button.button(
        "Remove…", key="btn.team_remove", icon=":material/person_remove:", on_click=_ask_remove, args=(list(people),)
    )
    asked = state["team.confirm_remove"]
    if asked is None:
        return
    rep_id, plans, weeks = asked
    held = store.rep_holdings(data.db(), rep_id)
    if held is None:
        state["team.confirm_remove"] = None
        return
    widgets.confirm_delete(
        markdown_text(held.question),
        ("btn.team_remove_yes", "btn.team_remove_no"),
        on_yes=_remove_person,
        on_no=lambda: state.update({"team.confirm_remove": None}),
        args=(rep_id, plans, weeks),
        yes_label=f"Yes, remove {held.name}",
    )


def _demo_controls(offer_load: bool) -> None:
    """The demo team, at any time: loaded into a team of its own (unless offered elsewhere), removed in one click."""
    if not viewer.can_load_demo:
        return
    if store.demo_loaded(data.db()):
        st.caption("**The demo team** is loaded, in a team of its own. Remove it when you no longer need it.")
        st.button(
            "Remove the demo team",
            key="btn.team_remove_demo",
            icon=":material/group_remove:",
            on_click=_remove_demo_team,
        )
    elif offer_load:
        st.caption("**The demo team**: four reps part-way through this quarter, in a team of its own.")
        st.button("Load demo data", key="btn.team_load_demo_any", icon=":material/group_add:", on_click=load_demo)


def _back_up_now() -> None:
    if not auth.permitted(lambda who: who.can_manage_people, "Only sales ops can take backups."):
        return
    schedule, _, _ = data.backup_schedule()
    try:
        folder = store.take_backup(data.db(), auth.viewer(), schedule, datetime.now())
    except (*data.WRITE_ERRORS, OSError) as error:
        st.toast(f"The backup failed: {markdown_text(str(error))}", icon=":material/error:")
    else:
        st.toast(f"Backed up into {markdown_text(str(folder))}.", icon=":material/backup:")


def _backups() -> None:
    if not viewer.can_manage_people:
        return
    schedule, daily, problem = data.backup_schedule()
    with st.expander("Backups", icon=":material/backup:"):
        if problem:
            st.warning(f"Daily backups are off: {markdown_text(problem)}", icon=":material/warning:")
        where = markdown_text(str(schedule.folder))
        if daily:
            st.caption(
                f"Every day at {schedule.at:%H:%M} into {where}, kept {schedule.keep_days} days, "
                "while everyone goes on working."
            )
        else:
            st.caption(
                f"On demand, into {where}. Set BACKPLAN\\_BACKUP\\_DIR on the server for a copy every day "
                "(README, Deployment)."
            )
        taken = list_backups(schedule.folder)
        if taken:
            st.caption(f"Latest: {', '.join(taken[:5])} ({len(taken)} in all).")
        else:
            st.caption("No backup there yet.")
        st.button("Back up now", key="btn.back_up_now", icon=":material/backup:", on_click=_back_up_now)
        st.caption("To restore one, stop the app and run backplan restore FOLDER --to new.duckdb (README).")


def _totals(review: TeamReview, currency: str) -> None:
    t = review.totals
    cards = st.columns(4)
    cards[0].metric(
        "Booked",
        money(t.booked, currency),
        f"{t.attainment:.0%} of {money(t.target, currency)}",
        delta_color="off",
        delta_arrow="off",
        border=True,
    )
    cards[1].metric(
        "Against milestones to date",
        money(t.gap, currency),
        "ahead" if t.gap >= 0 else "behind",
        delta_color="normal" if t.gap >= 0 else "inverse",
        delta_arrow="off",
        border=True,
        help=f"Booked minus the milestones due by {review.as_of:%d %b %Y} ({money(t.milestone, currency)})",
    )
    cards[2].metric(
        "Coverage of what is left",
        "—" if math.isinf(t.coverage) else f"{t.coverage:.1f}×",
        f"{t.required_coverage:.1f}× needed",
        delta_color="off",
        delta_arrow="off",
        border=True,
        help=f"Open pipeline closing in the period ({money(t.pipeline, currency)}) ÷ what is left to book "
        f"({money(t.remaining, currency)})",
    )
    cards[3].metric(
        "Pipeline-weighted projection",
        money(t.weighted_projection, currency),
        f"run rate {money(t.run_rate_projection, currency)}",
        delta_color="off",
        delta_arrow="off",
        border=True,
        help="Booked + pipeline ÷ required coverage (the plan's coverage ratio is 1 ÷ its win rate)",
    )
    counts = {s: sum(r.status == s for r in review.rows) for s in STATUSES}
    st.caption(" · ".join(f":{STATUS_COLOURS[s][0]}[**{s}**]: {counts[s]}" for s in STATUSES))


def _review_table(review: TeamReview, currency: str, team: str) -> pd.DataFrame:
    table = review_table(review)
    shown = table.style.map(lambda status: f"background-color: {STATUS_COLOURS[status][1]}", subset=["Status"])
    st.dataframe(
        shown,
        key="team.review_table",
        on_select=_open_track,
        selection_mode="single-row",
        hide_index=True,
        width="stretch",
        column_config={
            **{c: st.column_config.NumberColumn(format="localized") for c in MONEY_COLUMNS},
            "Attainment %": st.column_config.NumberColumn(format="%.1f%%"),
            "Coverage of what is left": st.column_config.NumberColumn(format="%.2f×"),
            "Required coverage": st.column_config.NumberColumn(format="%.1f×"),
        },
    )
    st.caption(f"Worst first; the first row is the team. Click a rep's row to open their plan on Track. {STATUS_RULE}")
    widgets.download_pair("Review", table, f"backplan-review-{team}-{review.as_of:%Y-%m-%d}")
    return table


def _burnup(review: TeamReview, team_inputs: list, currency: str) -> None:
    booked, milestones = team_burnup(team_inputs, review.as_of)
    reps = [r.rep for r in team_inputs]
    chosen = st.multiselect("Reps on the chart", reps, default=reps, key="team.burnup_reps")
    start = min(r.inputs.period_start for r in team_inputs)
    end = max(r.inputs.period_end for r in team_inputs)
    st.plotly_chart(
        team_burnup_chart(booked, milestones, review.totals.target, chosen, (start, end), currency),
        config={"displayModeBar": False},
    )


def _activity(team_inputs: list, as_of: date) -> None:
    week, table = activity_check(team_inputs, as_of)
    st.subheader("Activity this week")
    if week is None:
        st.caption("No weekly activity recorded yet: reps record it on the Track page.")
        return
    st.caption(f"Week of {week:%d %b %Y}: activity recorded on Track against what each rep's plan needs a week.")
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={
            "% of need": st.column_config.ProgressColumn(format="%d%%", min_value=0, max_value=150),
        },
    )


def _snapshot_upload(team: str) -> None:
    with st.expander("Upload this week's pipeline", icon=":material/upload_file:"):
        st.caption(
            "An export of the team's open deals (Salesforce, HubSpot, Pipedrive or any CSV / .xlsx with a deal ID, "
            "owner, stage, amount and close date). Each upload is kept as a dated snapshot."
        )
        upload = st.file_uploader("Pipeline export", type=["csv", "txt", "tsv", "xlsx"], key="team.snapshot_upload")
        st.date_input("Snapshot date", key="team.snapshot_date", format="YYYY-MM-DD")
        if state.get("team.snapshot_upload_done"):
            st.success(state["team.snapshot_upload_done"], icon=":material/check:")
        if upload is None:
            return
        if state.get("team.snapshot_file") != (upload.name, upload.size):
            state["team.snapshot_file"] = (upload.name, upload.size)
            mapping.forget_mapping("team")  # another file: recognise its columns afresh
        try:
            table = read_table(upload.getvalue(), upload.name)
        except ImportFailure as error:
            st.error(
                f"**{markdown_text(upload.name)}** could not be read. {markdown_text(str(error))}",
                icon=":material/error:",
            )
            return
        with st.container(border=True):  # an expander cannot hold another
            st.caption("**Columns**, recognised from the header row; change any that is wrong.")
            columns = mapping.column_mapping(table, "team")
        # An open deal's close date is the expected one when the export has both (Pipedrive, Dynamics 365).
        missing = [label for names, label in ((("deal_id",), "Deal ID"), (("closed", "expected_close"), "Close date"))
                   if not set(names) & set(columns.fields)]  # fmt: skip
        if missing:
            st.warning(
                f"Pick the **{' and the '.join(missing)}** column above: a snapshot follows each deal "
                "week to week by its ID and close date.",
                icon=":material/table_rows:",
            )
            return
        try:
            deals = read_deals(table, columns, date_order=mapping.date_order(table, columns, "team"))
        except ImportFailure as error:
            st.error(
                f"**{markdown_text(upload.name)}** could not be used. {markdown_text(str(error))}",
                icon=":material/error:",
            )
            return
        snapshot = deals.deals.rename(columns={"closed": "close_date"})
        st.write(
            f"{len(snapshot):,} deals read ({(snapshot['outcome'] == 'open').sum():,} open), "
            f"{deals.rows_bad:,} rows left out."
        )
        if not deals.problems.empty:
            # A problem in one field costs a deal only what needs that field: a snapshot needs no created date.
            st.dataframe(mapping.problem_table(deals.problems, 200), hide_index=True, height=160)
        st.button(
            "Save snapshot",
            key="btn.snapshot_save",
            type="primary",
            on_click=_save_snapshot,
            args=(team, snapshot, upload.name),
            disabled=snapshot.empty,
        )


def _changes(team: str, period_end: date, currency: str) -> None:
    st.header("What changed in the pipeline")
    snapshots = store.list_snapshots(data.db(), team)
    _snapshot_upload(team)
    if len(snapshots) < 2:
        st.info(
            "Two pipeline snapshots are needed to see what changed: upload one each week.",
            icon=":material/compare_arrows:",
        )
        return
    dates = [s.snapshot_date for s in snapshots]  # newest first
    if state["team.to_snapshot"] not in dates:
        state["team.to_snapshot"] = dates[0]
    later = [d for d in dates if d < state["team.to_snapshot"]] or dates[1:]
    if state["team.from_snapshot"] not in later:
        state["team.from_snapshot"] = later[0]
    from_col, to_col = st.columns(2)
    from_col.selectbox("From snapshot", later, key="team.from_snapshot", format_func=lambda d: f"{d:%a %d %b %Y}")
    to_col.selectbox("To snapshot", dates, key="team.to_snapshot", format_func=lambda d: f"{d:%a %d %b %Y}")
    older_date, newer_date = state["team.from_snapshot"], state["team.to_snapshot"]
    con = data.db()
    diff = snapshot_diff(
        store.get_snapshot(con, team, older_date), store.get_snapshot(con, team, newer_date), period_end
    )
    st.plotly_chart(
        waterfall_chart(
            diff.start_total,
            diff.waterfall,
            diff.end_total,
            f"{older_date:%d %b}",
            f"{newer_date:%d %b}",
            currency,
        ),
        config={"displayModeBar": False},
    )
    st.caption(
        f"Open pipeline closing by {period_end:%d %b %Y}. "
        + " · ".join(f"{name}: {n}" for name, n in diff.counts.items() if n)
    )
    slipped_table = slipped_deals(diff, store.slip_counts(con, team, newer_date))
    st.subheader(f"Slipped deals ({len(slipped_table)})")
    st.caption("Deals re-forecast again and again are the ones to ask about: most slipped first.")
    st.dataframe(
        slipped_table,
        hide_index=True,
        width="stretch",
        column_config={"Amount": st.column_config.NumberColumn(format="localized")},
    )
    widgets.download_pair("Slipped deals", slipped_table, f"backplan-slipped-{team}-{newer_date:%Y-%m-%d}")
    with st.expander(f"Every change, deal by deal ({len(diff.changes)})"):
        st.dataframe(diff.changes, hide_index=True, width="stretch")


# --------------------------------------------------------------------------- the page


st.title("Team review")
con = data.db()
teams = [(name, manager) for name, manager in store.list_teams(con) if viewer.can_review(name)]
if not teams and not viewer.can_manage_people:
    st.info("You manage no team yet. Ask your sales ops team to put you and your reps in one.", icon=":material/info:")
    st.stop()
if not teams:
    st.info(
        "No teams yet. Reps get a team when they are added; load the demo team to see a review at work.",
        icon=":material/info:",
    )
    if viewer.can_load_demo and not store.demo_loaded(con):
        st.button("Load demo data", icon=":material/group_add:", key="btn.team_load_demo", on_click=load_demo)
    _members(offer_demo=False)
    _backups()
    st.stop()

managers = dict(teams)
if state["team.name"] not in managers:
    state["team.name"] = teams[0][0]
team_col, date_col = st.columns([2, 1])
team = team_col.selectbox(
    "Team",
    list(managers),
    key="team.name",
    format_func=lambda t: f"{t} — managed by {managers[t]}" if managers[t] else t,
)
as_of = date_col.date_input("As of", key="team.as_of", format="YYYY-MM-DD")

team_inputs = store.review_inputs(con, team, as_of)
snapshot_date = store.latest_snapshot_date(con, team, as_of)
pipeline = store.get_snapshot(con, team, snapshot_date) if snapshot_date else None
if team_inputs:
    review = team_review(team_inputs, as_of, pipeline)
    opened = state.get("team.open_track")
    if opened is not None and opened < len(review.rows):
        state["team.open_track"] = None
        row = review.rows[opened]
        session.open_on_track(row.rep, row.plan_name, as_of)
        st.switch_page("pages/track.py")
    currency = store.get_plan(con, review.rows[0].plan_id).currency if review.rows else "USD"
    st.caption(
        f"{len(review.rows)} reps · pipeline from the snapshot of {snapshot_date:%d %b %Y}"
        if snapshot_date
        else f"{len(review.rows)} reps · no pipeline snapshot yet: upload one below to see coverage"
    )
    _totals(review, currency)
    _review_table(review, currency, team)
    _burnup(review, team_inputs, currency)
    _activity(team_inputs, as_of)
    period_end = max(r.inputs.period_end for r in team_inputs)
else:
    st.info(
        f"No rep in {markdown_text(team)} has a saved plan yet: save one on the Plan page with the rep in this team.",
        icon=":material/info:",
    )
    currency, period_end = "USD", as_of
_changes(team, period_end, currency)
st.divider()
_members()
_backups()
