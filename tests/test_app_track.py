"""The Track page under AppTest: demo data, metrics, the recovery plan."""

from __future__ import annotations

import json
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
    if "Behind the milestones" not in labels:  # before the quarter starts nothing is due yet
        assert "Against the milestones" in labels
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


# --------------------------------------------------------------------------- two sessions, one database

from contextlib import contextmanager  # noqa: E402

import pandas as pd  # noqa: E402
import streamlit as st  # noqa: E402

from planner.funnel import PlanInputs, Stage  # noqa: E402
from planner.milestones import WeekActual  # noqa: E402
from tests.conftest import ROOT, open_saved_plan, rename_stage  # noqa: E402

DECEMBER = PlanInputs(100_000, 5_000, date(2026, 12, 1), date(2026, 12, 31))


def session() -> AppTest:
    """Another person's session of the app, on the same database."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30).run()
    assert not at.exception, at.exception
    return at


def plan_with_actuals(database, weeks: list[WeekActual], inputs: PlanInputs = DECEMBER, **options) -> int:
    with open_store(database) as con:
        plan_id = store.save_plan(con, SYSTEM, store.add_rep(con, SYSTEM, "Ana Lima"), "December", inputs, **options)
        store.save_actuals(con, SYSTEM, plan_id, weeks)
        return plan_id


def editor_table(app: AppTest) -> pd.DataFrame:
    return app.data_editor[0].value


def burnup(app: AppTest) -> dict[str, dict]:
    """The burn-up's traces by name, as the browser gets them."""
    [chart] = app.get("plotly_chart")[:1]
    return {trace.get("name"): trace for trace in json.loads(chart.proto.spec)["data"]}


def page_text(app: AppTest) -> str:
    kinds = ("markdown", "caption", "info", "warning", "error", "success")
    return " ".join(str(e.value) for kind in kinds for e in app.get(kind))


def test_a_stage_renamed_on_the_plan_page_keeps_its_counts_on_track(database) -> None:
    plan_id = plan_with_actuals(database, [WeekActual(date(2026, 12, 7), 9_000, 2, {"Meetings": 7})])
    track = open_track(session())
    assert editor_table(track).set_index("Week starting").loc[date(2026, 12, 7), "Meetings"] == 7

    planner = open_saved_plan(session(), plan_id)
    rename_stage(planner, "Meetings", "Discovery calls")
    planner.button(key="btn.plan_save").click().run()
    assert not planner.error, [e.value for e in planner.error]

    track.run()  # the next rerun of the other session, whatever caused it
    table = editor_table(track).set_index("Week starting")
    assert "Meetings" not in table.columns
    assert table.loc[date(2026, 12, 7), "Discovery calls"] == 7


def test_importing_into_a_plan_deleted_in_another_session_imports_nothing(database, monkeypatch) -> None:
    plan_id = plan_with_actuals(database, [])
    track = open_track(session())
    track.file_uploader[0].set_value(
        ("actuals.csv", b"week,revenue,deals,Meetings\n2026-12-07,4000,1,5\n2026-12-14,6000,1,8\n", "text/csv")
    ).run()

    # Another session deletes the plan after the import's transaction has begun (and its checks have passed).
    from planner.store import actuals

    real = actuals.transaction

    @contextmanager
    def deleted_meanwhile(con):
        with real(con) as cur:
            cur.execute("SELECT count(*) FROM plans").fetchall()  # the import's view of the database starts here
            if not deletes:
                deletes.append(plan_id)
                with open_store(database) as other:
                    store.delete_plan(other, SYSTEM, plan_id)
            yield cur

    deletes: list[int] = []
    monkeypatch.setattr(actuals, "transaction", deleted_meanwhile)
    next(b for b in track.button if b.label == "Import 2 weeks").click().run()

    assert deletes == [plan_id] and not track.exception, track.exception
    toasts = " ".join(t.value for t in track.toast)
    assert "Imported" not in toasts and "deleted" in toasts
    with open_store(database) as con:
        assert con.execute("SELECT count(*) FROM actuals WHERE plan_id = ?", [plan_id]).fetchone() == (0,)


def test_a_monday_milestone_counts_only_that_mondays_share_of_its_week(database) -> None:
    # Weekly milestones on Mondays: 28,571 is due by Monday 7 Dec (6 of the period's 21 working days).
    inputs = PlanInputs(100_000, 5_000, date(2026, 11, 30), date(2026, 12, 28))
    weeks = [WeekActual(date(2026, 11, 30), 26_000), WeekActual(date(2026, 12, 7), 10_000)]
    plan_with_actuals(database, weeks, inputs, cadence="weekly")
    track = open_track(session())
    track.date_input(key="track.as_of").set_value(date(2026, 12, 11)).run()
    milestones = burnup(track)["Milestone: hit / missed / upcoming"]
    status = dict(zip(milestones["x"], (c[0] for c in milestones["customdata"]), strict=True))
    # By Monday 7 Dec: 26,000 and one working day of five of that week's 10,000 -- 28,000, short of 28,571.
    assert status["2026-12-07"] == "missed"
    assert round(milestones["customdata"][0][1]) == 28_000


def test_ahead_or_behind_is_one_thing_on_the_card_the_chart_the_review_and_the_command_line(database) -> None:
    # Linear weekly milestones for December 2026: 34,783 due on Thursday 10 Dec, 56,522 on the 17th.
    plan_id = plan_with_actuals(
        database, [WeekActual(date(2026, 11, 30), 13_000), WeekActual(date(2026, 12, 7), 25_000)], cadence="weekly"
    )
    with open_store(database) as con:
        store.update_rep(con, SYSTEM, store.list_reps(con)[0].id, team="East", role="rep")
    track = open_track(session())
    track.date_input(key="track.as_of").set_value(date(2026, 12, 13)).run()

    # By Thursday 10 Dec, 13,000 and four fifths of 25,000 were booked: the milestone was missed.
    milestones = burnup(track)["Milestone: hit / missed / upcoming"]
    status = dict(zip(milestones["x"], (c[0] for c in milestones["customdata"]), strict=True))
    assert status["2026-12-10"] == "missed"
    # Today the milestones call for 34,783 + one working day of five towards the 17th: 39,130. 38,000 is booked.
    assert [m.label for m in track.metric][2] == "Behind the milestones"
    assert metric(track, "Behind the milestones") == "$1,130"
    today = burnup(track)["Today"]
    assert today["customdata"][0][0] == "behind"
    assert "Ahead or behind" in page_text(track)  # the definition, on the page

    review = open_team(session())
    row = review.dataframe[0].value.set_index("Rep").loc["Ana Lima"]
    assert row["Ahead (+) / behind (-)"] == -1_130

    from planner.cli import main

    st.cache_resource.clear()  # the app's connection: the command line opens the file read-only
    report = cli_json(main, ["track", "--plan", str(plan_id), "--as-of", "2026-12-13", "--json", "--db", str(database)])
    assert round(report["gap"]) == -1_130 and report["behind"] is True


def open_team(app: AppTest) -> AppTest:
    app.switch_page("pages/team.py").run()
    assert not app.exception, app.exception
    app.selectbox(key="team.name").set_value("East").run()
    app.date_input(key="team.as_of").set_value(date(2026, 12, 13)).run()
    assert not app.exception, app.exception
    return app


def cli_json(main, argv: list[str]) -> dict:
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(argv) == 0
    return json.loads(out.getvalue())


def test_a_pace_beyond_anything_done_says_so_and_what_it_would_take_instead(database) -> None:
    # Nothing booked, ten days before the end of December: 20 deals in two weeks, 160 connection requests.
    plan_with_actuals(database, [WeekActual(date(2026, 11, 30), 0, 0, {"Connection requests": 9})])
    track = open_track(session())
    track.date_input(key="track.as_of").set_value(date(2026, 12, 18)).run()
    text = page_text(track)
    assert "beyond anything recorded" in text
    assert "best week: 9" in text
    for instead in ("deals of", "pipeline", "by "):
        assert instead in text
    recovery = track.dataframe[-1].value
    assert "None" not in recovery.astype(str).to_numpy().ravel().tolist()


def test_the_weekly_actuals_start_with_the_prospecting_weeks_before_the_period(database) -> None:
    lagged = PlanInputs(100_000, 5_000, date(2026, 12, 1), date(2026, 12, 31),
                        stages=(Stage("Calls", 2, 14), Stage("Meetings", 2, 7)))  # fmt: skip
    plan_with_actuals(database, [WeekActual(date(2026, 11, 16), 0, 0, {"Calls": 12})], lagged)
    track = open_track(session())
    table = editor_table(track)
    # 21 days of lags before the first working day, 1 Dec: prospecting starts on 10 Nov, in the week of the 9th.
    assert table["Week starting"].tolist()[:4] == [date(2026, 11, d) for d in (9, 16, 23, 30)]
    assert table["Note"].tolist()[:4] == ["before the period"] * 3 + [""]
    assert table["Calls"].iloc[1] == 12


def test_the_activity_pace_says_what_to_do_this_week_per_stage(database) -> None:
    plan_with_actuals(database, [WeekActual(date(2026, 12, 7), 0, 0, {"Meetings": 3})])
    track = open_track(session())
    track.date_input(key="track.as_of").set_value(date(2026, 12, 9)).run()
    assert "Activity this week" in [h.value for h in track.subheader]
    for stage in ("Connection requests", "Meetings", "Qualified prospects", "Deals won"):
        assert metric(track, stage).endswith(" to do")
    assert "3 done" in " ".join(m.proto.help for m in track.metric if m.label == "Meetings")


# --------------------------------------------------------------------------- the forecast band (issue 17)


def test_the_burn_up_gets_the_forecast_range_and_the_toggle_leaves_the_largest_deal_out(app: AppTest, database) -> None:
    load_demo(database)
    open_track(app)
    app.selectbox(key="track.rep").select("Ana Lima").run()
    start, end, _ = quarter_of(date.today())
    if not start <= date.today() < end:
        return
    figure = app.get("plotly_chart")[0].proto.spec
    names = [trace.get("name") for trace in json.loads(figure)["data"]]
    assert "Forecast: P10–P90 range" in names and "Forecast: P50" in names
    words = " ".join(m.value for m in app.markdown)
    assert "**Forecast.** **P10" in words and "chance** of reaching the target" in words
    app.segmented_control(key="track.without_top").set_value(1).run()
    assert not app.exception
    assert any(c.value.startswith("Left out: ") and "(Ana Lima, $" in c.value for c in app.caption)
    assert any("Without the largest deal" in i.value and "a week from now" in i.value for i in app.info)


def test_a_finished_period_has_no_forecast_to_draw(app: AppTest, database) -> None:
    load_demo(database)
    open_track(app)
    start, _, _ = quarter_of(date.today())
    last_quarter = quarter_of(start - timedelta(days=1))[2]
    app.selectbox(key="track.plan").select(last_quarter).run()
    assert not app.exception and app.selectbox(key="track.plan").value == last_quarter
    spec = json.loads(app.get("plotly_chart")[0].proto.spec)
    assert not [t for t in spec["data"] if "Forecast" in str(t.get("name"))]
    assert not [s for s in app.get("button_group") if s.label == "What if the biggest deals slip?"]
