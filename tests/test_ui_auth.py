"""Every page is entered through app.py, even on a server's first deep link (ui.auth.enter_page)."""

from __future__ import annotations

import ast
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


#: Store functions that write, by how their names start.
WRITES = ("add_", "save_", "update_", "delete_", "set_", "load_", "duplicate_", "take_backup", "restore")
#: Writes no person asks for: the daily backup thread (ui/data.py) runs on the server's own schedule.
#: Writers that are not callbacks: the backup thread, and steps a callback takes after its own check
#: (record_projections: the snapshot upload's, and the store checks its viewer again).
NOT_CALLBACKS = {"_start_daily_backups", "run", "record_projections"}


def _calls(function: ast.FunctionDef) -> set[str]:
    """The names a function calls: ``store.save_plan(...)`` → ``store.save_plan``, ``delete(...)`` → ``delete``."""
    return {ast.unparse(node.func) for node in ast.walk(function) if isinstance(node, ast.Call)}


def _unchecked_writes(path: Path) -> list[str]:
    """The functions in ``path`` that write to the store without asking the one permission check first."""
    functions = [n for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.FunctionDef)]
    checks = {"auth.permitted", "permitted", "may_change_plan"}
    grown = True
    while grown:  # a helper that asks the check is a check too (_may_change, _may_save …)
        found = {f.name for f in functions if _calls(f) & checks} - checks
        grown = bool(found)
        checks |= found
    unchecked = []
    for function in functions:
        calls = _calls(function)
        writes = {c for c in calls if c.startswith("store.") and c.removeprefix("store.").startswith(WRITES)}
        if "delete" in calls:  # Accounts' delete, picked from a table of store writes
            writes.add("delete")
        if writes and not calls & checks and function.name not in NOT_CALLBACKS:
            unchecked.append(f"{function.name}: {sorted(writes)}")
    return unchecked


@pytest.mark.parametrize(
    "path", sorted([*(ROOT / "pages").glob("*.py"), *(ROOT / "ui").glob("*.py")]), ids=lambda p: p.name
)
def test_every_write_callback_asks_the_permission_check_first(path: Path) -> None:
    assert _unchecked_writes(path) == []


def test_the_write_check_sees_a_callback_that_skips_it(tmp_path: Path) -> None:
    page = tmp_path / "page.py"
    page.write_text(
        "def _checked(x):\n    if not auth.permitted(lambda who: True, 'no'):\n        return\n    store.save_plan(x)\n"
        "def _unchecked(x):\n    store.delete_profile(x)\n"
    )
    assert _unchecked_writes(page) == ["_unchecked: ['store.delete_profile']"]
