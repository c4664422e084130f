"""Backplan: plan backwards from the number you must hit.

Entry point: ``streamlit run app.py``.  Sets every page's session state once,
keeps page inputs alive across page switches, and draws the shared sidebar.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from datetime import date, datetime

import duckdb
import streamlit as st

from planner import backups, store
from planner.access import OPEN, Viewer, resolve_viewer
from planner.demo import demo_team
from planner.funnel import DEFAULT_STAGES, DEFAULT_WON_STAGE, default_period
from planner.imports import DEAL_FIELDS, PRESETS, Mapping, RawTable, date_order_needed, detect_mapping
from planner.units import markdown_text

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
        "accounts.confirm_delete": None,  # ("goal" | "objective" | "account", id) awaiting "Yes, delete"
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
    con = store.connect(path)
    _start_daily_backups(con)
    return con


def backup_schedule() -> tuple[backups.BackupSchedule, bool, str]:
    """Where backups go, whether they run daily, and what is wrong with the settings ("" when nothing).

    Without ``BACKPLAN_BACKUP_DIR`` they go to ``backups/`` beside the database, on demand only.
    """
    fallback = backups.BackupSchedule(store.default_path().parent / "backups")
    try:
        schedule = backups.schedule_from_env(dict(os.environ))
    except ValueError as error:
        return fallback, False, str(error)
    return (schedule, True, "") if schedule else (fallback, False, "")


def _start_daily_backups(con: duckdb.DuckDBPyConnection) -> None:
    """With ``BACKPLAN_BACKUP_DIR`` set, a thread beside the new connection backs it up every day."""
    schedule, daily, problem = backup_schedule()
    if problem:  # Team review's Backups section says it to sales ops too
        logging.getLogger("backplan").error("Daily backups are off: %s", problem)
    if not daily:
        return

    def run() -> None:
        while True:
            now = datetime.now()
            time.sleep((backups.next_run(now, schedule.at) - now).total_seconds())
            try:
                store.take_backup(con, schedule, datetime.now())
            except Exception:  # logged, and tried again tomorrow; sales ops see the dates on Team review
                logging.getLogger("backplan").exception("The daily backup into %s failed", schedule.folder)

    threading.Thread(target=run, name="backplan-daily-backup", daemon=True).start()


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


# --------------------------------------------------------------------------- sign-in


def sign_in_configured() -> bool:
    """True when the deployment's secrets have an ``[auth]`` section: then everyone must sign in."""
    try:
        return bool(st.secrets.load_if_toml_exists() and "auth" in st.secrets)
    except Exception:  # an unreadable secrets file is logged by Streamlit; it must not open the app up
        return True


def _ops_emails() -> list[str]:
    section = st.secrets.get("backplan", {}) if st.secrets.load_if_toml_exists() else {}
    emails = section.get("ops", []) if hasattr(section, "get") else []
    return [str(e) for e in ([emails] if isinstance(emails, str) else emails)]


def viewer() -> Viewer | None:
    """Who is using this session: :data:`OPEN` with sign-in off, None when signed out or unknown.

    Worked out afresh from the signed identity cookie on every call, never kept in
    session state, so nothing a browser sends can change who it is.
    """
    if not sign_in_configured():
        return OPEN
    if not st.user.is_logged_in:
        return None
    if st.user.get("email_verified") is False:  # an IdP that says the address is unproven
        return None
    return resolve_viewer(str(st.user.get("email") or ""), reps(), _ops_emails())


def require(page: str) -> Viewer:
    """A page's first check: the viewer, or a clear refusal and the end of the run."""
    who = viewer()
    if who is None or not who.may_open(page):
        st.error("This page is not open to you. Ask your sales ops team if you need it.", icon=":material/lock:")
        st.stop()
        raise AssertionError("unreachable")  # st.stop() raises
    return who


def permitted(check: Callable[[Viewer], bool], refusal: str) -> bool:
    """For a button callback: True if the viewer passes ``check``; else a toast saying ``refusal``.

    Callbacks ask again rather than trust the run that drew the button.
    """
    who = viewer()
    if who is not None and check(who):
        return True
    st.toast(refusal, icon=":material/lock:")
    return False


#: What a signed-in person is told for a plan that is not theirs, the same whether or not it exists.
NOT_YOURS = "That plan is not one of yours to open — it belongs to someone outside your team, or no longer exists."
#: The same, with sign-in off: every plan is the user's, so it can only be gone.
GONE = "That plan no longer exists — it may have been deleted in another window, or the link is mistyped."


def plan_refusal(plan_id: int | None) -> str | None:
    """None if the viewer may see and change saved plan ``plan_id``; else why not, in words fitting their sign-in."""
    who = viewer()
    saved = store.get_plan(db(), plan_id) if plan_id is not None else None
    if saved is not None and who is not None and who.can_see_rep(saved.rep_id):
        return None
    return GONE if who is not None and not who.signed_in else NOT_YOURS


def linked_plan_id(page: str) -> int | None:
    """The plan a ``?plan=ID`` link asks ``page`` to open, once per link; None when there is none.

    The caller still checks the viewer may see it: a link is only a request.
    """
    wanted = st.query_params.get("plan")
    seen_key = f"{page}.linked"
    if wanted is None or st.session_state.get(seen_key) == wanted:
        return None
    st.session_state[seen_key] = wanted
    try:
        return int(wanted)
    except ValueError:
        return -1  # not a plan id: refused like any plan that is not theirs


def show_plan_in_url(page: str, plan_id: int | None) -> None:
    """Keep ``?plan=ID`` in the address bar on the plan shown, so the address can be bookmarked or shared."""
    if plan_id is None:
        st.query_params.pop("plan", None)
        return
    st.query_params["plan"] = str(plan_id)
    st.session_state[f"{page}.linked"] = str(plan_id)  # already acted on: not a new link


def _providers() -> list[str]:
    """The named identity providers of ``[auth.NAME]`` sections; empty when ``[auth]`` itself is the one."""
    auth = st.secrets.get("auth", {})
    if "client_id" in auth:
        return []
    return [name for name, section in auth.items() if hasattr(section, "get") and "client_id" in section]


def _signed_out() -> None:
    """The only page for a visitor who is not signed in, or whose email is on no team."""
    st.title("Backplan")
    if not st.user.is_logged_in:
        st.write("Plan backwards from the number you must hit. Sign in with your work account to see your plans.")
        providers = _providers()
        if not providers:
            st.button("Sign in", key="btn.sign_in", icon=":material/login:", type="primary", on_click=st.login)
        for name in providers:  # [auth.google], [auth.microsoft]…: one button each
            st.button(
                f"Sign in with {name.replace('_', ' ').title()}",
                key=f"btn.sign_in.{name}",
                icon=":material/login:",
                type="primary",
                on_click=st.login,
                args=(name,),
            )
        return
    email = markdown_text(str(st.user.get("email") or "this account"))
    st.warning(
        f"You are signed in as **{email}**, but that email is not on a Backplan team yet. "
        "Ask your sales ops team to add it under **Team review → Teams and roles**, then reload this page.",
        icon=":material/person_off:",
    )
    st.button("Sign out", key="btn.sign_out", icon=":material/logout:", on_click=st.logout)


# --------------------------------------------------------------------------- reads every rerun makes
# The Plan page lists saved plans, reps and profiles on every slider move. They change only when this
# process writes (DuckDB's single-writer lock), so they are cached per store.data_generation().


@st.cache_data(max_entries=64, show_spinner=False)
def _reps(path: str, generation: int) -> list[store.Rep]:
    return store.list_reps(db())


@st.cache_data(max_entries=64, show_spinner=False)
def _plans(path: str, generation: int, rep_ids: tuple[int, ...] | None) -> list[store.PlanSummary]:
    return store.list_plans(db(), rep_ids=rep_ids)


@st.cache_data(max_entries=64, show_spinner=False)
def _profiles(path: str, generation: int) -> list[store.ProfileSummary]:
    return store.list_profiles(db())


def reps() -> list[store.Rep]:
    """Every rep on file (cached until the next write)."""
    return _reps(str(store.default_path()), store.data_generation())


def saved_plans(who: Viewer) -> list[store.PlanSummary]:
    """The saved plans ``who`` may see (cached until the next write)."""
    rep_ids = None if who.visible_rep_ids is None else tuple(sorted(who.visible_rep_ids))
    return _plans(str(store.default_path()), store.data_generation(), rep_ids)


def profiles() -> list[store.ProfileSummary]:
    """The saved calibration profiles (cached until the next write)."""
    return _profiles(str(store.default_path()), store.data_generation())


# --------------------------------------------------------------------------- mapping an export's columns

#: The choice for a field the file does not have.
NOT_IN_FILE = "— not in this file —"


def column_mapping(table: RawTable, prefix: str, on_format_change: Callable[[], None] | None = None) -> Mapping:
    """Export format and one picker per deal field, prefilled from the header row; the mapping they give.

    Widget keys are ``{prefix}.preset`` and ``{prefix}.map.<field>``: clear them
    (see :func:`forget_mapping`) when another file arrives, so its columns are
    recognised afresh.
    """
    preset_key = f"{prefix}.preset"
    detected = detect_mapping(table.columns, st.session_state.get(preset_key))
    if st.session_state.get(preset_key) is None:
        st.session_state[preset_key] = detected.preset
    for name in DEAL_FIELDS:
        st.session_state.setdefault(f"{prefix}.map.{name}", detected.fields.get(name, NOT_IN_FILE))
    labels = {p.name: p.label for p in PRESETS}
    st.selectbox(
        "Export format",
        list(labels),
        key=preset_key,
        format_func=labels.get,
        on_change=on_format_change or (lambda: forget_mapping(prefix, keep_format=True)),
        help="Recognised from the header row; pick another to re-map the columns.",
    )
    options = [NOT_IN_FILE, *table.columns]
    grid = st.columns(3)
    for i, (name, label) in enumerate(DEAL_FIELDS.items()):
        key = f"{prefix}.map.{name}"
        if st.session_state[key] not in options:
            st.session_state[key] = NOT_IN_FILE
        grid[i % 3].selectbox(label, options, key=key)
    fields = {n: st.session_state[f"{prefix}.map.{n}"] for n in DEAL_FIELDS}
    return Mapping(detected.preset, {n: c for n, c in fields.items() if c != NOT_IN_FILE}, detected.entered)


def date_order(table: RawTable, mapping: Mapping, prefix: str) -> str:
    """How the export's slashed dates are written: settled by the dates themselves, else asked ("MDY" by default)."""
    dates = [table.frame[mapping.fields[f]] for f in ("created", "closed") if f in mapping.fields]
    order = date_order_needed(*dates)
    if order != "ambiguous":
        return order or "MDY"  # None: ISO dates, where the order does not matter
    return (
        st.radio(
            "Dates like 03/04/2025 are written",
            ["MDY", "DMY"],
            key=f"{prefix}.date_order",
            horizontal=True,
            format_func={"MDY": "Month first: 03/04/2025 is 4 March", "DMY": "Day first: 03/04/2025 is 3 April"}.get,
        )
        or "MDY"
    )


def forget_mapping(prefix: str, *, keep_format: bool = False) -> None:
    """Clear the column pickers of :func:`column_mapping` (and the format, unless ``keep_format``)."""
    state = st.session_state
    for key in [k for k in state if isinstance(k, str) and k.startswith(f"{prefix}.map.")]:
        del state[key]
    if not keep_format:
        state[f"{prefix}.preset"] = None


def load_demo() -> None:
    """Button callback: fill an empty database with the demo team, its plans, actuals and pipeline snapshots."""
    if not permitted(lambda who: who.can_load_demo, "Only sales ops can load demo data."):
        return
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

    who = viewer()
    if who is None:  # signed out, or signed in with an email on no team: nothing else exists
        st.navigation([st.Page(_signed_out, title="Sign in", icon=":material/login:", url_path="sign-in")]).run()
        return
    pages = {
        "plan": st.Page("pages/plan.py", title="Plan", icon=":material/flag:", default=True),
        "track": st.Page("pages/track.py", title="Track", icon=":material/monitoring:"),
        "team": st.Page("pages/team.py", title="Team review", icon=":material/groups:"),
        "calibrate": st.Page("pages/calibrate.py", title="Calibrate", icon=":material/tune:"),
        "accounts": st.Page("pages/accounts.py", title="Accounts", icon=":material/handshake:"),
        "guide": st.Page("pages/guide.py", title="How it works", icon=":material/menu_book:"),
    }
    page = st.navigation([p for key, p in pages.items() if who.may_open(key)])
    if st.session_state.get(LAST_PAGE) != page.url_path:
        _restore_kept_inputs()
        st.session_state[LAST_PAGE] = page.url_path
    with st.sidebar:
        st.markdown("### Backplan")
        st.caption("Plan backwards from the number you must hit: target → deals → funnel → weekly activity.")
        if who.signed_in:
            st.caption(f"Signed in as **{markdown_text(who.label)}**")
            st.button("Sign out", key="btn.sign_out", icon=":material/logout:", on_click=st.logout)
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


def enter_from_page(page: str) -> Viewer:
    """First call of every page: make sure the run went through main(), and that ``page`` is the viewer's.

    Until some session has run ``st.navigation``, Streamlit treats a folder named
    ``pages/`` as an old-style multipage app and runs a deep-linked page on its
    own, without this file. Then this runs main(), which serves the same page
    the new way, and stops the stray run.
    """
    if not getattr(sys.modules["__main__"], _ENTERED, False):
        main()
        st.stop()
    return require(page)


if __name__ == "__main__":
    main()
