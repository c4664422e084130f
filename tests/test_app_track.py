"""The Track page under AppTest: demo data, metrics, the recovery plan."""

from __future__ import annotations

from datetime import date, timedelta

from streamlit.testing.v1 import AppTest

from planner import store
from planner.access import SYSTEM
from planner.demo import demo_team, quarter_of
from tests.conftest import metric, open_store


def open_track(app: AppTest) -> AppTest:
    app.switch_page("pages/track.py").run()
    assert not app.exception, app.exception
    return app


def test_an_empty_database_offers_demo_data(app: AppTest) -> None:
    open_track(app)
    assert "no saved plans yet" in app.info[0].value
    app.button(key="btn.load_demo").click().run()
    assert not app.exception
    assert app.selectbox(key="track.rep").options == ["Ana Lima", "Ben Carter", "Chloe Nguyen", "Dev Patel"]
    assert metric(app, "Booked").startswith("$")
    assert len(app.get("plotly_chart")) == 1  # the burn-up


def load_demo(database) -> list[int]:
    with open_store(database) as con:
        return store.load_team(con, SYSTEM, demo_team(date.today()))


def test_a_rep_far_behind_sees_how_far_and_what_it_now_takes(app: AppTest, database) -> None:
    load_demo(database)
    open_track(app)
    app.selectbox(key="track.rep").select("Dev Patel").run()
    labels = [m.label for m in app.metric]
    if "Behind the milestone" not in labels:  # very early in a quarter no milestone is due yet
        assert "Against the milestone" in labels
        return
    required = metric(app, "Required per week")
    assert required.startswith("$")
    recovery = app.dataframe[-1].value
    assert recovery["Stage"].tolist() == ["Connection requests", "Meetings", "Qualified prospects", "Deals won"]


def test_moving_as_of_to_the_quarters_last_days_says_new_activity_is_too_late(app: AppTest, database) -> None:
    load_demo(database)
    open_track(app)
    _, end, _ = quarter_of(date.today())
    app.date_input(key="track.as_of").set_value(end - timedelta(days=10)).run()
    assert not app.exception
    warnings = " ".join(w.value for w in app.warning)
    if metric(app, "Of target") != "100%":
        assert "cannot close before" in warnings
        assert "must come from pipeline that already exists" in warnings


def test_as_of_changes_what_is_booked(app: AppTest, database) -> None:
    load_demo(database)
    open_track(app)
    before = metric(app, "Booked")
    start, _, _ = quarter_of(date.today())
    app.date_input(key="track.as_of").set_value(start).run()
    assert metric(app, "Of target") in ("0%", before) or metric(app, "Booked") != before


def test_a_period_that_has_ended_says_how_it_finished(app: AppTest, database) -> None:
    load_demo(database)
    open_track(app)
    _, end, _ = quarter_of(date.today())
    app.date_input(key="track.as_of").set_value(end + timedelta(days=30)).run()
    assert not app.exception
    finished = " ".join(i.value for i in app.info) + " ".join(s.value for s in app.success)
    assert f"The period ended on {end:%d %b %Y}" in finished or "The target is booked" in finished
    assert not any("cannot close before" in w.value for w in app.warning)
