"""Backplan: plan backwards from the number you must hit.

Entry point, ``streamlit run app.py``, and only a router: page config, session
state, the sign-in gate, navigation and the shared sidebar. Nothing imports
this file; what pages share lives in ``ui/``.
"""

from __future__ import annotations

from datetime import date

import streamlit as st

from planner.access import Viewer
from planner.units import markdown_text
from ui import auth, data, session

#: Every page, by the key planner.access knows it by.
PAGES = {
    "plan": ("pages/plan.py", "Plan", ":material/flag:"),
    "track": ("pages/track.py", "Track", ":material/monitoring:"),
    "team": ("pages/team.py", "Team review", ":material/groups:"),
    "calibrate": ("pages/calibrate.py", "Calibrate", ":material/tune:"),
    "accounts": ("pages/accounts.py", "Accounts", ":material/handshake:"),
    "guide": ("pages/guide.py", "How it works", ":material/menu_book:"),
}


def sidebar(who: Viewer) -> None:
    """What every page's sidebar starts with."""
    with st.sidebar:
        st.markdown("### Backplan")
        st.caption("Plan backwards from the number you must hit: target → deals → funnel → weekly activity.")
        if who.signed_in:
            st.caption(f"Signed in as **{markdown_text(who.label)}**")
            st.button("Sign out", key="btn.sign_out", icon=":material/logout:", on_click=auth.sign_out)


def main() -> None:
    """One run: page config, state defaults, the sign-in gate, navigation, the sidebar, the page."""
    st.set_page_config(page_title="Backplan", page_icon=":material/flag:", layout="wide")
    session.init(date.today())
    who = auth.viewer()
    if who is None:  # signed out, or signed in with an email on no team: nothing else exists
        st.navigation([st.Page(auth.sign_in_page, title="Sign in", icon=":material/login:", url_path="sign-in")]).run()
        return
    page = st.navigation(
        [
            st.Page(path, title=title, icon=icon, default=key == "plan")
            for key, (path, title, icon) in PAGES.items()
            if who.may_open(key)
        ]
    )
    session.arrive(page.url_path)
    sidebar(who)
    try:
        page.run()
    finally:  # st.stop() on a page ends the run through here too
        session.keep_inputs()
        auth.note_activity()
        data.freeze_start_up_heap()


if __name__ == "__main__":
    with session.entry_run():
        main()
