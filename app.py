"""Backplan: plan backwards from the number you must hit.

Entry point: ``streamlit run app.py``.  Sets every page's session state once,
keeps page inputs alive across page switches, and draws the shared sidebar.
"""

from __future__ import annotations

import sys
from datetime import date

import duckdb
import streamlit as st

from planner import store
from planner.demo import demo_team
from planner.funnel import DEFAULT_STAGES, DEFAULT_WON_STAGE, default_period

#: Session-state keys with this prefix hold page inputs that must survive a page switch.
KEPT_PREFIXES = ("plan.", "track.")
KEPT_COPY = "kept."
LAST_PAGE = "app.last_page"

#: Typical days from each default stage to the next, so a new user sees a "start by" date.
EXAMPLE_LAGS = (3, 7, 14)

#: Set on ``__main__`` (a fresh module every script run) once main() has started this run.
_ENTERED = "_backplan_entered"


def plan_defaults(today: date) -> dict[str, object]:
    """The example every new user opens on: $385,000 at $3,850 a deal, 2 : 1 at every step."""
    start, end = default_period(today, lead_days=sum(EXAMPLE_LAGS))
    defaults: dict[str, object] = {
        "plan.currency": "USD",
        "plan.target": 385_000,
        "plan.target_slider": 385_000,
        "plan.deal_size": 3_850,
        "plan.deal_size_slider": 3_850,
        "plan.start": start,
        "plan.end": end,
        "plan.holiday_weeks": [],
        "plan.coverage": 3.0,
        "plan.won_stage": DEFAULT_WON_STAGE,
        "plan.stage_ids": list(range(len(DEFAULT_STAGES))),
        "plan.next_stage_id": len(DEFAULT_STAGES),
        "plan.milestone_shape": "linear",
        "plan.cadence": "auto",
        "plan.milestone_custom": "",
        "plan.loaded_id": None,
        "plan.name": "",
        "plan.rep": None,
        "plan.new_rep": "",
        "plan.confirm_delete": False,
        "track.as_of": today,
        # The calibration profile applied, and the chance of hitting the target the plan is built for.
        "plan.profile_id": None,
        "plan.confidence": "expected",
    }
    for sid, (stage, lag) in enumerate(zip(DEFAULT_STAGES, EXAMPLE_LAGS, strict=True)):
        defaults[f"plan.stage.{sid}.name"] = stage.name
        defaults[f"plan.stage.{sid}.ratio"] = stage.ratio
        defaults[f"plan.stage.{sid}.lag"] = lag
    return defaults


def page_defaults() -> dict[str, object]:
    """Starting state of the pages other than Plan (the Plan's own resets with "New plan")."""
    return {
        # Accounts: kept outside widget keys, so they outlive a page switch (see pages/accounts.py).
        "accounts.selected": None,
        "accounts.fy_start_month": 1,
        "accounts.stale_days": 30,
        "accounts.fiscal_year": None,
        "accounts.confirm_delete_goal": None,
        # Calibrate: the uploaded export lives here, not in the uploader, so it survives a page switch.
        "calibrate.source": None,
        "calibrate.sheet": None,
        "calibrate.preset": None,
        "calibrate.saved_id": None,
        "calibrate.save_error": None,
        "calibrate.confirm_delete": None,
        # Team review: the team on screen, the day it is judged on, and the two snapshots compared.
        "team.name": None,
        "team.as_of": date.today(),
        "team.from_snapshot": None,
        "team.to_snapshot": None,
        "team.snapshot_date": date.today(),
        "team.open_track": None,
    }


@st.cache_resource(show_spinner=False, max_entries=4, on_release=lambda con: con.close())
def _connection(path: str) -> duckdb.DuckDBPyConnection:
    return store.connect(path)


def db() -> duckdb.DuckDBPyConnection:
    """This process's one connection to the database; a page that cannot have it says why and stops."""
    path = store.default_path()
    try:
        return _connection(str(path))
    except (store.StoreError, duckdb.Error, OSError) as error:
        st.error(
            f"Backplan could not open its database at `{path}`: {error}\n\n"
            "If another Backplan or the command line has it open for writing, close that and reload. "
            "Set BACKPLAN_DB to use another file.",
            icon=":material/database:",
        )
        st.stop()
        raise  # st.stop() raises; this keeps type checkers honest


def load_demo() -> None:
    """Button callback: fill an empty database with the demo team, its plans, actuals and pipeline snapshots."""
    try:
        store.load_team(db(), demo_team(date.today()))
    except store.StoreError as error:
        st.toast(str(error), icon=":material/error:")
    else:
        st.toast("Demo team loaded: four reps part-way through this quarter.", icon=":material/check:")


def main() -> None:
    """One script run: state defaults, kept inputs, navigation, shared sidebar, the page."""
    setattr(sys.modules["__main__"], _ENTERED, True)
    st.set_page_config(page_title="Backplan", page_icon=":material/flag:", layout="wide")
    for key, value in (plan_defaults(date.today()) | page_defaults()).items():
        st.session_state.setdefault(key, value)

    page = st.navigation(
        [
            st.Page("pages/plan.py", title="Plan", icon=":material/flag:", default=True),
            st.Page("pages/track.py", title="Track", icon=":material/monitoring:"),
            st.Page("pages/team.py", title="Team review", icon=":material/groups:"),
            st.Page("pages/calibrate.py", title="Calibrate", icon=":material/tune:"),
            st.Page("pages/accounts.py", title="Accounts", icon=":material/handshake:"),
            st.Page("pages/guide.py", title="How it works", icon=":material/menu_book:"),
        ]
    )
    if st.session_state.get(LAST_PAGE) != page.url_path:
        _restore_kept_inputs()
        st.session_state[LAST_PAGE] = page.url_path
    with st.sidebar:
        st.markdown("### Backplan")
        st.caption("Plan backwards from the number you must hit: target → deals → funnel → weekly activity.")
    try:
        page.run()
    finally:  # st.stop() on a page ends the run through here too
        _keep_inputs()


def _keep_inputs() -> None:
    """Copy every page input aside at the end of a run."""
    state = st.session_state
    for key in [k for k in state if isinstance(k, str) and k.startswith(KEPT_PREFIXES)]:
        state[KEPT_COPY + key] = state[key]


def _restore_kept_inputs() -> None:
    """On arriving at a page, give its inputs back the values they had.

    Streamlit forgets a widget's value once a run does not draw it, and a widget
    mounted afresh in the browser shows its default unless the app sets its
    value. So on a page change every kept input is set from its copy. Only
    then: setting a live widget on every run would push the server's value over
    what the user is typing or dragging at that moment. A kept key is cleared
    by setting it to None, never by popping it, or its copy would come back.
    """
    state = st.session_state
    for kept in [k for k in state if isinstance(k, str) and k.startswith(KEPT_COPY)]:
        state[kept.removeprefix(KEPT_COPY)] = state[kept]


def enter_from_page() -> None:
    """First call of every page: make sure the run went through main().

    Until some session has run ``st.navigation``, Streamlit treats a folder named
    ``pages/`` as an old-style multipage app and runs a deep-linked page on its
    own, without this file. Then this runs main(), which serves the same page
    the new way, and stops the stray run.
    """
    if not getattr(sys.modules["__main__"], _ENTERED, False):
        main()
        st.stop()


if __name__ == "__main__":
    main()
