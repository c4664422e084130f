"""Saving, reopening, duplicating and deleting plans from the Plan page."""

from __future__ import annotations

from datetime import date

import pytest
from streamlit.testing.v1 import AppTest

from planner import store
from planner.access import SYSTEM
from planner.demo import demo_email, demo_team
from planner.funnel import PlanInputs
from tests.conftest import AUTH, ROOT, box, forge, metric, open_saved_plan, open_store, rename_stage, signed_in, slider


def save_new(app: AppTest, rep: str, name: str) -> AppTest:
    app.text_input(key="plan.new_rep").set_value(rep)
    app.text_input(key="plan.name").set_value(name)
    return app.button(key="btn.plan_save").click().run()


def test_a_saved_plan_reopens_exactly_as_saved(app: AppTest, database) -> None:
    box(app, "Revenue target").set_value(770_000).run()
    rename_stage(app, "Connection requests", "Cold calls")
    app.selectbox(key="plan.currency").set_value("EUR").run()
    app.selectbox(key="plan.milestone_shape").set_value("back-loaded").run()
    save_new(app, "Zoe Park", "FY 2027")
    assert not app.exception
    assert not [e for e in app.error]
    saved_id = app.session_state["plan.loaded_id"]
    assert saved_id is not None

    app.button(key="btn.plan_new").click().run()  # a fresh default plan
    assert box(app, "Revenue target").value == 385_000
    app.selectbox(key="plan.pick").set_value(saved_id).run()
    app.button(key="btn.plan_open").click().run()
    assert box(app, "Revenue target").value == 770_000
    assert app.selectbox(key="plan.currency").value == "EUR"
    assert app.selectbox(key="plan.milestone_shape").value == "back-loaded"
    assert "Cold calls" in [m.label for m in app.metric]
    assert metric(app, "Deals needed") == "200"

    with open_store(database) as con:
        assert [p.name for p in store.list_plans(con)] == ["FY 2027"]


def test_saving_without_a_name_says_what_is_missing_and_writes_nothing(app: AppTest, database) -> None:
    save_new(app, "Zoe Park", "")
    assert "Give the plan a name" in app.error[0].value
    with open_store(database) as con:
        assert store.is_empty(con)


def test_a_plan_that_does_not_validate_is_not_saved(app: AppTest, database) -> None:
    box(app, "Average deal size").set_value(0).run()
    save_new(app, "Zoe Park", "Broken")
    assert any("Fix the plan first" in e.value for e in app.error)
    with open_store(database) as con:
        assert store.is_empty(con)


def test_custom_milestones_that_go_down_are_refused_and_nothing_is_saved(app: AppTest, database) -> None:
    app.selectbox(key="plan.milestone_shape").set_value("custom").run()
    app.selectbox(key="plan.cadence").set_value("monthly").run()
    app.text_input(key="plan.milestone_custom").set_value(
        "350000; 360000; 250000; 220000; 190000; 160000; 130000; 100000; 70000; 40000; 10000"
    ).run()
    # Said next to the field as soon as it is typed, and again on Save.
    assert any("is below the one before it" in e.value and "milestones never go down" in e.value for e in app.error)
    save_new(app, "Zoe Park", "Custom")
    assert any("is below the one before it" in e.value for e in app.sidebar.error)
    with open_store(database) as con:
        assert store.list_plans(con) == [] and store.list_reps(con) == []


def test_duplicate_then_delete(app: AppTest, database) -> None:
    save_new(app, "Zoe Park", "Q1")
    app.button(key="btn.plan_duplicate").click().run()
    assert app.text_input(key="plan.name").value == "Q1 (copy)"
    app.button(key="btn.plan_delete").click().run()
    assert "cannot be undone" in app.warning[-1].value
    app.button(key="btn.plan_delete_yes").click().run()
    with open_store(database) as con:
        assert [p.name for p in store.list_plans(con)] == ["Q1"]


def test_the_fifty_thousand_month_entered_backwards_is_saved_with_its_checkpoints(app: AppTest, database) -> None:
    app.selectbox(key="plan.currency").set_value("GBP").run()
    box(app, "Revenue target").set_value(50_000).run()
    app.date_input(key="plan.start").set_value(date(2026, 12, 1)).run()
    app.date_input(key="plan.end").set_value(date(2026, 12, 28)).run()
    app.selectbox(key="plan.milestone_shape").set_value("custom").run()
    app.selectbox(key="plan.cadence").set_value("weekly").run()
    app.text_input(key="plan.milestone_custom").set_value("42,000, 30,000, 20,000").run()
    save_new(app, "Priya Shah", "December")
    assert not app.error, [e.value for e in app.error]
    with open_store(database) as con:
        [plan] = store.list_plans(con)
        assert [m.cumulative for m in store.get_milestones(con, plan.id)] == [20_000, 30_000, 42_000, 50_000]


def test_a_link_to_a_plan_that_does_not_exist_says_so(app: AppTest) -> None:
    app.query_params["plan"] = "999"
    app.run()
    assert not app.exception, app.exception
    assert "That plan no longer exists" in " ".join(e.value for e in app.sidebar.error)


def test_a_new_rep_joins_a_team_so_team_review_finds_them(database) -> None:
    with open_store(database) as con:
        store.add_rep(con, SYSTEM, "Maya Brooks", "Mid-Market East", "manager")
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30).run()
    assert app.text_input(key="plan.new_rep_team").value == "Mid-Market East"  # the team on file, to start from
    save_new(app, "Zoe Park", "FY 2027")
    app.button(key="btn.plan_new").click().run()
    app.text_input(key="plan.new_rep_team").set_value("Enterprise West")
    save_new(app, "Yan Li", "FY 2027")
    assert not app.exception and not app.sidebar.error, [e.value for e in app.sidebar.error]
    with open_store(database) as con:
        teams = {r.name: r.team for r in store.list_reps(con)}
    assert (teams["Zoe Park"], teams["Yan Li"]) == ("Mid-Market East", "Enterprise West")
    app.switch_page("pages/team.py").run()
    app.selectbox(key="team.name").set_value("Mid-Market East").run()
    assert "Zoe Park" in next(d.value for d in app.dataframe if "Pipeline in period" in d.value.columns)["Rep"].tolist()


# --------------------------------------------------------------------------- two people, one plan


def session_of(email: str) -> AppTest:
    """A session with sign-in on, signed in as ``email``, on the Plan page."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    at.secrets["auth"] = AUTH
    at.user = signed_in(email)
    at.run()
    assert not at.exception, at.exception
    return at


def sidebar_text(at: AppTest) -> str:
    return " ".join(e.value for kind in ("error", "warning", "markdown") for e in at.sidebar.get(kind))


def test_a_save_from_an_older_copy_of_the_plan_is_refused_with_who_changed_what(database) -> None:
    with open_store(database) as con:
        store.load_team(con, SYSTEM, demo_team(date.today()))
        ana_plan = next(p.id for p in store.list_plans(con) if p.rep_name == "Ana Lima")
    manager, rep = session_of(demo_email("Maya Brooks")), session_of(demo_email("Ana Lima"))
    open_saved_plan(manager, ana_plan)
    open_saved_plan(rep, ana_plan)  # both have the plan as it is now: a $180,000 target

    box(manager, "Revenue target").set_value(444_000).run()
    manager.button(key="btn.plan_save").click().run()
    assert not manager.sidebar.error, sidebar_text(manager)

    rename_stage(rep, "Meetings", "Discovery calls")
    rep.button(key="btn.plan_save").click().run()
    refusal = sidebar_text(rep)
    assert "changed by Maya Brooks" in refusal and "not applied" in refusal
    assert "$180,000" in refusal and "$444,000" in refusal  # the field that differs: hers, and what is there now
    with open_store(database) as con:
        saved = store.get_plan(con, ana_plan)
        assert saved.inputs.target == 444_000
        assert [s.name for s in saved.inputs.stages][1] == "Meetings"

    # A way forward: load the plan as it is now, and make the change again.
    rep.button(key="btn.plan_conflict_load").click().run()
    assert box(rep, "Revenue target").value == 444_000
    rename_stage(rep, "Meetings", "Discovery calls")
    rep.button(key="btn.plan_save").click().run()
    assert "not applied" not in sidebar_text(rep)
    with open_store(database) as con:
        saved = store.get_plan(con, ana_plan)
        assert (saved.inputs.target, saved.inputs.stages[1].name) == (444_000, "Discovery calls")


def test_a_refused_save_can_be_kept_as_a_new_plan_or_saved_over_the_other_deliberately(app: AppTest, database) -> None:
    save_new(app, "Zoe Park", "Q1")
    plan_id = app.session_state["plan.loaded_id"]
    other = open_saved_plan(AppTest.from_file(str(ROOT / "app.py"), default_timeout=30).run(), plan_id)
    box(other, "Revenue target").set_value(444_000).run()
    other.button(key="btn.plan_save").click().run()

    box(app, "Average deal size").set_value(5_000).run()
    app.button(key="btn.plan_save").click().run()
    assert "changed in another session" in sidebar_text(app)

    app.button(key="btn.plan_conflict_new").click().run()
    with open_store(database) as con:
        plans = {p.name: store.get_plan(con, p.id) for p in store.list_plans(con)}
    assert plans["Q1"].inputs.target == 444_000
    assert plans["Q1 (my version)"].inputs.deal_size == 5_000 and plans["Q1 (my version)"].inputs.target == 385_000

    box(other, "Average deal size").set_value(4_000).run()
    other.button(key="btn.plan_save").click().run()  # "Q1" again: saved over its own latest version
    assert "not applied" not in sidebar_text(other)
    open_saved_plan(app, plan_id)
    box(other, "Revenue target").set_value(500_000).run()
    other.button(key="btn.plan_save").click().run()
    box(app, "Revenue target").set_value(300_000).run()
    app.button(key="btn.plan_save").click().run()
    app.button(key="btn.plan_conflict_over").click().run()
    with open_store(database) as con:
        assert store.get_plan(con, plan_id).inputs.target == 300_000


def test_a_saved_coverage_reopens_exactly_not_to_the_sliders_step(app: AppTest, database) -> None:
    from dataclasses import replace

    from ui.session import plan_defaults  # the example plan, as the page starts

    defaults = plan_defaults(date.today())
    with open_store(database) as con:
        inputs = PlanInputs(385_000, 3_850, defaults["plan.start"], defaults["plan.end"])
        plan_id = store.save_plan(con, SYSTEM, "Zoe Park", "Exact", replace(inputs, coverage_ratio=1.58))
    app.run()
    app.selectbox(key="plan.pick").set_value(plan_id).run()
    app.button(key="btn.plan_open").click().run()
    assert app.session_state["plan.coverage"] == 1.58  # not 1.5, the slider's nearest half step
    assert box(app, "Pipeline coverage").value == 1.58
    assert slider(app, "Drag to change the pipeline coverage").value == 1.5


@pytest.mark.parametrize(
    ("key", "forged"),
    [
        ("plan.currency", "[Pay here](https://evil.test/)"),  # rendered as a live link on the manager's Track page
        ("plan.milestone_shape", "<b>zigzag</b>"),
        ("plan.cadence", "hourly"),
        ("plan.confidence", "0.999"),
    ],
)
def test_a_choice_the_page_never_offered_is_refused_and_nothing_is_saved(
    app: AppTest, database, key: str, forged: str
) -> None:
    # A browser can send any text for a select box; Streamlit passes it to the callbacks of that run.
    app.text_input(key="plan.new_rep").set_value("Zoe Park")
    app.text_input(key="plan.name").set_value("Forged")
    widget = app.radio(key=key) if key == "plan.confidence" else app.selectbox(key=key)
    forge(widget, forged)
    app.button(key="btn.plan_save").click().run()
    assert not app.exception
    said = " ".join(e.value for e in app.sidebar.error)
    assert "not one Backplan offers" in said or "Plan for the expected case" in said
    with open_store(database) as con:
        assert store.list_plans(con) == [] and store.list_reps(con) == []
