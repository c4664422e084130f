"""Team review: the manager's Monday pipeline review on one screen."""

from __future__ import annotations

import math
from datetime import date, datetime

import pandas as pd
import streamlit as st

from planner import store
from planner.backups import list_backups
from planner.charts import forecast_accuracy_chart, forecast_fan, team_burnup_chart, waterfall_chart
from planner.currency import RATE_LIMITS, Rate, RateError
from planner.forecast import NO_CATEGORIES, TEAM_LABEL, ForecastRange, recovery_asks
from planner.imports import ImportFailure, read_deals, read_table
from planner.team import (
    STATUS_RULE,
    STATUSES,
    TEAM_LINE,
    TEAM_NAME,
    TeamReview,
    TeamRollup,
    changes_table,
    review_table,
    waterfall_note,
)
from planner.units import CURRENCIES, compact, markdown_text, money, money_short, plural, times
from ui import auth, data, mapping, session, widgets
from ui import forecast as shown_forecast
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
#: The review's columns the page shows (the downloads have them all), with a short header and what it means.
SHOWN_COLUMNS = {
    "Rep": ("Rep", None),
    "Status": ("Status", None),
    "Target": ("Target", None),
    "Booked": ("Booked", None),
    "Attainment %": ("Booked %", "Booked ÷ target"),
    "Ahead (+) / behind (-)": ("Ahead / behind", "Booked − the milestones due to date"),
    "Pipeline in period": ("Pipeline", "Open pipeline closing by the end of the rep's period"),
    "Coverage of what is left": ("Coverage", "Pipeline ÷ what is left to book"),
    "Required coverage": ("Needed", "The plan's coverage ratio: the coverage the status asks for"),
    "Pipeline-weighted projection": ("Projection", "Booked + pipeline ÷ the plan's coverage ratio"),
}
#: The forecast's columns beside the review, when there is a forecast.
FORECAST_COLUMNS = {
    "P10–P90": ("P10–P90", "The forecast range: 10% of simulated periods end below P10, 90% below P90"),
    "Chance %": ("Chance", "The share of simulated periods that reach the target"),
}
NUMBER_FORMATS = {
    **dict.fromkeys(MONEY_COLUMNS, "localized"),
    "Chance %": "%d%%",
    "Attainment %": "%.0f%%",
    "Coverage of what is left": "%.1f×",
    "Required coverage": "%.1f×",
}
#: Each projection method in words, for the headline card's help.
METHOD_WORDS = {
    "run-rate": "Run rate (what is booked, extended over the period's working days)",
    "pipeline-weighted": "Pipeline-weighted (booked + pipeline ÷ the plan's coverage ratio)",
    "P50": "Simulated P50 (half the simulated periods end below it)",
    "commit": "Commit (booked + open deals the reps call Commit)",
}
#: Reps in the review table per page, and on the burn-up chart unless the manager picks others.
PAGE_ROWS = 50
CHART_REPS = 5
#: A team this small has every rep on the chart.
SMALL_TEAM = 8
SHOW = {
    "everyone": None,
    "off track": ("off track",),
    "at risk": ("at risk",),
    "not on track": ("off track", "at risk"),
}


# --------------------------------------------------------------------------- callbacks


def _open_track() -> None:
    """A rep's row was clicked: open their plan on Track (done by the next run, which may switch pages)."""
    rows = state["team.review_table"]["selection"]["rows"]
    shown = state["team.shown_plans"]
    if rows and 0 < rows[0] <= len(shown):  # row 0 is the team's totals
        state["team.open_track"] = shown[int(rows[0]) - 1]


def _set_rate() -> None:
    if not auth.permitted(lambda who: who.can_set_rates, store.RATES_REFUSED):
        return
    rate = Rate(state["team.rate.from"], state["team.rate.to"], state["team.rate.value"])
    try:
        store.set_rate(data.db(), auth.viewer(), rate)
    except RateError as error:
        st.toast(markdown_text(str(error)), icon=":material/error:")
    except data.WRITE_ERRORS as error:
        st.toast(markdown_text(data.failure(error)), icon=":material/error:")
    else:
        st.toast(
            f"1 {rate.from_currency} = {rate.rate:g} {rate.to_currency} saved.", icon=":material/currency_exchange:"
        )


def _remove_rate() -> None:
    if not auth.permitted(lambda who: who.can_set_rates, store.RATES_REFUSED):
        return
    pair = state["team.rate.remove"]
    if not pair or pair not in {(r.from_currency, r.to_currency) for r in store.list_rates(data.db())}:
        return  # only a pair that is on file, as listed
    try:
        store.delete_rate(data.db(), auth.viewer(), *pair)
    except data.WRITE_ERRORS as error:
        st.toast(markdown_text(data.failure(error)), icon=":material/error:")


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
    stored = f"{markdown_text(name)}: {plural(count, 'deal')} stored as the pipeline of {snapshot_date:%d %b %Y}."
    # What the page shows as of that day is recorded beside it, so its accuracy can be judged once the period ends.
    try:
        recorded = data.record_projections(auth.viewer(), team, snapshot_date)
    except data.WRITE_ERRORS as error:
        stored += f" Its projections could not be recorded ({markdown_text(data.failure(error))}): save it again."
    else:
        stored += f" {plural(recorded, 'projection')} recorded for forecast accuracy."
    state["team.snapshot_upload_done"] = stored


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


def _totals(review: TeamReview, currency: str, forecast: data.TeamForecast) -> None:
    t = review.totals
    cards = st.columns(4)
    widgets.note_card(
        cards[0],
        "Booked",
        money_short(t.booked, currency),
        f"{t.attainment:.0%} of {money_short(t.target, currency)}",
        help=f"{money(t.booked, currency)} of {money(t.target, currency)}",
    )
    cards[1].metric(
        "Against milestones to date",
        money_short(t.gap, currency),
        "ahead" if t.gap >= 0 else "behind",
        delta_color="normal" if t.gap >= 0 else "inverse",
        delta_arrow="off",
        border=True,
        help=f"Booked minus the milestones due by {review.as_of:%d %b %Y} ({money(t.milestone, currency)})",
    )
    widgets.note_card(
        cards[2],
        "Coverage of what is left",
        "—" if math.isinf(t.coverage) else f"{t.coverage:.1f}×",
        f"{t.required_coverage:.1f}× needed",
        help=f"Open pipeline closing in the period ({money(t.pipeline, currency)}) ÷ what is left to book "
        f"({money(t.remaining, currency)})",
    )
    # The headline is the method that has been most accurate for this team (forecast accuracy, below).
    method, why = forecast.headline
    outlook = forecast.outlook
    figures = {m: outlook.projection(m) for m in METHOD_WORDS}
    widgets.note_card(
        cards[3],
        "Projection",
        money_short(figures[method] or 0.0, currency),
        method,
        help=f"The {method} projection: {why}. "
        + " ".join(f"{METHOD_WORDS[m]}: {money(v, currency)}." for m, v in figures.items() if v is not None),
    )
    counts = {s: sum(r.status == s for r in review.rows) for s in STATUSES}
    st.caption(
        " · ".join(f":{STATUS_COLOURS[s][0]}[**{s}**]: {counts[s]}" for s in STATUSES)
        + f" · **Projection**: the {method} projection, {markdown_text(why)}."
    )


def _rows_shown(review: TeamReview) -> list:
    """The reps the table lists: the status and name asked for, then this page of them (worst first)."""
    wanted = SHOW.get(state["team.show"])
    found = state["team.find"].strip().casefold()
    rows = [r for r in review.rows if (wanted is None or r.status in wanted) and found in r.rep.casefold()]
    pages = max(1, math.ceil(len(rows) / PAGE_ROWS))
    if not 1 <= state["team.page"] <= pages:
        state["team.page"] = 1
    if len(review.rows) <= SMALL_TEAM and state["team.show"] == "everyone" and not found:
        return rows  # a few reps: nothing to look for
    filters, page_col = st.columns([3, 1]) if pages > 1 else (st.container(), None)
    with filters:
        show_col, find_col = st.columns([2, 1])
        show_col.segmented_control("Show", list(SHOW), key="team.show", required=True)
        find_col.text_input("Find a rep", key="team.find", max_chars=80, placeholder="Name")
    if page_col is not None:
        page_col.number_input(f"Page (of {pages})", min_value=1, max_value=pages, step=1, key="team.page")
    first = (state["team.page"] - 1) * PAGE_ROWS
    return rows[first : first + PAGE_ROWS]


def _width(values: pd.Series, label: str) -> int | None:
    """Pixels for a column of numbers wider than its label, drawn with separators ("1,737,610,923"): the table
    sizes a column by the raw number and would cut it. None (the table's own size) for the rest."""
    shown = [f"{v:,.0f}" for v in values if isinstance(v, int | float) and not isinstance(v, bool) and pd.notna(v)]
    widest = max((len(text) for text in shown), default=0)
    return 7 * widest + 14 if widest > len(label) else None


def _review_table(rollup: TeamRollup, team: str, scenario: ForecastRange | None) -> list:
    review, currency = rollup.review, rollup.view.currency
    shown = _rows_shown(review)
    state["team.shown_plans"] = tuple(r.plan_id for r in shown)
    page = review_table(TeamReview(tuple(shown), review.totals, review.as_of))[list(SHOWN_COLUMNS)]
    columns = dict(SHOWN_COLUMNS)
    if scenario is not None:  # each rep's forecast range, with the toggle's deals left out: the team first
        ranges = [scenario.team, *(scenario.row(r.rep) for r in shown)]
        page["P10–P90"] = [f"{compact(r.p10)}–{compact(r.p90)}" for r in ranges]
        page["Chance %"] = [round(r.chance_of_hitting * 100) for r in ranges]
        columns |= FORECAST_COLUMNS
    styled = page.style.map(lambda status: f"background-color: {STATUS_COLOURS[status][1]}", subset=["Status"])
    config = {
        column: st.column_config.NumberColumn(
            label, help=help_text, format=NUMBER_FORMATS[column], width=_width(page[column], label)
        )
        if column in NUMBER_FORMATS
        else st.column_config.Column(label, help=help_text, width=_width(page[column], label))
        for column, (label, help_text) in columns.items()
    }
    st.dataframe(
        styled,
        key="team.review_table",
        on_select=_open_track,
        selection_mode="single-row",
        hide_index=True,
        width="stretch",
        column_config=config,
    )
    listed = len(review.rows)
    st.caption(
        f"Amounts in {markdown_text(currency)}. Worst first; the first row is the team ({plural(listed, 'rep')}). "
        "Click a rep's row to open their plan on Track. The downloads have every column, the plans' names and "
        f"milestones included. {STATUS_RULE}"
    )
    widgets.download_pair("Review", rollup.table, f"backplan-review-{team}-{review.as_of:%Y-%m-%d}")
    return shown


def _burnup(rollup: TeamRollup, scenario: ForecastRange | None) -> None:
    rows = rollup.review.rows  # worst first
    names = {r.plan_id: r.rep for r in rows}
    options = list(names)
    drawn_for = (rollup.review.as_of, tuple(options[:1]), len(options))  # another team, or another day's order
    if state["team.burnup_for"] != drawn_for or "team.burnup_reps" not in state:
        state["team.burnup_for"] = drawn_for
        state["team.burnup_reps"] = options if len(options) <= SMALL_TEAM else options[:CHART_REPS]  # worst first
    else:
        state["team.burnup_reps"] = [key for key in state["team.burnup_reps"] if key in names]
    st.multiselect(
        "Reps on the chart",
        options,
        key="team.burnup_reps",
        format_func=lambda key: names[key],
        placeholder="Pick reps to draw beside the team",
    )
    lines = [(TEAM_LINE, TEAM_NAME), *((key, names[key]) for key in state["team.burnup_reps"])]
    currency, (start, end), as_of = rollup.view.currency, rollup.period, rollup.review.as_of
    chart = team_burnup_chart(rollup.booked, rollup.milestones, rollup.review.totals.target, lines, rollup.period,
                              currency)  # fmt: skip
    if scenario is not None and start <= as_of < end:  # the team's range, from today to the period end
        team = scenario.team
        chart = forecast_fan(chart, as_of, end, team.booked, team.p10, team.p50, team.p90, currency, "Team forecast")
    st.plotly_chart(chart, config={"displayModeBar": False})
    if len(options) > SMALL_TEAM:
        st.caption(
            f"The whole team's line, and {plural(len(state['team.burnup_reps']), 'rep')} of {len(options):,}: "
            f"at first the {CHART_REPS} furthest behind. Pick others above."
        )


def _forecast(rollup: TeamRollup, forecast: data.TeamForecast) -> ForecastRange | None:
    """Will we hit it, how sure, and what if the biggest deals slip: the range, the chance, the toggle."""
    outlook, currency = forecast.outlook, rollup.view.currency
    result = outlook.forecast
    st.subheader("Will we hit it?")
    if result is None:
        shown_forecast.missing(outlook)
        return None
    without = shown_forecast.without_picker("team.without_top")
    scenario = result.without_top(without)
    team, every = scenario.team, result.base.team
    cards = st.columns(4)
    widgets.note_card(
        cards[0],
        "Forecast (P50)",
        money_short(team.p50, currency),
        f"P10 {compact(team.p10)} – P90 {compact(team.p90)}",
        help=f"{result.simulations:,} simulated periods: 10% end below {money(team.p10, currency)}, half below "
        f"{money(team.p50, currency)}, 90% below {money(team.p90, currency)} (booked plus the open deals won).",
    )
    change = round((team.chance_of_hitting - every.chance_of_hitting) * 100)
    cards[1].metric(
        "Chance of hitting",
        f"{team.chance_of_hitting:.0%}",
        (f"{change:+d} pts without them" if change else "no change without them")
        if without and scenario.removed
        else None,
        delta_color="normal" if change else "off",
        delta_arrow="auto" if change else "off",
        border=True,
        help=f"The share of simulated periods that reach the team's target of {money(team.target, currency)}.",
    )
    widgets.note_card(
        cards[2],
        "Coverage" if not without else "Coverage without them",
        "—" if math.isinf(team.coverage) else times(team.coverage),
        f"{compact(team.pipeline)} open in the period",
        help="Open pipeline closing by the period end ÷ what is left to book.",
    )
    widgets.note_card(
        cards[3],
        "Largest deal's share",
        f"{team.concentration:.0%}",
        f"{money_short(team.largest_deal, currency)} of {compact(team.pipeline)}",
        help=f"The largest open deal closing in the period, as a share of that pipeline; flagged above "
        f"{result.concentration_flag:.0%}.",
    )
    shown_forecast.left_out(scenario, result.deals, currency)
    shown_forecast.concentration([team, *scenario.rows], result.concentration_flag, currency)
    if without and scenario.removed:
        owners = set(result.deals.set_index("deal_id").loc[list(scenario.removed), "owner"])
        reps = [r for r in rollup.view.reps if r.rep in owners]
        before = recovery_asks(reps, result.base, rollup.review.as_of).set_index("Rep")
        after = recovery_asks(reps, scenario, rollup.review.as_of)
        after.insert(1, "With every deal", after["Rep"].map(before["Left after the expected pipeline"]))
        st.caption(
            "What each rep's recovery plan then asks for: what is left of the target after the open pipeline "
            "brings what it is expected to, walked back through the plan's funnel, a week from today."
        )
        st.dataframe(
            after.rename(columns={"Left after the expected pipeline": "Left after the pipeline"}),
            hide_index=True,
            width="stretch",
            column_config={
                c: st.column_config.NumberColumn(format="localized")
                for c in ("With every deal", "Left after the pipeline")
            },
        )
    shown_forecast.assumptions(outlook)
    return scenario


def _categories(forecast: data.TeamForecast, shown: list, currency: str) -> None:
    categories = forecast.outlook.categories
    if forecast.outlook.forecast is None:
        return
    st.subheader("Forecast categories")
    if categories is None:
        st.caption(markdown_text(NO_CATEGORIES))
        return
    st.caption(
        "As the reps call their deals in the CRM. **Commit** = booked + open Commit deals closing in the period; "
        "**best case** = commit + open Best Case deals. *Commit − P50* above 0: the rep calls more than the "
        "deals' history suggests."
    )
    names = {TEAM_LABEL, *(r.rep for r in shown)}
    table = categories.table()
    st.dataframe(
        table[table["Rep"].isin(names)],
        hide_index=True,
        width="stretch",
        column_config={c: st.column_config.NumberColumn(format="localized") for c in table.columns if c != "Rep"},
    )
    for note in categories.notes:
        st.caption(markdown_text(note))


def _accuracy(forecast: data.TeamForecast, shown: list, currency: str) -> None:
    st.subheader("How accurate past forecasts were")
    accuracy = forecast.accuracy
    if not accuracy.rows:
        elsewhere = (
            f" Projections recorded in {', '.join(forecast.other_currencies)} show when the team adds up in it."
            if forecast.other_currencies
            else ""
        )
        st.caption(
            "No period with recorded projections has finished yet. Each snapshot stored records what this page "
            "shows that day, per rep and for the team; once the period ends, each method's error shows here."
            + elsewhere
        )
        return
    st.caption(
        f"Each projection recorded at a snapshot date against what the period finally booked: **error** = the "
        f"mean of |projected − actual| ÷ actual, **bias** = its signed mean (above 0: too high). For this team "
        f"**{accuracy.best_method}** has been the most accurate, so the headline above shows it."
    )
    rows = accuracy.table()
    names = {TEAM_LABEL, *(r.rep for r in shown)}
    st.dataframe(rows[rows["Rep"].isin(names)], hide_index=True, width="stretch", height=300)
    st.plotly_chart(forecast_accuracy_chart(forecast.by_week, "Team", currency), config={"displayModeBar": False})
    for note in accuracy.notes:
        st.caption(markdown_text(note))


def _activity(rollup: TeamRollup, shown: list) -> None:
    week, table = rollup.activity_week, rollup.activity
    st.subheader("Activity this week")
    if week is None:
        st.caption("No weekly activity recorded yet: reps record it on the Track page.")
        return
    big = len(rollup.review.rows) > PAGE_ROWS
    if big:  # the reps on the review's page, in its order (worst first), not thousands of rows
        order = {r.rep: i for i, r in enumerate(shown)}
        table = table[table["Rep"].isin(order.keys())]
        table = table.iloc[table["Rep"].map(order).argsort(kind="stable")]
    st.caption(
        f"Week of {week:%d %b %Y}: activity recorded on Track against what each rep's plan needs a week"
        + (", for the reps on this page of the review." if big else ".")
    )
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={
            "% of need": st.column_config.ProgressColumn(format="%d%%", min_value=0, max_value=150),
        },
    )


def _overdue(rollup: TeamRollup, team: str) -> None:
    late = rollup.overdue
    if late.empty:
        return
    currency = rollup.view.currency
    st.warning(
        f"**{plural(len(late), 'open deal')}** worth {money(late['Amount'].sum(), currency)} "
        f"{'has' if len(late) == 1 else 'have'} a close date already past. They still count in the pipeline closing "
        "in the period: ask their owners to win, lose or re-date them.",
        icon=":material/event_busy:",
    )
    with st.expander(f"Open deals past their close date ({len(late):,})", icon=":material/event_busy:"):
        st.dataframe(
            late,
            hide_index=True,
            width="stretch",
            column_config={"Amount": st.column_config.NumberColumn(format="localized")},
        )
        widgets.download_pair(
            "Past close date", late, f"backplan-past-close-date-{team}-{rollup.review.as_of:%Y-%m-%d}"
        )


def _rates() -> None:
    if not viewer.can_set_rates:
        return
    with st.expander("Exchange rates", icon=":material/currency_exchange:"):
        st.caption(
            "A team whose plans are in several currencies adds up in one with these rates (and nothing is added "
            "across currencies without one). One rate per pair: it works both ways."
        )
        rates = store.list_rates(data.db())
        if rates:
            st.dataframe(
                pd.DataFrame(
                    {
                        "Rate": [f"1 {r.from_currency} = {r.rate:,.6g} {r.to_currency}" for r in rates],
                        "Set": [f"{r.updated_at:%d %b %Y %H:%M}" for r in rates],
                        "By": [r.updated_by for r in rates],
                    }
                ),
                hide_index=True,
            )
        else:
            st.caption("No rates yet.")
        with st.form("team.form.rate", border=False):
            one, to, value = st.columns([1, 1, 1.2])
            one.selectbox("1 of", list(CURRENCIES), key="team.rate.from")
            to.selectbox("is worth, in", list(CURRENCIES), key="team.rate.to", index=1)
            low, high = RATE_LIMITS
            value.number_input(
                "this many", min_value=low, max_value=high, value=1.0, format="%.6g", key="team.rate.value"
            )
            st.form_submit_button("Save rate", icon=":material/save:", on_click=_set_rate)
        if rates:
            remove, button = st.columns([2, 1], vertical_alignment="bottom")
            remove.selectbox(
                "Remove a rate",
                [(r.from_currency, r.to_currency) for r in rates],
                key="team.rate.remove",
                format_func=lambda pair: f"{pair[0]} → {pair[1]}",
            )
            button.button("Remove", key="btn.rate_remove", icon=":material/delete:", on_click=_remove_rate)


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
            f"{plural(len(snapshot), 'deal')} read ({int((snapshot['outcome'] == 'open').sum()):,} open), "
            f"{plural(deals.rows_bad, 'row')} left out."
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


def _changes(team: str, figures: data.TeamFigures) -> None:
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
    view, period_end = figures.rollup.view, figures.rollup.period[1]
    diff, slipped_table = data.pipeline_changes(team, older_date, newer_date, figures)
    st.plotly_chart(
        waterfall_chart(
            diff.start_total,
            diff.waterfall,
            diff.end_total,
            f"{older_date:%d %b}",
            f"{newer_date:%d %b}",
            view.currency,
        ),
        config={"displayModeBar": False},
    )
    left_out = f" Left out: the deals of {markdown_text(', '.join(view.left_out))} (no rate)." if view.left_out else ""
    st.caption(
        f"Open pipeline closing by {period_end:%d %b %Y}, in {markdown_text(view.currency)}. "
        f"{waterfall_note(diff)}{left_out}"
    )
    st.subheader(f"Slipped deals ({len(slipped_table)})")
    st.caption("Deals re-forecast again and again are the ones to ask about: most slipped first.")
    st.dataframe(
        slipped_table,
        hide_index=True,
        width="stretch",
        column_config={"Amount": st.column_config.NumberColumn(format="localized")},
    )
    widgets.download_pair("Slipped deals", slipped_table, f"backplan-slipped-{team}-{newer_date:%Y-%m-%d}")
    with st.expander(f"Every change, deal by deal ({len(diff.changes):,})"):
        amounts = ("Amount before", "Amount now", "Change to the total")
        st.dataframe(
            changes_table(diff),
            hide_index=True,
            width="stretch",
            column_config={c: st.column_config.NumberColumn(format="localized") for c in amounts},
        )


def _currency_choice(team: str, as_of: date) -> data.TeamFigures:
    """The team's figures in the currency chosen (by default the one most of its plans are in)."""
    currencies = data.team_rollup(team, as_of).rollup.view.currencies
    if state["team.currency"] not in currencies:
        state["team.currency"] = currencies[0]
    if len(currencies) > 1:
        st.selectbox("Add up in", currencies, key="team.currency", help="Plans in other currencies are converted "
                     "with the exchange rates sales ops set at the bottom of this page.")  # fmt: skip
    return data.team_rollup(team, as_of, state["team.currency"])


def _left_out(figures: data.TeamFigures) -> None:
    view = figures.rollup.view
    if not view.left_out:
        return
    rates_where = "under **Exchange rates** below" if viewer.can_set_rates else "(ask your sales ops team)"
    missing, currency = markdown_text(" or ".join(view.missing)), markdown_text(view.currency)
    st.warning(
        f"No exchange rate from {missing} to {currency}: "
        f"{plural(len(view.left_out), 'rep')} left out of these figures "
        f"({markdown_text(', '.join(view.left_out))}), never added in another currency. "
        f"Set the rate {rates_where}, or add up in {missing} to see them.",
        icon=":material/currency_exchange:",
    )


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
# A team's currencies are known once it is added up: from the inputs' state, before they are drawn.
several = len(data.team_rollup(state["team.name"], state["team.as_of"]).rollup.view.currencies) > 1
team_col, currency_col, date_col = st.columns([2, 0.7, 1] if several else [2, 0.001, 1])
team = team_col.selectbox(
    "Team",
    list(managers),
    key="team.name",
    format_func=lambda t: f"{t} — managed by {managers[t]}" if managers[t] else t,
)
as_of = date_col.date_input("As of", key="team.as_of", format="YYYY-MM-DD")
with currency_col:
    figures = _currency_choice(team, as_of)
_left_out(figures)

opened = state["team.open_track"]
rollup, snapshot_date = figures.rollup, figures.snapshot_date
review = rollup.review
if opened is not None:
    state["team.open_track"] = None
    row = next((r for r in review.rows if r.plan_id == opened), None)
    if row is not None:
        session.open_on_track(row.rep, row.plan_name, as_of)
        st.switch_page("pages/track.py")
if review.rows:
    reps = plural(len(review.rows), "rep")
    st.caption(
        f"{reps} · pipeline from the snapshot of {snapshot_date:%d %b %Y}"
        if snapshot_date
        else f"{reps} · no pipeline snapshot yet: upload one below to see coverage"
    )
    forecast = data.team_forecast(team, as_of, state["team.currency"])
    _totals(review, rollup.view.currency, forecast)
    scenario = _forecast(rollup, forecast)
    shown = _review_table(rollup, team, scenario)
    _overdue(rollup, team)
    _burnup(rollup, scenario)
    _categories(forecast, shown, rollup.view.currency)
    _accuracy(forecast, shown, rollup.view.currency)
    _activity(rollup, shown)
elif not rollup.view.left_out:
    st.info(
        f"No rep in {markdown_text(team)} has a saved plan yet: save one on the Plan page with the rep in this team.",
        icon=":material/info:",
    )
_changes(team, figures)
st.divider()
_rates()
_members()
_backups()
