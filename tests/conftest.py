"""Shared fixtures: the app under AppTest, started through app.py like a real session."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest
import streamlit as st
from hypothesis import settings
from streamlit.proto.WidgetStates_pb2 import WidgetState
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Dataframe, Widget

from bench._pair import Pair, pairs
from planner import store

pytest.register_assert_rewrite("tests.backends")
from tests.backends import postgres_server  # noqa: E402

pytest_plugins = ["tests.backends"]

ROOT = Path(__file__).resolve().parent.parent

# Property tests assert behaviour, never speed: on a shared 2-core machine one example can take
# 50× its usual time, and Hypothesis' per-example deadline then fails a correct test.
settings.register_profile("backplan", deadline=None)
settings.load_profile("backplan")
#: An [auth] section for AppTest's secrets: sign-in on (st.user is seeded by the test, no provider is called).
AUTH = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "test-cookie-secret-test-cookie-secret",
    "client_id": "backplan",
    "client_secret": "test",
    "server_metadata_url": "http://localhost:9/.well-known/openid-configuration",
}


#: The identity provider AppTest's seeded sign-ins come from.
ISSUER = "https://id.backplan.test"


def signed_in(email: str, issued_at: float | None = None, **claims: object) -> dict[str, object]:
    """``st.user`` as Streamlit fills it after an OpenID Connect sign-in as ``email``: the identity token's
    claims, with its issuer, subject and issue time (``issued_at``, Unix seconds; default now)."""
    iat = int(time.time()) if issued_at is None else issued_at
    return {"is_logged_in": True, "email": email, "iss": ISSUER, "sub": email, "iat": iat, **claims}


@pytest.fixture(autouse=True)
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, backend: str) -> Iterator[store.Target]:
    """Every test gets its own empty database: a DuckDB file, or (``backend``) a PostgreSQL database's URL.

    Nothing touches data/. See tests/backends.py for which tests run on PostgreSQL too.
    """
    if backend == "postgresql":
        server = postgres_server()
        url = server.fresh()
        monkeypatch.setenv("BACKPLAN_DB", url)
        yield url
        st.cache_resource.clear()
        server.drop(url)
        return
    path = tmp_path / "backplan.duckdb"
    monkeypatch.setenv("BACKPLAN_DB", str(path))
    yield path
    st.cache_resource.clear()  # closes the app's connection to this test's file


@pytest.fixture
def app(database: Path) -> AppTest:
    """A fresh session of the whole app, on its default page, after the first run."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30).run()
    assert not at.exception, at.exception
    return at


def session_as(email: str | None, ops: list[str] | None = None) -> AppTest:
    """A session of the app with sign-in on, signed in as ``email`` (signed out when None), after its first run."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    at.secrets["auth"] = AUTH
    at.secrets["backplan"] = {"ops": ops or []}
    at.user = {"is_logged_in": False} if email is None else signed_in(email)
    at.run()
    assert not at.exception, at.exception
    return at


def metric(at: AppTest, label: str) -> str:
    """The value shown on the metric card called ``label``."""
    found = {m.label: m.value for m in at.metric}
    assert label in found, f"no metric {label!r}; the page shows {sorted(found)}"
    return found[label]


def box(at: AppTest, label: str) -> Pair:
    """The number box labelled ``label``, with or without its unit ("Revenue target" finds "Revenue target ($)")."""
    found = [p for p in pairs(at, "box") if label in (p.label, p.label.split(" (")[0])]
    assert len(found) == 1, f"no single number box {label!r}; the page shows {[p.label for p in pairs(at, 'box')]}"
    return found[0]


def slider(at: AppTest, label: str) -> Pair:
    """The slider labelled ``label`` (screen readers read it; it is not shown), such as "Drag to change the revenue
    target"."""
    found = [p for p in pairs(at, "slider") if p.label == label]
    assert len(found) == 1, f"no single slider {label!r}; the page shows {[p.label for p in pairs(at, 'slider')]}"
    return found[0]


def forge(widget: Widget, value: str) -> Widget:
    """Make a select box or radio report ``value`` on the next run, as a tampered browser can.

    Streamlit reads the string a browser sends for a select box and hands it to the callbacks of the same
    run even when it was never among the options drawn; AppTest's own ``set_value`` refuses such a value,
    so the widget is made to send it the way a forged message would.
    """

    class Forged(type(widget)):  # type: ignore[misc, valid-type]
        @property
        def _widget_state(self) -> WidgetState:
            return WidgetState(id=self.id, string_value=value)

    widget.__class__ = Forged
    return widget


@contextmanager
def open_store(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """The test's database, opened beside the app's own connection, closed afterwards."""
    con = store.connect(path)
    try:
        yield con
    finally:
        con.close()


def open_saved_plan(at: AppTest, plan_id: int) -> AppTest:
    """Open saved plan ``plan_id`` on the Plan page of session ``at``, as the sidebar's Open does."""
    at.selectbox(key="plan.pick").set_value(plan_id).run()
    at.button(key="btn.plan_open").click().run()
    assert not at.exception, at.exception
    return at


def edit_table(
    editor: Dataframe,
    *,
    edited: dict[int, dict[str, object]] | None = None,
    added: list[dict[str, object]] | None = None,
    deleted: list[int] | None = None,
) -> AppTest:
    """Edit a data editor as a browser does, and run the app: the cells ``edited`` ({row as drawn: {column:
    new value}}), the rows ``added`` and the rows ``deleted``.

    AppTest draws a data editor but cannot edit one, so the widget state the browser would send is built
    here. Like the browser, an editor keeps every edit made in it until it is drawn afresh (a new widget
    id), and sends them all with each new one.
    """
    at = editor.root._runner
    kept: dict[str, dict[str, object]] = at.__dict__.setdefault("_edits_by_editor", {})
    state = kept.setdefault(editor.proto.id, {"edited_rows": {}, "added_rows": [], "deleted_rows": []})
    for row, cells in (edited or {}).items():
        state["edited_rows"].setdefault(str(row), {}).update(cells)  # type: ignore[union-attr]
    state["added_rows"] += added or []  # type: ignore[operator]
    state["deleted_rows"] += deleted or []  # type: ignore[operator]
    widgets = at._tree.get_widget_states()
    widgets.widgets.append(WidgetState(id=editor.proto.id, string_value=json.dumps(state)))
    return at._run(widgets)


def stage_editor(at: AppTest) -> Dataframe:
    """The Plan page's funnel table (a row per stage, top down)."""
    [editor] = [e for e in at.data_editor if (e.key or "").startswith("editor.stages.")]
    return editor


def stage_names(at: AppTest) -> list[str]:
    """The funnel's stage names as the table shows them, top down."""
    return stage_editor(at).value["Stage"].tolist()


def edit_stages(at: AppTest, **edits: object) -> AppTest:
    """:func:`edit_table` on the Plan page's funnel table; a stale table would ignore the edits, so none is."""
    edited = edit_table(stage_editor(at), **edits)  # type: ignore[arg-type]
    assert not edited.exception, edited.exception
    return edited


def rename_stage(at: AppTest, old: str, new: str) -> None:
    """Type ``new`` over the name of the funnel stage called ``old`` on the Plan page."""
    edit_stages(at, edited={stage_names(at).index(old): {"Stage": new}})


def edit_cells(at: AppTest, edits: dict[int, dict[str, object]], editor: int = 0) -> AppTest:
    """Edit cells of the page's data editor number ``editor`` as a browser does, and run the app (:func:`edit_table`).

    ``edits`` is {row as drawn: {column: new value}}.
    """
    return edit_table(at.data_editor[editor], edited=edits)
