"""Saving, reopening, duplicating and deleting plans from the Plan page."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from planner import store
from planner.access import SYSTEM
from tests.conftest import ROOT, metric, open_store


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
