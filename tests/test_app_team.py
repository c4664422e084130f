"""The Team review page under AppTest: the review, its rule, snapshots compared, and opening a rep on Track."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from planner import store
from planner.access import SYSTEM
from planner.demo import demo_snapshots
from planner.funnel import PlanInputs, Stage
from planner.milestones import WeekActual
from tests.conftest import ROOT, edit_cells, metric, open_store


@pytest.fixture
def team_page(app: AppTest) -> AppTest:
    app.switch_page("pages/team.py").run()
    assert not app.exception, app.exception
    return app


@pytest.fixture
def demo(team_page: AppTest) -> AppTest:
    team_page.button(key="btn.team_load_demo").click().run()
    assert not team_page.exception, team_page.exception
    return team_page


def review_rows(at: AppTest):
    return next(d.value for d in at.dataframe if "Pipeline in period" in d.value.columns)


def test_an_empty_database_offers_the_demo_team(team_page: AppTest) -> None:
    assert "No teams yet" in team_page.info[0].value
    assert not team_page.metric


def test_the_review_lists_reps_worst_first_under_the_team_totals(demo: AppTest) -> None:
    rows = review_rows(demo)
    assert rows["Rep"].tolist()[0] == "Whole team"
    statuses = rows["Status"].tolist()[1:]
    order = {"off track": 0, "at risk": 1, "on track": 2}
    assert statuses == sorted(statuses, key=order.get)
    assert set(statuses) == {"off track", "at risk", "on track"}
    assert "Maya Brooks" not in rows["Rep"].tolist()  # the manager is not reviewed as a rep
    assert metric(demo, "Booked").startswith("$")
    assert any("**On track**" in c.value for c in demo.caption)  # the rule is on the page
    assert demo.selectbox(key="team.name").value == "Mid-Market East"


def test_two_snapshots_give_the_waterfall_and_the_slipped_deals(demo: AppTest) -> None:
    assert len(demo.get("plotly_chart")) == 3  # team burn-up, forecast vs actual, and the waterfall
    waterfall = json.loads(demo.get("plotly_chart")[2].proto.spec)["data"][0]
    assert waterfall["type"] == "waterfall"
    assert 0 not in waterfall["y"][1:-1]  # a cause that moved nothing has no "+$0" bar; the caption names it
    slipped = next(d.value for d in demo.dataframe if "Times slipped before" in d.value.columns)
    assert len(slipped) > 0
    assert slipped["Times slipped before"].tolist() == sorted(slipped["Times slipped before"], reverse=True)
    dates = demo.selectbox(key="team.from_snapshot").options
    demo.selectbox(key="team.from_snapshot").set_value(demo.selectbox(key="team.from_snapshot").value).run()
    assert len(dates) >= 2
    assert not demo.exception


def test_an_earlier_as_of_date_uses_the_snapshot_of_that_day(demo: AppTest, database) -> None:
    with open_store(database) as con:
        oldest = store.list_snapshots(con, "Mid-Market East")[-1].snapshot_date
    demo.date_input(key="team.as_of").set_value(oldest).run()
    assert any(f"snapshot of {oldest:%d %b %Y}" in c.value for c in demo.caption)


def test_clicking_a_rep_opens_their_plan_on_track(demo: AppTest) -> None:
    first_rep = review_rows(demo)["Rep"].tolist()[1]
    demo.session_state["team.open_track"] = demo.session_state["team.shown_plans"][0]  # what selecting row 1 does
    demo.run()
    assert not demo.exception
    assert demo.title[0].value == "Track actuals against the plan"
    assert demo.selectbox(key="track.rep").value == first_rep


def test_sales_ops_add_a_person_before_they_have_a_plan(demo: AppTest, database) -> None:
    demo.text_input(key="team.new.name").set_value("Nia Okafor")
    demo.text_input(key="team.new.team").set_value("Mid-Market East")
    demo.selectbox(key="team.new.role").set_value("rep")
    demo.text_input(key="team.new.email").set_value("Nia@Acme.test")
    demo.button(key="FormSubmitter:team.form.add_person-Add person").click().run()
    assert not demo.exception, demo.exception
    assert "Added Nia Okafor." in [t.value for t in demo.toast]
    assert demo.text_input(key="team.new.name").value == ""
    with open_store(database) as con:
        assert [(r.team, r.role, r.email) for r in store.list_reps(con) if r.name == "Nia Okafor"] == [
            ("Mid-Market East", "rep", "nia@acme.test")
        ]


def test_a_person_with_an_email_already_in_use_is_refused_and_the_form_kept(demo: AppTest, database) -> None:
    demo.text_input(key="team.new.name").set_value("Ana Again")
    demo.text_input(key="team.new.email").set_value("ana.lima@demo.backplan.test")
    demo.button(key="FormSubmitter:team.form.add_person-Add person").click().run()
    assert any("already Ana Lima's sign-in" in t.value for t in demo.toast)
    assert demo.text_input(key="team.new.name").value == "Ana Again"  # kept, to be fixed
    with open_store(database) as con:
        assert "Ana Again" not in [r.name for r in store.list_reps(con)]


# --------------------------------------------------------------------------- Teams and roles


def people(database) -> dict[str, tuple[str, str, str]]:
    """Everyone on file: name → (team, role, email)."""
    with open_store(database) as con:
        return {r.name: (r.team, r.role, r.email) for r in store.list_reps(con)}


@pytest.fixture
def three(database, team_page: AppTest) -> AppTest:
    """Ana and Ben in East, Cy in West, listed in that order in Teams and roles."""
    with open_store(database) as con:
        for name, team in (("Ana Lima", "East"), ("Ben Carter", "East"), ("Cy Ode", "West")):
            store.add_rep(con, SYSTEM, name, team)
    team_page.run()
    assert team_page.data_editor[0].value["Name"].tolist() == ["Ana Lima", "Ben Carter", "Cy Ode"]
    return team_page


def test_an_edit_after_the_list_re_sorts_changes_only_the_person_edited(three: AppTest, database) -> None:
    edit_cells(three, {0: {"Team": "Zulu"}})  # Ana moves to Zulu: the list re-sorts, Ana last
    assert three.data_editor[0].value["Name"].tolist() == ["Ben Carter", "Cy Ode", "Ana Lima"]
    edit_cells(three, {0: {"Sign-in email": "ben@acme.test"}})  # then Ben, now first, gets an email
    assert not three.exception, three.exception
    assert people(database) == {
        "Ana Lima": ("Zulu", "rep", ""),
        "Ben Carter": ("East", "rep", "ben@acme.test"),  # not moved to Zulu with Ana's old edit
        "Cy Ode": ("West", "rep", ""),
    }
    assert three.data_editor[0].value["Sign-in email"].tolist() == ["ben@acme.test", "", ""]  # re-read after save


def test_a_stale_edit_is_refused_naming_who_changed_it_when_and_what_is_saved(three: AppTest, database) -> None:
    other = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30).run()
    other.switch_page("pages/team.py").run()
    edit_cells(other, {0: {"Team": "North"}})  # another session moves Ana first
    edit_cells(three, {0: {"Team": "South"}})  # this one still shows her in East
    assert people(database)["Ana Lima"][0] == "North"  # the newer change stands
    assert people(database)["Ben Carter"][0] == "East"  # and the edit did not land on whoever is now row 0
    said = " ".join(e.value for e in three.error)
    assert "Ana Lima was changed by this computer's user at" in said and "now team North" in said
    assert "Your change was not saved" in said
    assert three.data_editor[0].value.set_index("Name").loc["Ana Lima", "Team"] == "North"  # shown as saved now


def test_a_role_outside_the_list_is_refused_and_nothing_changes(three: AppTest, database) -> None:
    before = people(database)
    edit_cells(three, {1: {"Role": "admin", "Team": "Zulu"}})
    assert "A role is one of rep, manager, ops" in " ".join(e.value for e in three.error)
    assert people(database) == before


def test_sales_ops_remove_a_person_after_a_confirmation_naming_how_many(demo: AppTest, database) -> None:
    with open_store(database) as con:
        ben = next(r.id for r in store.list_reps(con) if r.name == "Ben Carter")
        # This quarter's plan and last quarter's, each with its weeks.
        weeks = sum(len(store.get_actuals(con, plan.id)) for plan in store.list_plans(con, ben))
    demo.selectbox(key="team.remove_pick").set_value(ben)
    demo.button(key="btn.team_remove").click().run()
    assert any(f"Remove Ben Carter with their 2 plans and {weeks} weeks of actuals?" in w.value for w in demo.warning)
    with open_store(database) as con:
        assert store.list_plans(con, ben)  # nothing gone before "Yes"
    demo.button(key="btn.team_remove_yes").click().run()
    assert not demo.exception, demo.exception
    assert f"Removed Ben Carter with their 2 plans and {weeks} weeks of actuals." in [s.value for s in demo.success]
    with open_store(database) as con:
        assert "Ben Carter" not in [r.name for r in store.list_reps(con)]
        assert store.list_plans(con, ben) == []
        # Gone for good, not only hidden: the plan's row and its weeks of actuals are purged.
        assert con.execute("SELECT count(*) FROM plans WHERE rep_id = ?", [ben]).fetchone()[0] == 0
        assert con.execute("SELECT count(*) FROM actuals").fetchone()[0] > 0  # everyone else's stay


def test_the_demo_team_loads_beside_a_teams_own_reps_into_its_own_team_and_goes_in_one_click(
    team_page: AppTest, database
) -> None:
    with open_store(database) as con:
        real = store.add_rep(con, SYSTEM, "Ana Lima", "Mid-Market East")  # a real Ana, in a team the demo uses
        store.save_plan(
            con, SYSTEM, real, "Her real plan", PlanInputs(100_000, 5_000, date(2026, 1, 1), date(2026, 3, 31))
        )
    team_page.run()
    team_page.button(key="btn.team_load_demo_any").click().run()
    assert not team_page.exception, team_page.exception
    with open_store(database) as con:
        reps = {r.name: (r.team, r.demo) for r in store.list_reps(con)}
        assert reps["Ana Lima"] == ("Mid-Market East", False)  # the real one, untouched
        assert reps["Ana Lima (demo)"] == ("Mid-Market East (demo)", True)
        assert {team for team, demo in reps.values() if demo} == {"Mid-Market East (demo)"}
        assert [r.rep_name for r in store.list_plans(con) if r.name == "Her real plan"] == ["Ana Lima"]
    assert "Mid-Market East (demo)" in team_page.selectbox(key="team.name").options[0] or any(
        "Mid-Market East (demo)" in o for o in team_page.selectbox(key="team.name").options
    )

    team_page.button(key="btn.team_remove_demo").click().run()
    assert not team_page.exception, team_page.exception
    # This quarter's plans and last quarter's, and a snapshot each Monday of both.
    assert any("Removed the demo team: 5 people, 8 plans, 17 pipeline snapshots." in t.value for t in team_page.toast)
    with open_store(database) as con:
        assert [(r.name, r.team) for r in store.list_reps(con)] == [("Ana Lima", "Mid-Market East")]
        assert [p.name for p in store.list_plans(con)] == ["Her real plan"]
        assert store.list_snapshots(con) == []
        # Its profile and recorded projections go with it: no real team's forecast can fall back on them.
        assert store.list_profiles(con) == [] and store.list_projections(con, "Mid-Market East (demo)") == {}


# --------------------------------------------------------------------------- one currency, any name, any size

START, END = date(2026, 10, 5), date(2026, 12, 27)
INPUTS = PlanInputs(100_000, 5_000, START, END, stages=(Stage("Meetings", 2.0, 0),))
WEEKS = [START + timedelta(weeks=k) for k in range(6)]


def team_of(database, plans: list[tuple[str, str, float]], team: str = "Europe") -> dict[str, int]:
    """Reps of ``team`` with a plan each: (name, currency, revenue booked every week); their plan ids by name."""
    ids = {}
    with open_store(database) as con:
        for name, currency, weekly in plans:
            rep = store.add_rep(con, SYSTEM, name, team)
            ids[name] = store.save_plan(con, SYSTEM, rep, "Q4", INPUTS, currency=currency)
            store.save_actuals(con, SYSTEM, ids[name], [WeekActual(w, weekly, 1, {}) for w in WEEKS])
    return ids


def review_of(app: AppTest) -> AppTest:
    app.session_state["team.as_of"] = date(2026, 11, 16)
    app.switch_page("pages/team.py").run()
    assert not app.exception, app.exception
    return app


def test_a_team_in_three_currencies_is_added_up_in_one_once_sales_ops_set_the_rates(app: AppTest, database) -> None:
    team_of(
        database, [("Eva", "EUR", 1_000.0), ("Elle", "EUR", 1_000.0), ("Uma", "USD", 2_000.0), ("Gus", "GBP", 4_000.0)]
    )
    at = review_of(app)
    # Without rates nothing is added across currencies: the euro plans (most of them) alone, the others named.
    assert metric(at, "Booked") == "€12,000"
    warned = [w.value for w in at.warning if "No exchange rate" in w.value]
    assert len(warned) == 1 and "GBP or USD to EUR" in warned[0] and "(Gus, Uma)" in warned[0]
    assert set(review_rows(at)["Rep"]) == {"Whole team", "Eva", "Elle"}

    for one, to, rate in (("GBP", "EUR", 1.2), ("EUR", "USD", 1.1)):  # the second entered the other way round
        at.selectbox(key="team.rate.from").set_value(one)
        at.selectbox(key="team.rate.to").set_value(to)
        at.number_input(key="team.rate.value").set_value(rate)
        at.button(key="FormSubmitter:team.form.rate-Save rate").click().run()
        assert not at.exception, at.exception
    assert not [w for w in at.warning if "No exchange rate" in w.value]
    booked = 6 * (1_000 + 1_000 + 2_000 / 1.1 + 4_000 * 1.2)
    assert metric(at, "Booked") == f"€{booked:,.0f}"
    assert set(review_rows(at)["Rep"]) == {"Whole team", "Eva", "Elle", "Uma", "Gus"}
    at.selectbox(key="team.currency").set_value("USD").run()  # no GBP rate to USD: never guessed through EUR
    assert metric(at, "Booked") == f"${6 * (1_000 * 1.1 * 2 + 2_000):,.0f}"
    assert any("No exchange rate from GBP to USD" in w.value and "(Gus)" in w.value for w in at.warning)


def test_a_rate_is_refused_in_words_and_nothing_is_stored(app: AppTest, database) -> None:
    team_of(database, [("Eva", "EUR", 1_000.0)])
    at = review_of(app)
    at.selectbox(key="team.rate.from").set_value("EUR")
    at.selectbox(key="team.rate.to").set_value("EUR")
    at.button(key="FormSubmitter:team.form.rate-Save rate").click().run()
    assert any("two currencies" in t.value for t in at.toast)
    with open_store(database) as con:
        assert store.list_rates(con) == []


def test_a_rep_called_team_has_a_line_of_their_own_on_the_chart(app: AppTest, database) -> None:
    team_of(database, [("Team", "USD", 1_000.0), ("Ana", "USD", 2_000.0)])
    at = review_of(app)
    chart = json.loads(at.get("plotly_chart")[0].proto.spec)
    lines = {
        trace["name"]: trace["y"][-1]
        for trace in chart["data"]
        if trace["name"] not in ("Team target", "Team milestones")
    }
    assert lines == {"Whole team": 18_000.0, "Team": 6_000.0, "Ana": 12_000.0}
    assert review_rows(at)["Rep"].tolist() == ["Whole team", "Team", "Ana"]  # the rep's row is theirs too
    assert any(c.value.startswith("2 reps ·") for c in at.caption)


def test_one_rep_is_one_rep(app: AppTest, database) -> None:
    team_of(database, [("Ana", "USD", 2_000.0)])
    at = review_of(app)
    assert any(c.value.startswith("1 rep ·") for c in at.caption)
    assert any("the team (1 rep)" in c.value for c in at.caption)


def test_a_big_team_is_listed_a_page_at_a_time_and_charted_worst_first(app: AppTest, database) -> None:
    ids = team_of(database, [(f"Rep {i:03d}", "USD", 100.0 * i) for i in range(120)])
    at = review_of(app)
    rows = review_rows(at)
    assert len(rows) == 51 and rows["Rep"].iloc[0] == "Whole team"  # the team, then 50 reps
    assert rows["Rep"].iloc[1] == "Rep 000"  # furthest behind first
    assert at.number_input(key="team.page").max == 3
    assert at.multiselect(key="team.burnup_reps").value == [ids[f"Rep {i:03d}"] for i in range(5)]
    at.number_input(key="team.page").set_value(3).run()
    assert review_rows(at)["Rep"].tolist()[1:] == [f"Rep {i:03d}" for i in range(100, 120)]
    at.session_state["team.open_track"] = at.session_state["team.shown_plans"][-1]  # clicking the last row
    at.run()
    assert at.selectbox(key="track.rep").value == "Rep 119"


def test_every_change_is_listed_in_words_and_late_deals_are_flagged(demo: AppTest) -> None:
    changes = next(d.value for d in demo.dataframe if "What changed" in d.value.columns)
    assert "Stage now" in changes.columns and not [c for c in changes.columns if "_" in c]
    late = [w.value for w in demo.warning if "close date already past" in w.value]
    latest = demo_snapshots(date.today())[-1][1]
    overdue = latest[(latest["outcome"] == "open") & (latest["close_date"] < pd.Timestamp(date.today()))]
    assert late == [] if overdue.empty else len(late) == 1 and f"{len(overdue)} open deal" in late[0]


# --------------------------------------------------------------------------- will we hit it? (issue 17)


def forecast_of(database) -> tuple:
    """The demo team's forecast as the store and planner give it today: (outlook, accuracy)."""
    from planner.calibrate import Calibration
    from planner.forecast import forecast_accuracy, period_actuals, team_outlook
    from planner.team import team_rollup

    with open_store(database) as con:
        sources = store.forecast_sources(con, "Mid-Market East", date.today())
        rollup = team_rollup(store.review_inputs(con, "Mid-Market East", date.today()), date.today(),
                             sources.pipeline, None, {})  # fmt: skip
    outlook = team_outlook("Mid-Market East", rollup.view, rollup.review, sources.pipeline,
                           Calibration.from_dict(sources.profile_result), history=sources.history,
                           slips=sources.slips, profile_name=sources.profile.name,
                           profile_plans=sources.profile_plans, plans=sources.plans)  # fmt: skip
    accuracy = forecast_accuracy(sources.projections["USD"], period_actuals(sources.finished, "USD", {}))
    return outlook, accuracy


def test_the_review_says_the_range_the_chance_and_each_reps_range(demo: AppTest, database) -> None:
    outlook, accuracy = forecast_of(database)
    team = outlook.forecast.base.team
    assert "Will we hit it?" in [h.value for h in demo.subheader]
    assert metric(demo, "Forecast (P50)") == f"${team.p50:,.0f}"
    assert metric(demo, "Chance of hitting") == f"{team.chance_of_hitting:.0%}"
    rows = review_rows(demo).set_index("Rep")
    assert rows.loc["Ana Lima", "Chance %"] == round(outlook.forecast.base.row("Ana Lima").chance_of_hitting * 100)
    assert "–" in rows.loc["Whole team", "P10–P90"]
    # The headline card shows the method that was most accurate last quarter, and its figure.
    card = next(m for m in demo.metric if m.label == "Projection")
    assert card.delta == accuracy.best_method
    assert card.value == f"${outlook.projection(accuracy.best_method):,.0f}"
    assert any("What this forecast assumes" in e.label for e in demo.expander)


def test_without_the_largest_deals_the_range_falls_the_deals_are_named_and_the_recovery_asks_more(
    demo: AppTest, database
) -> None:
    outlook, _ = forecast_of(database)
    before = metric(demo, "Forecast (P50)")
    demo.segmented_control(key="team.without_top").set_value(1).run()
    assert not demo.exception
    [removed] = outlook.forecast.without_top(1).removed
    assert any(c.value.startswith(f"Left out: {removed} (") for c in demo.caption)
    assert metric(demo, "Forecast (P50)") == f"${outlook.forecast.without_top(1).team.p50:,.0f}"
    assert float(metric(demo, "Forecast (P50)")[1:].replace(",", "")) <= float(before[1:].replace(",", ""))
    asks = next(d.value for d in demo.dataframe if "Left after the pipeline" in d.value.columns)
    assert (asks["Left after the pipeline"] >= asks["With every deal"]).all() and len(asks) == 1
    demo.segmented_control(key="team.without_top").set_value(3).run()
    assert any(c.value.startswith("Left out: ") and c.value.count(";") == 2 for c in demo.caption)


def test_categories_and_last_quarters_accuracy_are_on_the_review(demo: AppTest, database) -> None:
    _, accuracy = forecast_of(database)
    categories = next(d.value for d in demo.dataframe if "Commit − P50" in d.value.columns)
    assert categories["Rep"].tolist()[0] == "Team"
    assert (categories["Best case"] >= categories["Commit"]).all()
    table = next(d.value for d in demo.dataframe if "Error % (MAPE)" in d.value.columns)
    team_rows = table[table["Rep"] == "Team"]
    assert team_rows["Method"].tolist() == ["run-rate", "pipeline-weighted", "P50", "commit"]
    assert any(f"**{accuracy.best_method}** has been the most accurate" in c.value for c in demo.caption)


def test_without_a_profile_the_review_says_what_is_missing_and_how_to_get_it(team_page: AppTest, database) -> None:
    inputs = PlanInputs(100_000, 5_000, date.today() - timedelta(days=30), date.today() + timedelta(days=60))
    with open_store(database) as con:
        store.save_plan(con, SYSTEM, store.add_rep(con, SYSTEM, "Ana", "East"), "Now", inputs)
        store.save_snapshot(con, SYSTEM, "East", date.today(), demo_snapshots(date.today())[-1][1].assign(owner="Ana"))
    team_page.run()
    info = " ".join(i.value for i in team_page.info)
    assert "No forecast range yet" in info and "Calibrate page" in info
    assert metric(team_page, "Projection").startswith("$")  # the review's own projection stands in
    assert next(m for m in team_page.metric if m.label == "Projection").delta == "pipeline-weighted"
