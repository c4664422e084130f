"""The Team review page under AppTest: the review, its rule, snapshots compared, and opening a rep on Track."""

from __future__ import annotations

from datetime import date

import pytest
from streamlit.testing.v1 import AppTest

from planner import store
from planner.access import SYSTEM
from planner.funnel import PlanInputs
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
    assert rows["Rep"].tolist()[0] == "Team"
    statuses = rows["Status"].tolist()[1:]
    order = {"off track": 0, "at risk": 1, "on track": 2}
    assert statuses == sorted(statuses, key=order.get)
    assert set(statuses) == {"off track", "at risk", "on track"}
    assert "Maya Brooks" not in rows["Rep"].tolist()  # the manager is not reviewed as a rep
    assert metric(demo, "Booked").startswith("$")
    assert any("**On track**" in c.value for c in demo.caption)  # the rule is on the page
    assert demo.selectbox(key="team.name").value == "Mid-Market East"


def test_two_snapshots_give_the_waterfall_and_the_slipped_deals(demo: AppTest) -> None:
    assert len(demo.get("plotly_chart")) == 2  # team burn-up and the waterfall
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
    demo.session_state["team.open_track"] = 0  # what selecting the first rep's row does
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
        weeks = len(store.get_actuals(con, store.list_plans(con, ben)[0].id))
    demo.selectbox(key="team.remove_pick").set_value(ben)
    demo.button(key="btn.team_remove").click().run()
    assert f"Remove Ben Carter with their 1 plan and {weeks} weeks of actuals?" in demo.warning[0].value
    with open_store(database) as con:
        assert store.list_plans(con, ben)  # nothing gone before "Yes"
    demo.button(key="btn.team_remove_yes").click().run()
    assert not demo.exception, demo.exception
    assert f"Removed Ben Carter with their 1 plan and {weeks} weeks of actuals." in [s.value for s in demo.success]
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
    assert any("Removed the demo team: 5 people, 4 plans, 4 pipeline snapshots." in t.value for t in team_page.toast)
    with open_store(database) as con:
        assert [(r.name, r.team) for r in store.list_reps(con)] == [("Ana Lima", "Mid-Market East")]
        assert [p.name for p in store.list_plans(con)] == ["Her real plan"]
        assert store.list_snapshots(con) == []
