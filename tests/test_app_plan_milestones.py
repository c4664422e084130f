"""The Plan page shows the milestones Save will store, as they change, and says what is wrong with them where
they are typed."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
from streamlit.testing.v1 import AppTest

from planner import store
from planner.access import SYSTEM
from planner.calibrate import calibrate_export
from tests.conftest import ROOT, box, open_store

SAMPLE = ROOT / "data" / "sample_crm_export.csv"


def milestones(at: AppTest) -> pd.DataFrame:
    """The preview table of the checkpoints Save will store."""
    tables = [d.value for d in at.dataframe if "To go" in d.value.columns]
    assert len(tables) == 1, "no milestone preview on the page"
    return tables[0]


def december(at: AppTest, last_day: int = 31) -> AppTest:
    """The £50,000 month: 1 December 2026 to ``last_day``, custom checkpoints."""
    at.selectbox(key="plan.currency").set_value("GBP").run()
    box(at, "Revenue target").set_value(50_000).run()
    at.date_input(key="plan.start").set_value(date(2026, 12, 1)).run()
    at.date_input(key="plan.end").set_value(date(2026, 12, last_day)).run()
    return at.selectbox(key="plan.milestone_shape").set_value("custom").run()


def test_the_milestones_follow_the_shape_and_the_cadence_as_they_change(app: AppTest) -> None:
    app.date_input(key="plan.start").set_value(date(2027, 1, 1)).run()
    app.date_input(key="plan.end").set_value(date(2027, 12, 31)).run()
    table = milestones(app)
    assert len(table) == 12 and table["Booked by then"].iloc[-1] == 385_000  # monthly for a year
    assert table["To go"].tolist()[:2] == ["11 months to go", "10 months to go"]
    linear_first = table["Booked by then"].iloc[0]
    app.selectbox(key="plan.milestone_shape").set_value("back-loaded").run()
    assert milestones(app)["Booked by then"].iloc[0] < linear_first
    app.selectbox(key="plan.cadence").set_value("weekly").run()
    assert len(milestones(app)) == 52  # 1 Jan 2027 is a Friday: the one-day first week folds into the next
    assert any("The milestones Save will store" in c.proto.spec for c in app.get("plotly_chart"))


def test_the_fifty_thousand_month_typed_backwards_fills_its_first_checkpoint_and_says_so(app: AppTest) -> None:
    # 1–31 Dec has a checkpoint four weeks before the end (the 3rd): "42,000; 30,000; 20,000" was refused,
    # and only when Save was pressed, in the sidebar.
    december(app).text_input(key="plan.milestone_custom").set_value("42,000; 30,000; 20,000").run()
    assert not app.error, [e.value for e in app.error]
    table = milestones(app)
    assert table["Booked by then"].tolist() == [7_500, 20_000, 30_000, 42_000, 50_000]
    assert table["Set by"].tolist() == ["filled", "typed", "typed", "typed", "typed"]
    assert any("filled by the linear shape: 3 Dec (£7,500)" in c.value.replace("\\", "") for c in app.caption)
    app.selectbox(key="plan.milestone_fill").set_value("front-loaded").run()
    assert milestones(app)["Booked by then"].iloc[0] > 7_500


def test_amounts_typed_forwards_are_explained_next_to_the_field(app: AppTest) -> None:
    december(app, 28).text_input(key="plan.milestone_custom").set_value("20,000; 30,000; 42,000").run()
    [error] = app.main.error
    assert "typed forwards: type them backwards, the one with 1 week to go first" in error.value.replace("\\", "")
    assert not app.sidebar.error  # nothing was saved, nothing to say there


def test_a_custom_plan_is_saved_with_what_the_page_showed(app: AppTest, database: Path) -> None:
    december(app).text_input(key="plan.milestone_custom").set_value("42,000; 30,000; 20,000").run()
    shown = milestones(app)["Booked by then"].tolist()
    app.text_input(key="plan.new_rep").set_value("Priya Shah")
    app.text_input(key="plan.name").set_value("December")
    app.button(key="btn.plan_save").click().run()
    assert not app.error, [e.value for e in app.error]
    with open_store(database) as con:
        [plan] = store.list_plans(con)
        assert [m.cumulative for m in store.get_milestones(con, plan.id)] == shown


def test_a_historical_shape_from_less_than_a_year_warns_and_never_plans_nothing(database: Path) -> None:
    # An export from March to December: no closes in January or February. The historical shape set $0
    # milestones for both, and Track then said "ahead" with nothing booked.
    deals, result = calibrate_export(SAMPLE.read_bytes(), SAMPLE.name)
    short = result.to_dict()
    short["seasonality"] = [0.0, 0.0, *[share / sum(result.seasonality[2:]) for share in result.seasonality[2:]]]
    with open_store(database) as con:
        profile_id = store.save_profile(
            con, SYSTEM, "Mar–Dec", SAMPLE.name, short, deals.deals, rows_read=deals.rows_read, rows_bad=deals.rows_bad
        )
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30).run()
    at.selectbox(key="plan.profile_pick").set_value(profile_id).run()
    at.button(key="btn.profile_apply").click().run()
    at.date_input(key="plan.start").set_value(date(2027, 1, 1)).run()
    at.date_input(key="plan.end").set_value(date(2027, 12, 31)).run()
    at.selectbox(key="plan.milestone_shape").set_value("historical").run()
    assert any("no won deals in Jan, Feb (10 of 12 months covered)" in w.value for w in at.warning)
    table = milestones(at)
    assert table["Booked by then"].iloc[0] > 0 and table["This step"].iloc[1] > 0
