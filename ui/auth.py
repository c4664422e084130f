"""Who is using the app, the sign-in page, and the one permission check every write callback makes."""

from __future__ import annotations

import logging
import os
import runpy
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import streamlit as st

from planner import store
from planner.access import OPEN, Viewer, resolve_viewer
from planner.sessions import (
    DEFAULT_IDLE_HOURS,
    SignInKey,
    idle_limit,
    idle_words,
    note_due,
    sign_in_key,
    sign_in_verdict,
)
from planner.units import markdown_text
from ui import data, session

__all__ = [
    "ENTRY_SCRIPT",
    "enter_page",
    "note_activity",
    "page_fragment",
    "permitted",
    "refusal",
    "require",
    "sign_in_configured",
    "sign_in_ended",
    "sign_in_page",
    "sign_out",
    "viewer",
]

_log = logging.getLogger("backplan")

#: The app's entry script: routing, session state, sign-in and the sidebar.
ENTRY_SCRIPT = Path(__file__).resolve().parent.parent / "app.py"


def sign_in_configured() -> bool:
    """True when the deployment's secrets have an ``[auth]`` section: then everyone must sign in."""
    try:
        return bool(st.secrets.load_if_toml_exists() and "auth" in st.secrets)
    except Exception:  # an unreadable secrets file is logged by Streamlit; it must not open the app up
        return True


def _settings() -> dict:
    """The ``[backplan]`` section of the deployment's secrets (empty when there is none)."""
    return data.deployment_settings()


def _ops_emails() -> list[str]:
    emails = _settings().get("ops", [])
    return [str(e) for e in ([emails] if isinstance(emails, str) else emails)]


def _idle_limit() -> timedelta:
    """``[backplan] idle_hours`` (or BACKPLAN_IDLE_HOURS); a mistyped one is logged and the default kept."""
    try:
        return idle_limit(_settings().get("idle_hours"), os.environ.get("BACKPLAN_IDLE_HOURS"))
    except ValueError as error:
        _log.error("%s Sessions end after %g hours without use until it is fixed.", error, DEFAULT_IDLE_HOURS)
        return timedelta(hours=DEFAULT_IDLE_HOURS)


def _sign_in_key() -> SignInKey | None:
    return sign_in_key({claim: st.user.get(claim) for claim in ("iss", "sub", "iat")})


def _utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


#: Why a browser's sign-in no longer counts, as the sign-in page says it.
ENDED = {
    "signed out": "You signed out of Backplan. Sign in again to go on.",
    "idle": "You were signed out after {idle} without using Backplan. Sign in again to go on.",
    "unknown": "Your identity provider's sign-in could not be checked (it has no subject or issue time). "
    "Sign in again; if this keeps happening, ask your sales ops team.",
}


def sign_in_ended() -> str | None:
    """Why this browser's sign-in no longer counts (a key of :data:`ENDED`), or None while it does.

    Asked on every run with a signed-in cookie, from the server's record of the
    sign-in (:mod:`planner.sessions` has the rule); an active one's use is noted.
    """
    key = _sign_in_key()
    if key is None:
        return "unknown"
    con = data.db()
    idle, now = _idle_limit(), _utc_now()
    record = store.get_sign_in(con, key)
    verdict = sign_in_verdict(record, key.issued_at, now, idle)
    if verdict != "active":
        return verdict
    if note_due(record, now, idle):
        try:
            store.note_sign_in(con, key, now)
        except data.WRITE_ERRORS as error:  # the sign-in still counts; its idle clock starts at the next note
            _log.error("Could not note a sign-in's use: %s", error)
    return None


def note_activity() -> None:
    """The end of a signed-in run: the idle clock starts from here, not from when a slow run began."""
    if sign_in_configured() and st.user.is_logged_in:
        sign_in_ended()


def sign_out() -> None:
    """The Sign out button: end this sign-in on the server (so no copy of its cookie counts), then Streamlit's."""
    key = _sign_in_key()
    if key is not None:
        try:
            store.end_sign_in(data.db(), key, _utc_now())
        except data.WRITE_ERRORS as error:
            _log.error("Could not record a sign-out: %s", error)
    st.logout()


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
    if sign_in_ended() is not None:  # signed out, or idle too long: the cookie no longer counts
        return None
    return resolve_viewer(str(st.user.get("email") or ""), data.reps(), _ops_emails())


def require(page: str) -> Viewer:
    """A page's first check: the viewer, or a clear refusal and the end of the run."""
    who = viewer()
    if who is None or not who.may_open(page):
        st.error("This page is not open to you. Ask your sales ops team if you need it.", icon=":material/lock:")
        st.stop()
        raise AssertionError("unreachable")  # st.stop() raises
    return who


def enter_page(page: str) -> Viewer:
    """First call of every page: make sure the run came through the entry script, and that ``page`` is the viewer's.

    Until some session of the server process has called ``st.navigation``,
    Streamlit treats a folder named ``pages/`` as an old-style multipage app
    and runs a deep-linked page (``/track``) on its own, without the entry
    script; AppTest does so on every run after the first. Then the entry
    script is run here: it calls ``st.navigation``, which routes to this same
    page and draws it with the session state, sign-in gate and sidebar it
    needs; this stray run then stops.
    """
    if not session.in_entry_run():
        runpy.run_path(str(ENTRY_SCRIPT), run_name="__main__")
        st.stop()
    return require(page)


@contextmanager
def page_fragment(page: str) -> Iterator[Viewer]:
    """Around a page's ``st.fragment``: for a run of the fragment alone, what app.py does around a whole run.

    A widget inside a fragment reruns only the fragment, so app.py's sign-in gate, its kept inputs and the
    idle clock would not run. The viewer is read afresh here instead (a sign-in that has ended, or a page no
    longer theirs, reruns the whole app, whose gate says so), and the inputs are kept and the use noted when
    the fragment's run ends.
    """
    who = viewer()
    if who is None or not who.may_open(page):
        st.rerun()  # the whole app: the sign-in page, or the refusal
    assert who is not None  # st.rerun() raises
    try:
        yield who
    finally:
        session.keep_inputs()
        note_activity()


def refusal(check: Callable[[Viewer], bool], refused: str) -> str | None:
    """The one permission check: None if the viewer passes ``check``, else ``refused`` (the words to show).

    The viewer is read afresh from the signed identity: a callback asks again
    rather than trust the run that drew its button.
    """
    who = viewer()
    return None if who is not None and check(who) else refused


def _toast(text: str) -> None:
    st.toast(markdown_text(text), icon=":material/lock:")


def permitted(check: Callable[[Viewer], bool], refused: str, tell: Callable[[str], None] | None = None) -> bool:
    """A write callback's first line: True if the viewer passes ``check``; else ``tell`` them ``refused`` (a toast)."""
    problem = refusal(check, refused)
    if problem is None:
        return True
    (tell or _toast)(problem)
    return False


def _providers() -> list[str]:
    """The named identity providers of ``[auth.NAME]`` sections; empty when ``[auth]`` itself is the one."""
    auth = st.secrets.get("auth", {})
    if "client_id" in auth:
        return []
    return [name for name, section in auth.items() if hasattr(section, "get") and "client_id" in section]


def sign_in_page() -> None:
    """The only page for a visitor who is not signed in, or whose email is on no team."""
    st.title("Backplan")
    ended = sign_in_ended() if st.user.is_logged_in else None
    if not st.user.is_logged_in or ended:
        if ended:
            st.info(ENDED[ended].format(idle=idle_words(_idle_limit())), icon=":material/logout:")
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
    st.button("Sign out", key="btn.sign_out", icon=":material/logout:", on_click=sign_out)
