"""Every session-state key, its default and its owner, in one place; and keeping inputs across pages.

A key belongs to the page its prefix names (``plan.``, ``track.``, ``team.``,
``calibrate.``, ``accounts.``); a page writes only its own. Where one page
hands something to another (Team review opening a rep's plan on Track) it
goes through a function here.

Streamlit forgets a widget's value once a run does not draw it, so inputs that
must outlive a page switch are copied aside at the end of every run
(:func:`keep_inputs`), all under one key (:data:`KEPT`), and given back on
arriving at a page (:func:`arrive`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import replace
from datetime import date, timedelta

import streamlit as st

from planner.accounts import ACTION_STATUSES, GOAL_CATEGORIES
from planner.funnel import DEFAULT_STAGES, DEFAULT_WON_STAGE, default_period

__all__ = [
    "EXAMPLE_LAGS",
    "KEPT",
    "KEPT_PREFIXES",
    "KEY_FAMILIES",
    "LAST_PAGE",
    "WIDGET_KEYS",
    "arrive",
    "entry_run",
    "in_entry_run",
    "init",
    "keep_inputs",
    "new_action_form",
    "new_objective_form",
    "new_plan",
    "open_on_track",
    "page_defaults",
    "plan_defaults",
    "review_form",
]

#: Session-state keys with these prefixes hold page inputs that must survive a page switch.
KEPT_PREFIXES = ("plan.", "track.")
#: The one key holding the copy :func:`keep_inputs` keeps of each of them, ``{key: value}``. One key, not a copy
#: per input: Streamlit reads the whole session state for each number, text, date or choice box it draws.
KEPT = "app.kept"
#: The page the last run showed, so a page change is seen.
LAST_PAGE = "app.last_page"

#: Typical days from each default stage to the next, so a new user sees a "start by" date.
EXAMPLE_LAGS = (3, 7, 14)


def plan_defaults(today: date) -> dict[str, object]:
    """The example every new user opens on: $385,000 at $3,850 a deal, 2 : 1 at every step.

    "New plan" puts all of these back (:func:`new_plan`), Track's "as of" date included.
    """
    start, end = default_period(today, lead_days=sum(EXAMPLE_LAGS))
    defaults: dict[str, object] = {
        "plan.currency": "USD",
        "plan.target": 385_000,
        "plan.deal_size": 3_850,
        "plan.start": start,
        "plan.end": end,
        "plan.holiday_weeks": [],
        "plan.coverage": 3.0,
        "plan.won_stage": DEFAULT_WON_STAGE,
        # The funnel top down, each stage with its saved identity (Stage.id, None until saved), and the version
        # of it the stage table (editor.stages.<version>) was drawn from; the number of the last "New stage N".
        "plan.stages": tuple(
            replace(stage, lag_days=lag) for stage, lag in zip(DEFAULT_STAGES, EXAMPLE_LAGS, strict=True)
        ),
        "plan.stages_version": 0,
        "plan.stage_error": None,
        "plan.next_stage_id": len(DEFAULT_STAGES),
        "plan.milestone_shape": "linear",
        "plan.cadence": "auto",
        "plan.milestone_custom": "",
        "plan.milestone_fill": "linear",
        "plan.loaded_id": None,
        # The version of the saved plan loaded: a save onto any other is refused (plan.conflict says why).
        "plan.loaded_version": None,
        "plan.conflict": None,
        "plan.name": "",
        "plan.rep": None,
        "plan.new_rep": "",
        "plan.new_rep_team": "",  # filled with the saver's team (or the first on file) while empty
        "plan.confirm_delete": False,
        "track.as_of": today,
        # The calibration profile applied, and the chance of hitting the target the plan is built for.
        "plan.profile_id": None,
        "plan.confidence": "expected",
    }
    return defaults


def page_defaults(today: date) -> dict[str, object]:
    """Starting state of the pages other than Plan (the Plan's own resets with "New plan")."""
    return {
        # Accounts: kept outside widget keys, so they outlive a page switch (see pages/accounts.py).
        "accounts.selected": None,
        "accounts.fy_start_month": 1,
        "accounts.stale_days": 30,
        "accounts.fiscal_year": None,
        "accounts.confirm_delete": None,  # ("goal" | "objective" | "account", id) awaiting "Yes, delete"
        # Accounts' "add" forms, empty until typed in (the owner picked is the viewer, if on file).
        "accounts.new.name": "",
        "accounts.new.owner": None,
        "accounts.new.segment": "",
        "accounts.new.fiscal_year": None,
        "accounts.new_goal.category": GOAL_CATEGORIES[0],
        "accounts.new_goal.title": "",
        # Calibrate: the uploaded export lives here, not in the uploader, so it survives a page switch.
        "calibrate.source": None,
        "calibrate.history_source": None,  # a stage-history file given beside the export, kept the same way
        "calibrate.upload_round": 0,  # how many files the uploaders have given: their keys change with each
        "calibrate.sheet": None,
        "calibrate.preset": None,
        "calibrate.saved_id": None,
        "calibrate.save_error": None,
        "calibrate.confirm_delete": None,
        # Team review: the team on screen, the day it is judged on, and the two snapshots compared.
        "team.name": None,
        "team.as_of": today,
        "team.from_snapshot": None,
        "team.to_snapshot": None,
        "team.snapshot_date": today,
        "team.open_track": None,  # the plan id of the rep whose row was clicked, for the next run to open
        "team.currency": None,  # what the review adds up in (None: the currency most of the team's plans are in)
        "team.show": "everyone",  # which statuses the review table lists
        "team.find": "",
        "team.page": 1,
        "team.shown_plans": (),  # the plan ids of the rows the review table shows, in order (for a click)
        "team.burnup_for": None,  # the review the chart's rep picker was filled for: another one refills it
        # The forecast's "what if the biggest deals slip?" toggle on each page: how many of them to leave out.
        "team.without_top": 0,
        "track.without_top": 0,
        # Teams and roles: the members editor is drawn afresh (a new generation) after every edit it writes.
        "team.members_generation": 0,
        "team.members_applied": {},  # {editor key: the edits of it already written}
        "team.confirm_remove": None,  # (rep id, plans, weeks) the "remove?" question named
    }


#: Keys a widget owns: their default is the widget's own (or set by the page from what it shows).
WIDGET_KEYS = frozenset(
    {
        # Plan
        "plan.pick",
        "plan.profile_pick",
        # Track
        "track.rep",
        "track.plan",
        "track.burnup_chart",
        "track.pace_stage",
        # Team review
        "team.review_table",
        "team.burnup_reps",
        "team.snapshot_upload",
        "team.remove_pick",
        "team.new.name",
        "team.new.team",
        "team.new.role",
        "team.new.email",
        "team.rate.from",
        "team.rate.to",
        "team.rate.value",
        "team.rate.remove",
        # Calibrate
        "calibrate.currency",
        "calibrate.stage_editor",
        "calibrate.profile_name",
        # Accounts
        "accounts.pick.account",
        "accounts.pick.fiscal_year",
        "accounts.pick.fy_start_month",
        "accounts.pick.stale_days",
        "accounts.import_pick",
        "accounts.list",
        "accounts.accountability",
        "accounts.tab",
    }
)

#: Keys made per item or per run, by prefix: what they hold.
KEY_FAMILIES = {
    "app.": "the entry script's own: the page shown last (app.last_page), the kept page inputs (app.kept)",
    "btn.": "buttons; a button's value is only its click",
    "sync.": "Plan: each number box with a slider (ui.widgets.number_pair): the version sent to the browser, limits",
    "pair.": "Plan: each number box with a slider, the component itself: the browser's last edit",
    "editor.stages.": "Plan: the funnel's stage table (its edits), one key per version of the stages",
    "plan.linked": "Plan: the ?plan= link already acted on",
    "plan.save_error": "Plan: why the last save, open or delete was refused (None when it was not)",
    "plan.profile_error": "Plan: why the last profile could not be applied",
    "plan.profile_notes": "Plan: what the applied profile assumed",
    "track.linked": "Track: the ?plan= link already acted on",
    "track.table.": "Track: the weekly actuals editor's input for one plan: the table, versions, fields, key",
    "track.conflict": "Track: an edit of the weekly actuals refused as stale, with what the week holds now",
    "track.pending_import": "Track: the weeks read from an uploaded actuals CSV, awaiting Import",
    "editor.actuals.": "Track: the actuals editor of one plan (its edits), one key per reading of the database",
    "upload.actuals.": "Track: the actuals CSV uploader of one plan",
    "team.map.": "Team review: the snapshot upload's column pickers (ui.mapping)",
    "team.preset": "Team review: the snapshot upload's export format (ui.mapping)",
    "team.date_order": "Team review: how the snapshot's slashed dates are written (ui.mapping)",
    "team.snapshot_file": "Team review: name and size of the snapshot file the pickers were made for",
    "team.snapshot_upload_done": "Team review: what the last stored snapshot held",
    "team.form.": "Team review: its forms",
    "team.members_editor.": "Team review: the members editor of one generation (its edits)",
    "team.flash": "Team review: what Teams and roles says after an edit or a removal (ui.widgets.flash)",
    "calibrate.upload.": "Calibrate: its two uploaders, a fresh key after each file is taken out of them",
    "calibrate.map.": "Calibrate: the export's column pickers (ui.mapping)",
    "calibrate.date_order": "Calibrate: how the export's slashed dates are written (ui.mapping)",
    "calibrate.stages": "Calibrate: the stage → outcome and order table, and the stages it was made for",
    "calibrate.rate.": "Calibrate: the exchange rate typed for one currency into the profile's currency",
    "accounts.flash": "Accounts: the message the next run shows at the top (ui.widgets.flash)",
    "accounts.view.": "Accounts: the customer's-view form of one account, filled from what is saved",
    "accounts.objective.": "Accounts: the edit form of one objective, filled from what is saved",
    "accounts.action.": "Accounts: the edit form of one action, filled from what is saved",
    "accounts.done.": "Accounts: one action's done box, set from the database on every draw",
    "accounts.new_objective.": "Accounts: the new-objective form, reset after each add",
    "accounts.new_action.": "Accounts: the new-action form, reset after each add",
    "accounts.review.": "Accounts: the review-log form, reset after each review",
    "accounts.cycle_editor.": "Accounts: the planning-cycle editor of one account and fiscal year",
    "accounts.goal.": "Accounts: one goal's container",
    "accounts.form.": "Accounts: its forms",
    "accounts.btn.": "Accounts: its buttons",
}


def new_objective_form(due: date) -> dict[str, object]:
    """Accounts' new-objective form, empty, due at the end of the account plan's period."""
    prefix = "accounts.new_objective."
    return {
        prefix + "statement": "",
        prefix + "metric": "",
        prefix + "rationale": "",
        prefix + "target": None,
        prefix + "current": None,
        prefix + "due": due,
        prefix + "revenue": False,
    }


def new_action_form(today: date) -> dict[str, object]:
    """Accounts' new-action form, empty, due in two weeks."""
    prefix = "accounts.new_action."
    return {
        prefix + "description": "",
        prefix + "owner": "",
        prefix + "due": today + timedelta(days=14),
        prefix + "status": ACTION_STATUSES[0],
    }


def review_form(today: date) -> dict[str, object]:
    """Accounts' review-log form, empty, dated today."""
    prefix = "accounts.review."
    return {prefix + "date": today, prefix + "who": "", prefix + "what": "", prefix + "notes": ""}


def init(today: date) -> None:
    """Give every declared key its default, once: a key already set keeps its value."""
    state = st.session_state
    for key, value in (plan_defaults(today) | page_defaults(today)).items():
        state.setdefault(key, value)


def new_plan(today: date) -> None:
    """Button callback ("New plan"): every Plan input back to the example."""
    for key, value in plan_defaults(today).items():
        st.session_state[key] = value


def open_on_track(rep: str, plan_name: str, as_of: date) -> None:
    """Point Track at ``rep``'s plan ``plan_name`` as of ``as_of`` (Team review's rows open it there).

    The kept copies are set too: arriving at Track gives its inputs back from them.
    """
    state, kept = st.session_state, _kept()
    for key, value in (("track.rep", rep), ("track.plan", plan_name), ("track.as_of", as_of)):
        state[key] = value
        kept[key] = value


def arrive(page: str) -> None:
    """On a page change, give the new page's inputs back the values they had.

    Streamlit forgets a widget's value once a run does not draw it, and a widget
    mounted afresh in the browser shows its default unless the app sets its
    value. So on a page change every kept input is set from its copy. Only
    then: setting a live widget on every run would push the server's value over
    what the user is typing or dragging at that moment. A kept key is cleared
    by setting it to None, never by popping it, or its copy would come back.
    """
    state = st.session_state
    if state.get(LAST_PAGE) == page:
        return
    for key, value in _kept().items():
        state[key] = value
    state[LAST_PAGE] = page


def _kept() -> dict[str, object]:
    return st.session_state.setdefault(KEPT, {})


def keep_inputs() -> None:
    """Copy every page input aside at the end of a run (and of a fragment's run: a slider move runs only that).

    Added to, never replaced: an input Streamlit has forgotten since (a widget the last run did not draw) keeps
    the copy it had.
    """
    state = st.session_state
    _kept().update({k: state[k] for k in state if isinstance(k, str) and k.startswith(KEPT_PREFIXES)})


# --------------------------------------------------------------------------- one way in

#: True while the entry script (app.py) runs, the page it routed to included; per run, per session.
_IN_ENTRY_RUN: ContextVar[bool] = ContextVar("backplan_in_entry_run", default=False)


@contextmanager
def entry_run() -> Iterator[None]:
    """Around the entry script's run: pages drawn inside it know they were reached through navigation."""
    token = _IN_ENTRY_RUN.set(True)
    try:
        yield
    finally:
        _IN_ENTRY_RUN.reset(token)


def in_entry_run() -> bool:
    """True when this run started at the entry script, as every run does once it has called st.navigation."""
    return _IN_ENTRY_RUN.get()
