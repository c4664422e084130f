"""Session state has one owner: every key a page or ui module uses is declared in ui/session.py,
and no page names another page's keys (Team review opens a rep's plan on Track through the session module)."""

from __future__ import annotations

import ast
import re
from datetime import date
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT
from ui import session

#: The pages' own prefixes, by file (pages/plan.py owns the keys starting "plan.").
PAGE_PREFIXES = {name: f"{name}." for name in ("plan", "track", "team", "calibrate", "accounts")}
#: What a session-state key looks like: a known prefix, then dotted words (or the start of them).
KEY = re.compile(r"^(plan|track|team|calibrate|accounts|app|kept|sync|pair|btn|editor|upload)\.[A-Za-z0-9_.]*$")
DECLARED = set(session.plan_defaults(date(2027, 1, 4)) | session.page_defaults(date(2027, 1, 4)))
DECLARED |= set(session.new_action_form(date(2027, 1, 4)) | session.new_objective_form(date(2027, 1, 4)))
DECLARED |= set(session.review_form(date(2027, 1, 4))) | session.WIDGET_KEYS


def keys_named(path: Path) -> set[str]:
    """The session-state keys a file names: whole string constants, and the constant start of f-strings."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        text = None
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
        elif isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
            text = str(node.values[0].value)
        if text and KEY.match(text) and not text.endswith(".py"):
            found.add(text)
    return found


def declared(key: str) -> bool:
    """A declared key, the start of declared keys (``"accounts.new."``), or one of a declared family."""
    return (
        key in DECLARED
        or (key.endswith(".") and any(d.startswith(key) for d in DECLARED))
        or any(key.startswith(family) for family in session.KEY_FAMILIES)
    )


FILES = sorted([ROOT / "app.py", *(ROOT / "pages").glob("*.py"), *(ROOT / "ui").glob("*.py")])


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_key_a_page_uses_is_declared(path: Path) -> None:
    assert sorted(k for k in keys_named(path) if not declared(k)) == []


@pytest.mark.parametrize("page", sorted(PAGE_PREFIXES), ids=str)
def test_no_page_names_another_pages_keys(page: str) -> None:
    others = tuple(prefix for name, prefix in PAGE_PREFIXES.items() if name != page)
    assert sorted(k for k in keys_named(ROOT / "pages" / f"{page}.py") if k.startswith(others)) == []


def test_the_scan_finds_keys_and_the_declarations_catch_a_stray_one() -> None:
    assert {"plan.target", "editor.stages.", "btn.plan_save"} <= keys_named(ROOT / "pages" / "plan.py")
    assert not declared("plan.something_new") and not declared("track.other")
    assert declared("editor.stages.") and declared("accounts.new.") and declared("team.name")


def test_a_new_session_starts_with_every_default(database: Path) -> None:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30).run()
    today = date.today()
    for key, value in (session.plan_defaults(today) | session.page_defaults(today)).items():
        assert at.session_state[key] == value, key
