"""The forecast's storage: forecast categories on snapshots, recorded projections, and what a forecast reads."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from planner import store
from planner.access import SYSTEM
from planner.calibrate import Calibration, calibrate
from planner.demo import demo_team
from planner.forecast import (
    RecordedProjection,
    RepStanding,
    days_at_stage,
    forecast,
    forecast_categories,
    team_outlook,
)
from planner.funnel import PlanInputs
from planner.imports import detect_mapping, read_deals, read_table
from planner.store import WeekActual
from planner.store.migrations import MIGRATIONS
from planner.team import team_rollup

Q4 = PlanInputs(100_000, 5_000, date(2026, 10, 1), date(2026, 12, 31))
Q3 = PlanInputs(90_000, 5_000, date(2026, 7, 1), date(2026, 9, 30))
WON_AT_DEMO = pd.DataFrame({"outcome": ["won", "lost"], "amount": 1.0, "furthest": [1, 0]})


pytestmark = pytest.mark.both_backends


@pytest.fixture
def con(database: store.Target) -> duckdb.DuckDBPyConnection:
    connection = store.connect(database)
    yield connection
    connection.close()


def deals(*rows: tuple[str, str, str, float, str, str]) -> pd.DataFrame:
    """Open deals: (deal_id, owner, stage, amount, close date, forecast category)."""
    frame = pd.DataFrame(rows, columns=["deal_id", "owner", "stage", "amount", "close_date", "forecast_category"])
    return frame.assign(account="", outcome="open", close_date=pd.to_datetime(frame["close_date"]))


# --------------------------------------------------------------------------- forecast categories on snapshots


def test_a_salesforce_exports_forecast_category_is_kept_with_the_snapshot_and_rolled_up(con) -> None:
    export = (
        b"Id,OwnerId,StageName,Amount,CloseDate,CreatedDate,ForecastCategoryName\n"
        b"006A,Ana,Proposal,40000,2026-11-20,2026-09-01,Commit\n"
        b"006B,Ana,Proposal,25000,2026-12-10,2026-09-02,Best Case\n"
        b"006C,Ana,Proposal,10000,2026-12-11,2026-09-03,Pipeline\n"
        b"006D,Ana,Proposal,5000,2026-12-12,2026-09-04,\n"
    )
    table = read_table(export, "opportunities.csv")
    read = read_deals(table, detect_mapping(table.columns)).deals.rename(columns={"closed": "close_date"})
    store.save_snapshot(con, SYSTEM, "East", date(2026, 11, 9), read)

    back = store.get_snapshot(con, "East", date(2026, 11, 9))
    assert back.set_index("deal_id")["forecast_category"].to_dict() == {
        "006A": "Commit",
        "006B": "Best Case",
        "006C": "Pipeline",
        "006D": "",
    }
    ana = [RepStanding("Ana", Q4.target, 20_000, Q4.period_start, Q4.period_end)]
    profile = calibrate(WON_AT_DEMO, ("Proposal", "Won"))
    rolled = forecast_categories(forecast(back, profile, ana, date(2026, 11, 9), simulations=100))
    assert rolled is not None
    assert (rolled.team.closed, rolled.team.commit, rolled.team.best_case) == (20_000, 60_000, 85_000)
    assert (rolled.team.pipeline, rolled.team.uncategorised) == (10_000, 5_000)


def test_a_snapshot_without_forecast_categories_stores_none(con) -> None:
    frame = deals(("A", "Ana", "Demo", 10.0, "2026-11-20", "x")).drop(columns="forecast_category")
    store.save_snapshot(con, SYSTEM, "East", date(2026, 11, 9), frame)
    assert store.get_snapshot(con, "East", date(2026, 11, 9))["forecast_category"].tolist() == [""]


@pytest.mark.duckdb_only
def test_snapshots_stored_before_categories_existed_read_back_with_none(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    [before] = [version for version, what, _ in MIGRATIONS if what.startswith("forecast categories")]
    store.migrate(con, upto=before - 1)
    con.execute(
        "INSERT INTO pipeline_snapshots (snapshot_date, team, deal_id, owner, stage, amount, close_date)"
        " VALUES (DATE '2026-11-02', 'East', 'A', 'Ana', 'Demo', 10, DATE '2026-11-30')"
    )
    con.close()
    upgraded = store.connect(path)
    assert store.get_snapshot(upgraded, "East", date(2026, 11, 2))["forecast_category"].tolist() == [""]
    assert store.list_projections(upgraded, "East") == {}
    upgraded.close()


# --------------------------------------------------------------------------- how long deals have been at their stage


def test_stage_history_follows_the_deals_of_the_latest_snapshot_only(con) -> None:
    store.save_snapshot(con, SYSTEM, "East", date(2026, 11, 2), deals(("A", "Ana", "Demo", 1, "2026-12-01", ""),
                                                             ("gone", "Ana", "Demo", 1, "2026-12-01", "")))  # fmt: skip
    store.save_snapshot(con, SYSTEM, "East", date(2026, 11, 9), deals(("A", "Ana", "Proposal", 1, "2026-12-01", ""),
                                                             ("B", "Ana", "Demo", 1, "2026-12-01", "")))  # fmt: skip
    store.save_snapshot(con, SYSTEM, "East", date(2026, 11, 16), deals(("A", "Ana", "Proposal", 1, "2026-12-01", ""),
                                                              ("B", "Ana", "Demo", 1, "2026-12-01", "")))  # fmt: skip
    store.save_snapshot(con, SYSTEM, "West", date(2026, 11, 16), deals(("A", "Zed", "Demo", 1, "2026-12-01", "")))
    history = store.stage_history(con, "East", date(2026, 11, 16))
    assert sorted(set(history["deal_id"])) == ["A", "B"]  # not the deal that left, nor another team's
    assert days_at_stage(history, date(2026, 11, 20)).to_dict() == {"A": 11, "B": 11}
    # As it stood a week earlier: the snapshot of 9 November is the latest.
    assert days_at_stage(store.stage_history(con, "East", date(2026, 11, 10)), date(2026, 11, 10)).to_dict() == {
        "A": 1,
        "B": 1,
    }


# --------------------------------------------------------------------------- recorded projections


def made(as_of: date, rep: str, method: str, value: float, team: str = "East") -> RecordedProjection:
    return RecordedProjection(team, rep, as_of, Q4.period_start, Q4.period_end, method, value)


def test_projections_recorded_on_a_day_replace_that_days_and_keep_the_others(con) -> None:
    monday, next_monday = date(2026, 11, 2), date(2026, 11, 9)
    store.save_projections(
        con, SYSTEM, "East", monday, [made(monday, "Ana", "P50", 80.0), made(monday, "", "P50", 80.0)], "USD"
    )
    store.save_projections(con, SYSTEM, "East", next_monday, [made(next_monday, "", "P50", 90.0)], "USD")
    store.save_projections(con, SYSTEM, "East", monday, [made(monday, "", "run-rate", 70.0)], "USD")  # the page again
    store.save_projections(con, SYSTEM, "West", monday, [made(monday, "", "P50", 5.0, "West")], "EUR")
    assert store.list_projections(con, "East") == {
        "USD": [made(monday, "", "run-rate", 70.0), made(next_monday, "", "P50", 90.0)]
    }
    assert store.list_projections(con, "West") == {"EUR": [made(monday, "", "P50", 5.0, "West")]}


def test_a_projection_of_an_unknown_method_or_another_day_is_refused_and_nothing_changes(con) -> None:
    monday = date(2026, 11, 2)
    store.save_projections(con, SYSTEM, "East", monday, [made(monday, "", "P50", 80.0)], "USD")
    for bad in (made(monday, "", "gut feel", 1.0), made(date(2026, 11, 9), "", "P50", 1.0)):
        with pytest.raises(store.StoreError, match="cannot hold"):
            store.save_projections(con, SYSTEM, "East", monday, [made(monday, "", "commit", 2.0), bad], "USD")
    assert store.list_projections(con, "East") == {"USD": [made(monday, "", "P50", 80.0)]}


# --------------------------------------------------------------------------- what a forecast reads


def team_with_two_quarters(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    ids = {}
    for name in ("Ana", "Ben"):
        rep = store.add_rep(con, SYSTEM, name, team="East")
        ids[f"{name} Q3"] = store.save_plan(con, SYSTEM, rep, "Q3", Q3)
        ids[f"{name} Q4"] = store.save_plan(con, SYSTEM, rep, "Q4", Q4)
    store.save_actuals(con, SYSTEM, ids["Ana Q3"], [WeekActual(date(2026, 7, 6), 50_000.0, 5, {})])
    store.save_actuals(con, SYSTEM, ids["Ben Q3"], [WeekActual(date(2026, 9, 21), 70_000.0, 5, {})])
    return ids


def profile_result(win_rate_won: int) -> dict:
    history = pd.DataFrame({"outcome": ["won"] * win_rate_won + ["lost"], "amount": 1.0,
                            "furthest": [1] * win_rate_won + [0]})  # fmt: skip
    return calibrate(history, ("Demo", "Won")).to_dict()


def save_profile(con: duckdb.DuckDBPyConnection, name: str, won: int) -> int:
    return store.save_profile(con, SYSTEM, name, f"{name}.csv", profile_result(won), pd.DataFrame(
        columns=["deal_id", "owner", "account", "stage", "outcome", "amount", "created", "closed"]),
        rows_read=0, rows_bad=0)  # fmt: skip


def test_the_forecast_reads_the_profile_most_of_the_teams_plans_apply(con) -> None:
    ids = team_with_two_quarters(con)
    applied = save_profile(con, "Applied", 1)
    save_profile(con, "Newer", 3)
    for key in ("Ana Q4", "Ben Q4"):
        plan = store.get_plan(con, ids[key])
        store.save_plan(con, SYSTEM, plan.rep_id, "Q4", Q4, plan_id=plan.id, profile_id=applied)
    sources = store.forecast_sources(con, "East", date(2026, 11, 16))
    assert (sources.profile.name, sources.profile_plans, sources.plans) == ("Applied", 2, 2)
    assert sources.profile_result["overall"]["won"] == 1


def test_without_an_applied_profile_the_newest_is_read_and_without_any_none(con) -> None:
    team_with_two_quarters(con)
    assert store.forecast_sources(con, "East", date(2026, 11, 16)).profile is None
    save_profile(con, "Older", 1)
    save_profile(con, "Newest", 3)
    sources = store.forecast_sources(con, "East", date(2026, 11, 16))
    assert (sources.profile.name, sources.profile_plans) == ("Newest", 0)


def test_the_latest_snapshot_its_slips_and_the_finished_periods_bookings_are_read(con) -> None:
    team_with_two_quarters(con)
    store.save_snapshot(con, SYSTEM, "East", date(2026, 11, 2), deals(("A", "Ana", "Demo", 1, "2026-11-20", "")))
    store.save_snapshot(con, SYSTEM, "East", date(2026, 11, 9), deals(("A", "Ana", "Demo", 1, "2026-12-20", "Commit")))
    store.save_snapshot(con, SYSTEM, "East", date(2026, 11, 30), deals(("A", "Ana", "Demo", 1, "2027-01-20", "")))
    q3_end = Q3.period_end
    q3 = RecordedProjection("East", "", date(2026, 9, 7), Q3.period_start, q3_end, "P50", 100_000.0)
    store.save_projections(con, SYSTEM, "East", date(2026, 9, 7), [q3], "USD")
    sources = store.forecast_sources(con, "East", date(2026, 11, 16))
    assert sources.snapshot_date == date(2026, 11, 9)  # the latest on or before the day
    assert sources.pipeline["forecast_category"].tolist() == ["Commit"]
    assert sources.slips == {"A": 1}
    assert list(sources.finished) == [q3_end]
    booked = {r.rep: sum(r.weekly_revenue.values()) for r in sources.finished[q3_end]}
    assert booked == {"Ana": 50_000.0, "Ben": 70_000.0}  # each rep's Q3 plan, not this quarter's
    # Before Q3 ends its projections wait: no finished period to read.
    assert store.forecast_sources(con, "East", date(2026, 9, 14)).finished == {}


# --------------------------------------------------------------------------- the demo, stored


def test_the_demos_recorded_projections_are_what_the_stored_demo_forecasts_on_each_snapshot_date(con) -> None:
    team = demo_team(date(2026, 11, 22))
    plan_ids = store.load_team(con, SYSTEM, team)
    assert len(plan_ids) == len(team.plans)  # this quarter's, as before; last quarter's are stored too
    assert len(store.list_plans(con)) == 2 * len(team.plans)
    [profile] = store.list_profiles(con)
    assert {store.get_plan(con, i).profile_id for i in plan_ids} == {profile.id}
    for day in (date(2026, 9, 7), date(2026, 11, 16)):  # last quarter's and this quarter's
        sources = store.forecast_sources(con, team.team, day)
        reps = store.review_inputs(con, team.team, day)
        rollup = team_rollup(reps, day, sources.pipeline, None, {})
        outlook = team_outlook(team.team, rollup.view, rollup.review, sources.pipeline,
                               Calibration.from_dict(sources.profile_result), history=sources.history,
                               slips=sources.slips, profile_name=sources.profile.name,
                               profile_plans=sources.profile_plans, plans=sources.plans)  # fmt: skip
        recorded = {p for p in sources.projections["USD"] if p.as_of == day}
        assert set(outlook.projections) == recorded and len(recorded) == 20  # 4 methods, 4 reps and the team
    later = store.forecast_sources(con, team.team, date(2026, 11, 22))
    assert list(later.finished) == [date(2026, 9, 30)]


def test_the_demo_beside_a_real_team_records_under_its_own_names_and_never_lends_its_win_rates(con) -> None:
    real = store.add_rep(con, SYSTEM, "Ana Lima", "Mid-Market East")  # a real Ana, in the team the demo uses
    store.save_plan(con, SYSTEM, real, "Q4", Q4)
    store.load_team(con, SYSTEM, demo_team(date(2026, 11, 22)))
    demo = store.forecast_sources(con, "Mid-Market East (demo)", date(2026, 11, 22))
    assert demo.profile is not None and demo.profile_plans == 4
    made = demo.projections["USD"]
    assert {p.team for p in made} == {"Mid-Market East (demo)"}
    assert "Ana Lima (demo)" in {p.rep for p in made} and "Ana Lima" not in {p.rep for p in made}
    # The real team applies no profile and none of its own is on file: the demo's is no fallback.
    assert store.forecast_sources(con, "Mid-Market East", date(2026, 11, 22)).profile is None
    assert store.list_projections(con, "Mid-Market East") == {}
