"""Saving, reopening, duplicating and deleting plans from the Plan page."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from planner import store
from tests.conftest import metric, open_store


def save_new(app: AppTest, rep: str, name: str) -> AppTest:
    app.text_input(key="plan.new_rep").set_value(rep)
    app.text_input(key="plan.name").set_value(name)
    return app.button(key="btn.plan_save").click().run()


def test_a_saved_plan_reopens_exactly_as_saved(app: AppTest, database) -> None:
    app.number_input(key="plan.target").set_value(770_000).run()
    app.text_input(key="plan.stage.0.name").set_value("Cold calls").run()
    app.selectbox(key="plan.currency").set_value("EUR").run()
    app.selectbox(key="plan.milestone_shape").set_value("back-loaded").run()
    save_new(app, "Zoe Park", "FY 2027")
    assert not app.exception
    assert not [e for e in app.error]
    saved_id = app.session_state["plan.loaded_id"]
    assert saved_id is not None

    app.button(key="btn.plan_new").click().run()  # a fresh default plan
    assert app.number_input(key="plan.target").value == 385_000
    app.selectbox(key="plan.pick").set_value(saved_id).run()
    app.button(key="btn.plan_open").click().run()
    assert app.number_input(key="plan.target").value == 770_000
    assert app.selectbox(key="plan.currency").value == "EUR"
    assert app.selectbox(key="plan.milestone_shape").value == "back-loaded"
    assert "Cold calls / week" in [m.label for m in app.metric]
    assert metric(app, "Deals needed") == "200"

    with open_store(database) as con:
        assert [p.name for p in store.list_plans(con)] == ["FY 2027"]


def test_saving_without_a_name_says_what_is_missing_and_writes_nothing(app: AppTest, database) -> None:
    save_new(app, "Zoe Park", "")
    assert "Give the plan a name" in app.error[0].value
    with open_store(database) as con:
        assert store.is_empty(con)


def test_a_plan_that_does_not_validate_is_not_saved(app: AppTest, database) -> None:
    app.number_input(key="plan.deal_size").set_value(0).run()
    save_new(app, "Zoe Park", "Broken")
    assert any("Fix the plan first" in e.value for e in app.error)
    with open_store(database) as con:
        assert store.is_empty(con)


def test_custom_milestones_are_checked_before_anything_is_saved(app: AppTest, database) -> None:
    app.selectbox(key="plan.milestone_shape").set_value("custom").run()
    app.selectbox(key="plan.cadence").set_value("monthly").run()
    app.text_input(key="plan.milestone_custom").set_value("350000, 300000").run()
    save_new(app, "Zoe Park", "Custom")
    # Twelve monthly checkpoints: the amounts with 3 to 11 months to go are still missing.
    # (The page escapes the message for Markdown: a \( shows as "(".)
    assert any("with 3, 4, 5, 6, 7, 8, 9, 10, 11 month(s) to go" in e.value.replace("\\", "") for e in app.error)
    app.text_input(key="plan.milestone_custom").set_value(
        "350000, 360000, 250000, 220000, 190000, 160000, 130000, 100000, 70000, 40000, 10000"
    ).run()
    app.button(key="btn.plan_save").click().run()
    assert any("is below the one before it" in e.value and "milestones never go down" in e.value for e in app.error)
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
    from datetime import date

    app.selectbox(key="plan.currency").set_value("GBP").run()
    app.number_input(key="plan.target").set_value(50_000).run()
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


# --------------------------------------------------------------------------- two people, one plan

from datetime import date  # noqa: E402

from planner.demo import demo_email, demo_team  # noqa: E402
from tests.conftest import AUTH, ROOT, open_saved_plan, rename_stage, signed_in  # noqa: E402


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
        store.load_team(con, demo_team(date.today()))
        ana_plan = next(p.id for p in store.list_plans(con) if p.rep_name == "Ana Lima")
    manager, rep = session_of(demo_email("Maya Brooks")), session_of(demo_email("Ana Lima"))
    open_saved_plan(manager, ana_plan)
    open_saved_plan(rep, ana_plan)  # both have the plan as it is now: a $180,000 target

    manager.number_input(key="plan.target").set_value(444_000).run()
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
    assert rep.number_input(key="plan.target").value == 444_000
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
    other.number_input(key="plan.target").set_value(444_000).run()
    other.button(key="btn.plan_save").click().run()

    app.number_input(key="plan.deal_size").set_value(5_000).run()
    app.button(key="btn.plan_save").click().run()
    assert "changed in another session" in sidebar_text(app)

    app.button(key="btn.plan_conflict_new").click().run()
    with open_store(database) as con:
        plans = {p.name: store.get_plan(con, p.id) for p in store.list_plans(con)}
    assert plans["Q1"].inputs.target == 444_000
    assert plans["Q1 (my version)"].inputs.deal_size == 5_000 and plans["Q1 (my version)"].inputs.target == 385_000

    other.number_input(key="plan.deal_size").set_value(4_000).run()
    other.button(key="btn.plan_save").click().run()  # "Q1" again: saved over its own latest version
    assert "not applied" not in sidebar_text(other)
    open_saved_plan(app, plan_id)
    other.number_input(key="plan.target").set_value(500_000).run()
    other.button(key="btn.plan_save").click().run()
    app.number_input(key="plan.target").set_value(300_000).run()
    app.button(key="btn.plan_save").click().run()
    app.button(key="btn.plan_conflict_over").click().run()
    with open_store(database) as con:
        assert store.get_plan(con, plan_id).inputs.target == 300_000
