"""Every page is entered through app.py, even on a server's first deep link (ui.auth.enter_page)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT


@pytest.mark.parametrize(
    ("page", "title"),
    [("track", "Track actuals against the plan"), ("accounts", "Account plans"), ("guide", "How Backplan works")],
)
def test_a_first_deep_link_gets_the_entry_scripts_sidebar_and_state(database: Path, page: str, title: str) -> None:
    """Before any session has called st.navigation, Streamlit runs a linked page of pages/ on its own."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    at.switch_page(f"pages/{page}.py").run()  # the first run of the process: a deep link to /{page}
    assert not at.exception, at.exception
    assert [t.value for t in at.title] == [title]  # drawn once, not twice
    assert "### Backplan" in [m.value for m in at.sidebar.markdown]  # the shared sidebar: app.py ran
    assert at.session_state["plan.target"] == 385_000  # and set every default
