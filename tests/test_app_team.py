"""The Team review page under AppTest: the review, its rule, snapshots compared, and opening a rep on Track."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from planner import store
from tests.conftest import metric, open_store


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
