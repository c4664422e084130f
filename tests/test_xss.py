"""Text a user types never renders as HTML, script or Markdown, on any page (AppTest).

A payload goes into every free-text field; then every element that Streamlit
renders as Markdown (alerts, captions, headings, toasts, metric and widget
labels, help) must show it escaped (``planner.units.markdown_text``), and no
element allowed to carry raw HTML may hold it at all.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from planner import store
from planner.access import SYSTEM
from planner.accounts import Action, Objective, Review, default_cycle
from planner.units import markdown_text
from tests.conftest import edit_stages, open_store, signed_in, stage_names

PAYLOAD = "<img src=x onerror=alert(1)><script>alert(1)</script>**bold** [link](javascript:alert(1))"
#: For fields that take at most 60 characters: the two halves, one field each.
HTML_HALF = "<img src=x onerror=alert(1)><script>alert(1)</script>"
MARKDOWN_HALF = "**bold** [link](javascript:alert(1))"
#: The payload, unescaped, as Markdown would act on it.
RAW = [re.compile(p) for p in (r"(?<!\\)<img", r"(?<!\\)<script", r"\*\*bold\*\*", r"(?<!\\)\]\(javascript")]
#: Proto fields Streamlit renders as Markdown (bodies, labels, help tooltips).
MARKDOWN_FIELDS = {"body", "label", "help", "text", "caption"}
#: Elements whose content is data, not Markdown (the browser test covers how charts show it).
DATA_ELEMENTS = {"plotly_chart", "dataframe", "arrow_data_frame", "arrow_table", "data_editor"}


def strings(message, path: str = "") -> Iterator[tuple[str, str]]:
    """Every (field name, text) in a protobuf message, nested messages included."""
    for field, value in message.ListFields():
        items = list(value) if field.is_repeated else [value]
        for item in items:
            if field.type == field.TYPE_MESSAGE:
                yield from strings(item, field.name)
            elif field.type == field.TYPE_STRING:
                yield field.name, item


def nodes(node) -> Iterator[object]:
    yield node
    children = getattr(node, "children", None)
    if isinstance(children, dict):
        for child in children.values():
            yield from nodes(child)


def assert_never_rendered(at: AppTest) -> list[str]:
    """Fail on any element that would act on the payload; return the Markdown texts that carry it escaped."""
    assert not at.exception, at.exception
    escaped = []
    for node in nodes(at._tree):
        proto = getattr(node, "proto", None)
        kind = getattr(node, "type", type(node).__name__)
        if proto is None or kind in DATA_ELEMENTS or not hasattr(proto, "ListFields"):
            continue
        texts = list(strings(proto))
        if getattr(proto, "allow_html", False) or kind == "html":
            assert not any("alert(1)" in text for _, text in texts), f"{kind} with raw HTML allowed holds the payload"
        for name, text in texts:
            if name not in MARKDOWN_FIELDS:
                continue
            for raw in RAW:
                assert not raw.search(text), f"{kind}.{name} renders user text as Markdown: {text[:300]!r}"
            if "onerror" in text or "javascript" in text:
                escaped.append(text)
    return escaped


def fill_every_text_field(at: AppTest) -> None:
    """The payload (or half of it, where a field takes fewer characters) in every text input and area."""
    for n, field in enumerate([*at.text_input, *at.text_area]):
        limit = getattr(field.proto, "max_chars", 0) or 10_000
        text = PAYLOAD if limit >= len(PAYLOAD) else (HTML_HALF if n % 2 == 0 else MARKDOWN_HALF)
        field.set_value(f"{text} {n}"[:limit] if limit < len(PAYLOAD) + 3 else f"{text} {n}")


def test_plan_page_stage_names_won_stage_plan_name_and_new_rep(app: AppTest) -> None:
    fill_every_text_field(app)
    # The stage names are cells of the funnel table: half the payload each (a name takes 60 characters).
    edit_stages(app, edited={n: {"Stage": f"{HTML_HALF if n % 2 else MARKDOWN_HALF} {n}"} for n in range(3)})
    assert_never_rendered(app)
    assert {f.key for f in app.text_input} >= {"plan.won_stage", "plan.name", "plan.new_rep"}
    assert stage_names(app)[0] == f"{MARKDOWN_HALF} 0"  # kept exactly as typed

    app.button(key="btn.plan_save").click().run()  # the toast and "Editing saved plan …" echo the name
    shown = assert_never_rendered(app)
    assert app.session_state["plan.loaded_id"] is not None, "the plan was not saved"
    assert any(markdown_text(app.session_state["plan.name"]) in text for text in shown)

    app.button(key="btn.plan_save_new").click().run()  # same name: the error quotes it
    assert any("already has a plan called" in e.value for e in app.error)
    assert_never_rendered(app)

    app.button(key="btn.plan_delete").click().run()  # "Delete “…”?" quotes it
    assert_never_rendered(app)

    # A second session picks the saved plan from the list and opens it: the toast names it.
    other = AppTest.from_file(app._script_path, default_timeout=30).run()
    other.selectbox(key="plan.pick").set_value(app.session_state["plan.loaded_id"]).run()
    other.button(key="btn.plan_open").click().run()
    assert_never_rendered(other)


def test_plan_page_a_new_rep_whose_name_is_taken(app: AppTest, database: Path) -> None:
    with open_store(database) as con:
        store.add_rep(con, SYSTEM, HTML_HALF)
    app.run()
    app.selectbox(key="plan.rep").set_value(None).run()
    app.text_input(key="plan.new_rep").set_value(HTML_HALF)
    app.text_input(key="plan.name").set_value(MARKDOWN_HALF).run()
    app.button(key="btn.plan_save").click().run()
    assert any("already a rep called" in e.value for e in app.error)
    assert_never_rendered(app)


def test_calibrate_page_file_name_and_profile_name(app: AppTest) -> None:
    app.switch_page("pages/calibrate.py").run()
    data = (Path(__file__).resolve().parent.parent / "data" / "sample_crm_export.csv").read_bytes()
    name = f"{HTML_HALF}.csv"  # an uploaded file's name is the user's too
    app.session_state["calibrate.source"] = {"name": name, "data": data, "digest": hashlib.sha256(data).hexdigest()}
    app.run()
    assert_never_rendered(app)

    app.text_input(key="calibrate.profile_name").set_value(MARKDOWN_HALF).run()
    app.button(key="btn.calibrate_save").click().run()
    assert_never_rendered(app)
    app.button(key="btn.calibrate_save").click().run()  # the same name again: the error quotes it
    assert_never_rendered(app)

    broken = b"\x00\x01not a file"
    app.session_state["calibrate.source"] = {"name": name, "data": broken, "digest": hashlib.sha256(broken).hexdigest()}
    app.run()  # "… could not be read" names the file
    assert_never_rendered(app)


def test_accounts_page_every_field(app: AppTest, database: Path) -> None:
    start, end = date(date.today().year, 1, 1), date(date.today().year, 12, 31)
    with open_store(database) as con:  # an account plan whose every text is the payload
        owner = store.add_rep(con, SYSTEM, PAYLOAD)
        account = store.add_account(con, SYSTEM, PAYLOAD, start, end, owner_rep_id=owner, segment=PAYLOAD)
        plan = store.get_account_plan(con, account)
        assert plan is not None
        goal = store.add_goal(con, SYSTEM, account, "roadmap to revenue", PAYLOAD)
        objective = store.add_objective(con, SYSTEM, Objective(0, goal, PAYLOAD, PAYLOAD, 10, 1, PAYLOAD, end, False))
        store.add_action(con, SYSTEM, Action(0, account, PAYLOAD, objective, PAYLOAD, end))
        store.save_cycle(con, SYSTEM, account, start.year, default_cycle(start.year, 1, PAYLOAD))
        store.add_review(con, SYSTEM, Review(0, account, start, PAYLOAD, PAYLOAD, PAYLOAD))
    app.switch_page("pages/accounts.py").run()
    assert_never_rendered(app)

    # Typed into every field and submitted, form by form.
    for label in ("Add account", "Add goal", "Add action", "Save the customer's view", "Add review"):
        fill_every_text_field(app)
        buttons = [b for b in app.button if b.label == label]
        if buttons:
            buttons[0].click().run()
            assert_never_rendered(app)
    with open_store(database) as con:
        names = [a.name for a in store.list_accounts(con)]
    assert len(names) >= 2 and all("alert(1)" in n for n in names), "the form did not add the typed account"


@pytest.mark.parametrize("page", ["pages/track.py", "pages/guide.py"])
def test_other_pages_show_saved_payload_names_escaped(app: AppTest, database: Path, page: str) -> None:
    app.text_input(key="plan.name").set_value(MARKDOWN_HALF)
    app.selectbox(key="plan.rep").set_value(None)
    app.text_input(key="plan.new_rep").set_value(HTML_HALF).run()
    app.button(key="btn.plan_save").click().run()
    app.switch_page(page).run()
    assert_never_rendered(app)


def test_team_page_team_rep_and_plan_names(app: AppTest, database: Path) -> None:
    with open_store(database) as con:
        from datetime import date

        from planner.funnel import PlanInputs

        rep = store.add_rep(con, SYSTEM, HTML_HALF)
        store.update_rep(con, SYSTEM, rep, team=PAYLOAD, role="rep")
        today = date.today()
        store.save_plan(
            con, SYSTEM, rep, MARKDOWN_HALF, PlanInputs(100_000, 5_000, today.replace(day=1), today.replace(day=28))
        )
    app.switch_page("pages/team.py").run()
    assert app.selectbox(key="team.name").value == PAYLOAD
    assert_never_rendered(app)


def test_team_page_a_team_with_no_plans_yet(app: AppTest, database: Path) -> None:
    with open_store(database) as con:
        store.update_rep(con, SYSTEM, store.add_rep(con, SYSTEM, "Zoe Park"), team=PAYLOAD, role="rep")
    app.switch_page("pages/team.py").run()
    assert any("has a saved plan yet" in i.value for i in app.info)
    assert_never_rendered(app)


def test_team_page_adding_a_person(app: AppTest, database: Path) -> None:
    with open_store(database) as con:
        store.add_rep(con, SYSTEM, "Zoe Park", "East")
    app.switch_page("pages/team.py").run()
    app.text_input(key="team.new.name").set_value(HTML_HALF)
    app.text_input(key="team.new.team").set_value(MARKDOWN_HALF)
    app.text_input(key="team.new.email").set_value(PAYLOAD)  # refused: not an address, quoted in the message
    app.button(key="FormSubmitter:team.form.add_person-Add person").click().run()
    assert any("is not an email address" in t.value for t in app.toast)
    assert_never_rendered(app)
    app.text_input(key="team.new.email").set_value("zoe.two@acme.test")
    app.button(key="FormSubmitter:team.form.add_person-Add person").click().run()
    assert any(t.value.startswith("Added ") for t in app.toast)
    assert_never_rendered(app)


def test_sign_in_page_an_email_on_no_team() -> None:
    at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "app.py"), default_timeout=30)
    at.secrets["auth"] = {"client_id": "backplan", "redirect_uri": "http://localhost:8501/oauth2callback"}
    at.user = signed_in(PAYLOAD)
    at.run()
    assert "not on a Backplan team yet" in at.warning[0].value
    assert_never_rendered(at)


# --------------------------------------------------------------------------- a plan's currency
# A currency never offered is refused on the page and by the store (tests/test_app_plan_saved.py, test_store.py).


@pytest.mark.parametrize("page", ["pages/track.py", "pages/team.py", "pages/plan.py"])
def test_a_currency_stored_before_it_was_checked_shows_as_text(app: AppTest, database: Path, page: str) -> None:
    """A database written before the check may hold any text as a plan's currency: no page renders it."""
    from planner.funnel import PlanInputs
    from planner.milestones import WeekActual

    today = date.today()
    start = today.replace(day=1)
    with open_store(database) as con:
        rep = store.add_rep(con, SYSTEM, "Zoe Park", "East")
        plan = store.save_plan(con, SYSTEM, rep, "Q1", PlanInputs(100_000, 5_000, start, start.replace(day=28)))
        store.save_actuals(con, SYSTEM, plan, [WeekActual(start, 1_000.0, 1, {})])
        con.execute("UPDATE plans SET currency = ?", [PAYLOAD])
    if page == "pages/plan.py":
        app.run()
        app.selectbox(key="plan.pick").set_value(plan).run()
        app.button(key="btn.plan_open").click().run()
    app.switch_page(page).run()
    assert_never_rendered(app)
