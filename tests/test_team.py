"""The team review's math: snapshot diffs, the status rule at its boundaries, rollups, and their storage."""

from __future__ import annotations

import json
import zlib
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner import store
from planner.access import SYSTEM
from planner.charts import team_burnup_chart
from planner.currency import Rate, RateError, check_rate
from planner.demo import demo_team
from planner.funnel import PlanInputs, Stage, build_plan
from planner.milestones import Milestone
from planner.team import (
    CHANGE_CATEGORIES,
    TEAM_LINE,
    ReviewInput,
    activity_check,
    changes_table,
    overdue_deals,
    rep_status,
    review_table,
    slipped_deals,
    snapshot_diff,
    team_burnup,
    team_review,
    team_rollup,
    waterfall_note,
)

STAGES = ["Demo", "Proposal", "Contract", "Won"]
PERIOD_END = date(2026, 12, 31)


def snapshot(*deals: tuple) -> pd.DataFrame:
    """(deal_id, stage, outcome, amount, close date) rows as a snapshot frame."""
    return pd.DataFrame(
        {
            "deal_id": [d[0] for d in deals],
            "owner": "Ana",
            "account": "Acme",
            "stage": [d[1] for d in deals],
            "outcome": [d[2] for d in deals],
            "amount": [float(d[3]) for d in deals],
            "close_date": pd.to_datetime([d[4] for d in deals]),
        }
    )


# Last week: nine open deals closing in the period.
LAST_WEEK = snapshot(
    ("steady", "Demo", "open", 100, "2026-12-10"),
    ("advances", "Demo", "open", 200, "2026-12-10"),
    ("falls-back", "Contract", "open", 300, "2026-12-10"),
    ("slips", "Proposal", "open", 400, "2026-12-01"),
    ("slips-out", "Proposal", "open", 500, "2026-12-20"),
    ("grows", "Demo", "open", 600, "2026-12-10"),
    ("shrinks", "Demo", "open", 700, "2026-12-10"),
    ("wins", "Contract", "open", 800, "2026-12-10"),
    ("loses", "Proposal", "open", 900, "2026-12-10"),
    ("vanishes", "Demo", "open", 1000, "2026-12-10"),
    ("pulled", "Demo", "open", 1100, "2027-02-01"),  # outside the period last week
)
THIS_WEEK = snapshot(
    ("steady", "Demo", "open", 100, "2026-12-10"),
    ("advances", "Proposal", "open", 200, "2026-12-10"),
    ("falls-back", "Proposal", "open", 300, "2026-12-10"),
    ("slips", "Proposal", "open", 400, "2026-12-15"),
    ("slips-out", "Proposal", "open", 500, "2027-01-20"),
    ("grows", "Demo", "open", 650, "2026-12-10"),
    ("shrinks", "Demo", "open", 600, "2026-12-10"),
    ("wins", "Won", "won", 800, "2026-12-08"),
    ("loses", "Lost", "lost", 900, "2026-12-08"),
    ("pulled", "Demo", "open", 1100, "2026-12-20"),
    ("brand-new", "Demo", "open", 1200, "2026-12-20"),
)


def test_every_change_category_is_recognised_deal_by_deal() -> None:
    diff = snapshot_diff(LAST_WEEK, THIS_WEEK, PERIOD_END, STAGES)
    categories = dict(zip(diff.changes["deal_id"], diff.changes["categories"], strict=True))
    assert categories == {
        "advances": "advanced",
        "falls-back": "moved back",
        "slips": "slipped",
        "slips-out": "slipped, slipped out of period",
        "grows": "amount up",
        "shrinks": "amount down",
        "wins": "won",
        "loses": "lost",
        "vanishes": "dropped out",
        "pulled": "pulled in",
        "brand-new": "new",
    }
    assert "steady" not in categories
    assert set(diff.counts) == set(CHANGE_CATEGORIES)
    assert diff.counts == {c: 2 if c == "slipped" else 1 for c in CHANGE_CATEGORIES}  # slipping out is slipping too


def test_the_waterfall_walks_exactly_from_last_weeks_total_to_this_weeks() -> None:
    diff = snapshot_diff(LAST_WEEK, THIS_WEEK, PERIOD_END, STAGES)
    # Last week in the period: 100+200+300+400+500+600+700+800+900+1000 = 5,500 (the 1,100 closes in February).
    assert diff.start_total == 5_500
    # This week: 100+200+300+400+650+600+1,100+1,200 = 4,550.
    assert diff.end_total == 4_550
    assert dict(diff.waterfall) == {
        "new": 1_200,
        "pulled in": 1_100,
        "amount up": 50,
        "amount down": -100,
        "slipped out of period": -500,
        "won": -800,
        "lost": -900,
        "dropped out": -1_000,
    }
    assert diff.start_total + sum(v for _, v in diff.waterfall) == diff.end_total


def test_without_a_period_every_open_deal_counts_and_nothing_slips_out() -> None:
    diff = snapshot_diff(LAST_WEEK, THIS_WEEK, None, STAGES)
    assert diff.start_total == 6_600
    assert dict(diff.waterfall)["slipped out of period"] == 0
    assert dict(diff.waterfall)["pulled in"] == 0  # "pulled" was already counted


deal_rows = st.lists(
    st.tuples(
        st.sampled_from([f"D{i}" for i in range(12)]),
        st.sampled_from(["Demo", "Proposal", "Contract", "Won", "Lost"]),
        st.sampled_from(["open", "open", "won", "lost"]),
        st.integers(0, 5_000),
        st.dates(date(2026, 10, 1), date(2027, 3, 31)).map(lambda d: d.isoformat()),
    ),
    max_size=12,
    unique_by=lambda row: row[0],
)


@settings(max_examples=120, deadline=None)
@given(deal_rows, deal_rows, st.one_of(st.none(), st.just(PERIOD_END)))
def test_the_waterfall_always_adds_up(older: list, newer: list, period_end: date | None) -> None:
    before = snapshot(*older) if older else LAST_WEEK.head(0)
    after = snapshot(*newer) if newer else LAST_WEEK.head(0)
    diff = snapshot_diff(before, after, period_end, STAGES)
    assert diff.start_total + sum(v for _, v in diff.waterfall) == pytest.approx(diff.end_total)
    assert (diff.changes["change"] != 0).sum() <= len(diff.changes)


# --------------------------------------------------------------------------- the status rule


@pytest.mark.parametrize(
    ("booked", "coverage", "weighted", "status"),
    [
        (48_000, 3.0, 90_000, "on track"),  # exactly at the milestone, exactly the coverage needed
        (48_000, 2.99, 90_000, "at risk"),  # at the milestone, pipeline a hair too thin
        (47_999, 9.0, 90_000, "at risk"),  # a dollar behind: not on track, not 10% behind
        (43_200, 0.1, 90_000, "at risk"),  # exactly 10% behind is not "more than 10%"
        (43_199, 0.1, 99_999, "off track"),  # more than 10% behind and projected short
        (43_199, 0.1, 100_000, "at risk"),  # more than 10% behind, but the pipeline carries it to target
    ],
)
def test_status_rule_at_its_boundaries(booked: float, coverage: float, weighted: float, status: str) -> None:
    assert rep_status(booked, 48_000, coverage, 3.0, weighted, 100_000) == status


# --------------------------------------------------------------------------- the review


def review_input(rep: str, weekly: dict[date, float], target: float = 100_000, coverage: float = 3.0) -> ReviewInput:
    start, end = date(2026, 10, 5), date(2026, 12, 27)
    inputs = PlanInputs(target, 5_000, start, end, stages=(Stage("Meetings", 2.0, 0),), coverage_ratio=coverage)
    # 40,000 due by the review's day (AS_OF), as the milestones call for it on their own date.
    milestones = (Milestone(date(2026, 11, 16), 40_000), Milestone(date(2026, 11, 29), 70_000), Milestone(end, target))
    counts = {w: {"Meetings": 5} for w in weekly}
    return ReviewInput(rep, zlib.crc32(rep.encode()) % 100_000 + 1, "Q4", inputs, milestones, weekly, counts)


AS_OF = date(2026, 11, 16)
WEEKS = [date(2026, 10, 5) + timedelta(weeks=k) for k in range(6)]


def test_review_rows_are_worst_first_with_team_totals() -> None:
    reps = [
        review_input("Ahead", dict.fromkeys(WEEKS, 9_000.0)),  # 54,000 booked against 40,000
        review_input("Behind", dict.fromkeys(WEEKS, 3_000.0)),  # 18,000 against 40,000
        review_input("Close", dict.fromkeys(WEEKS, 6_500.0)),  # 39,000: 2.5% behind
    ]
    pipeline = pd.DataFrame(
        {
            "owner": ["Ahead", "Behind", "Close", "Close"],
            "amount": [150_000.0, 10_000.0, 100_000.0, 999_999.0],
            "close_date": pd.to_datetime(["2026-12-01", "2026-12-01", "2026-12-01", "2027-03-01"]),
            "outcome": ["open", "open", "open", "open"],
        }
    )
    review = team_review(reps, AS_OF, pipeline)
    assert [(r.rep, r.status) for r in review.rows] == [
        ("Behind", "off track"),
        ("Close", "at risk"),
        ("Ahead", "on track"),
    ]
    ahead = review.rows[2]
    assert ahead.booked == 54_000 and ahead.milestone == 40_000 and ahead.gap == 14_000
    assert ahead.pipeline == 150_000  # closing in the period
    assert ahead.coverage == pytest.approx(150_000 / 46_000)
    assert ahead.weighted_projection == pytest.approx(54_000 + 150_000 / 3)
    close = review.rows[1]
    assert close.pipeline == 100_000  # the March deal closes after the period
    assert review.totals.target == 300_000 and review.totals.booked == 111_000
    assert review.totals.pipeline == 260_000
    table = review_table(review)
    assert table["Rep"].tolist() == ["Whole team", "Behind", "Close", "Ahead"]
    assert table.loc[0, "Attainment %"] == 37.0


def test_a_rep_with_no_snapshot_has_no_pipeline_and_is_not_on_track() -> None:
    review = team_review([review_input("Ana", dict.fromkeys(WEEKS, 9_000.0))], AS_OF, None)
    assert review.rows[0].pipeline == 0
    assert review.rows[0].status == "at risk"


def test_activity_check_compares_this_weeks_counts_with_the_plans_weekly_need() -> None:
    rep = review_input("Ana", dict.fromkeys(WEEKS, 9_000.0))
    week, table = activity_check([rep], AS_OF)
    assert week == WEEKS[-1]  # nothing recorded for the week of the 16th yet: the latest week counts
    row = table.iloc[0]
    assert row["Stage"] == "Meetings" and row["Done this week"] == 5
    assert row["% of need"] == pytest.approx(100 * 5 / row["Needed a week"], abs=2)  # need shown to one decimal


def test_team_burnup_sums_reps_cumulative_booked_and_milestones() -> None:
    reps = [review_input("A", dict.fromkeys(WEEKS, 1_000.0)), review_input("B", dict.fromkeys(WEEKS, 2_000.0))]
    booked, milestones = team_burnup(reps, AS_OF)
    team = booked[booked["line"] == TEAM_LINE]
    assert team["booked"].tolist() == [3_000.0 * k for k in range(1, 7)]
    assert milestones["cumulative"].tolist() == [80_000, 140_000, 200_000]


def test_a_rep_called_team_has_a_line_of_their_own_beside_the_teams() -> None:
    reps = [
        review_input("Team", dict.fromkeys(WEEKS, 1_000.0)),  # a rep may be called anything
        review_input("Ana", dict.fromkeys(WEEKS, 2_000.0)),
    ]
    booked, milestones = team_burnup(reps, AS_OF)
    lines = [(TEAM_LINE, "Team"), (reps[0].plan_id, "Team"), (reps[1].plan_id, "Ana")]
    figure = team_burnup_chart(booked, milestones, 200_000, lines, (WEEKS[0], date(2026, 12, 27)))
    drawn = {t.name: [] for t in figure.data}
    for trace in figure.data:
        drawn[trace.name].append(list(trace.y)[-1])
    assert sorted(drawn["Team"]) == [6_000.0, 18_000.0]  # the rep's own line, and the team's: never merged
    assert drawn["Ana"] == [12_000.0]


def test_the_activity_check_asks_what_the_plan_asks_a_week() -> None:
    for target, holidays in ((100_000, ()), (385_000, (date(2026, 10, 12), date(2026, 12, 21))), (7_777, ())):
        rep = review_input("Ana", dict.fromkeys(WEEKS, 9_000.0), target=target)
        rep = ReviewInput(rep.rep, rep.plan_id, rep.plan_name, replace(rep.inputs, holiday_weeks=holidays),
                          rep.milestones, rep.weekly_revenue, rep.weekly_counts)  # fmt: skip
        plan = build_plan(rep.inputs)
        _, table = activity_check([rep], AS_OF)
        assert table["Needed a week"].tolist() == [round(s.per_week, 1) for s in plan.stages[:-1]]


# --------------------------------------------------------------------------- one currency

EUR, USD, GBP = "EUR", "USD", "GBP"
RATES = {(EUR, USD): 1.10, (USD, GBP): 0.80}  # GBP → USD is the inverse: 1.25


def in_currency(rep: str, currency: str, weekly_amount: float, target: float = 100_000) -> ReviewInput:
    base = review_input(rep, dict.fromkeys(WEEKS, weekly_amount), target=target)
    return replace(base, currency=currency)


MIXED = [in_currency("Eva", EUR, 1_000.0), in_currency("Uma", USD, 2_000.0), in_currency("Gus", GBP, 4_000.0)]
MIXED_PIPELINE = pd.DataFrame(
    {
        "deal_id": ["e", "u", "g", "x"],
        "owner": ["Eva", "Uma", "Gus", "Someone else"],
        "account": "",
        "stage": "Demo",
        "outcome": "open",
        "amount": [10_000.0, 10_000.0, 10_000.0, 1_000.0],
        "close_date": pd.to_datetime(["2026-12-01"] * 4),
    }
)


def test_a_team_in_three_currencies_adds_up_in_one_with_the_rates_ops_entered() -> None:
    rollup = team_rollup(MIXED, AS_OF, MIXED_PIPELINE, USD, RATES)
    totals = rollup.review.totals
    assert rollup.view.left_out == () and rollup.view.missing == ()
    assert totals.target == pytest.approx(100_000 * (1.10 + 1 + 1.25))
    assert totals.booked == pytest.approx(6 * (1_000 * 1.10 + 2_000 + 4_000 * 1.25))
    assert totals.pipeline == pytest.approx(10_000 * (1.10 + 1 + 1.25))  # each rep's deals at their rate
    team = rollup.booked[rollup.booked["line"] == TEAM_LINE]["booked"].iloc[-1]
    assert team == pytest.approx(totals.booked)
    assert rollup.milestones["cumulative"].iloc[-1] == pytest.approx(totals.target)
    # The same team seen in euros: every figure divided by the one rate.
    in_euros = team_rollup(MIXED, AS_OF, MIXED_PIPELINE, EUR, RATES)
    assert in_euros.view.missing == (GBP,)  # no rate between GBP and EUR was entered: no guessing through USD
    assert in_euros.view.left_out == ("Gus",)
    assert in_euros.review.totals.target == pytest.approx(100_000 + 100_000 / 1.10)


def test_without_rates_nothing_is_added_across_currencies_and_the_missing_ones_are_named() -> None:
    rollup = team_rollup(MIXED, AS_OF, MIXED_PIPELINE, None, {})
    assert rollup.view.currency == EUR  # one plan each: the first alphabetically
    assert rollup.view.currencies == (EUR, GBP, USD)
    assert rollup.view.missing == (GBP, USD) and rollup.view.left_out == ("Uma", "Gus")
    assert [r.rep for r in rollup.review.rows] == ["Eva"]
    assert rollup.review.totals.target == 100_000 and rollup.review.totals.pipeline == 10_000
    assert set(rollup.activity["Rep"]) == {"Eva"}


def test_a_rate_is_checked_before_it_is_stored() -> None:
    assert check_rate(EUR, USD, "1.08") == Rate(EUR, USD, 1.08)
    for bad in ((EUR, EUR, 1.0), ("XBT", USD, 1.0), (EUR, USD, 0), (EUR, USD, float("nan")), (EUR, USD, 1e9)):
        with pytest.raises(RateError):
            check_rate(*bad)


# --------------------------------------------------------------------------- what a manager reads


def test_the_waterfalls_caption_counts_only_the_deals_in_its_bars() -> None:
    diff = snapshot_diff(LAST_WEEK, THIS_WEEK, PERIOD_END, STAGES)
    for name, amount in diff.waterfall:
        assert (diff.cause_counts[name] > 0) == (amount != 0), name
    note = waterfall_note(diff)
    said, _, others = note.partition(" Changed without moving the total: ")
    for name, amount in diff.waterfall:
        assert (f"{name}: " in said) == (amount != 0)
    assert "slipped within the period: 1 deal" in others and "advanced: 1 deal" in others
    # A deal won, lost or pulled in outside the period moves nothing: it is never counted as if it did.
    late = snapshot(("w", "Demo", "open", 500, "2027-02-01"), ("p", "Demo", "open", 300, "2027-03-01"))
    later = snapshot(("w", "Won", "won", 500, "2027-02-01"), ("p", "Demo", "open", 300, "2027-02-01"))
    quiet = snapshot_diff(late, later, PERIOD_END, STAGES)
    assert dict(quiet.waterfall)["won"] == 0 and dict(quiet.waterfall)["pulled in"] == 0
    assert waterfall_note(quiet).startswith("No deal moved the total.")
    assert "won: 1 deal" in waterfall_note(quiet) and "pulled in: 1 deal" in waterfall_note(quiet)


def test_every_change_is_listed_in_words() -> None:
    table = changes_table(snapshot_diff(LAST_WEEK, THIS_WEEK, PERIOD_END, STAGES))
    assert not [c for c in table.columns if "_" in c or c != c.strip()]
    assert table.set_index("Deal").loc["slips-out", "Counted in the chart as"] == "slipped out of period"


def test_open_deals_whose_close_date_has_passed_are_flagged() -> None:
    pipeline = snapshot(
        ("late", "Demo", "open", 400, "2026-11-09"),
        ("later", "Demo", "open", 900, "2026-10-01"),
        ("due today", "Demo", "open", 100, "2026-11-16"),
        ("won", "Won", "won", 800, "2026-11-01"),
    )
    overdue = overdue_deals(pipeline, AS_OF)
    assert overdue["Deal"].tolist() == ["later", "late"]  # the largest first; closed and today's deals are not late
    assert overdue["Days past"].tolist() == [46, 7]


# --------------------------------------------------------------------------- storage


@pytest.fixture
def con(tmp_path: Path):
    connection = store.connect(tmp_path / "team.duckdb")
    yield connection
    connection.close()


def test_snapshots_round_trip_and_count_repeat_slippers(con) -> None:
    store.save_snapshot(con, SYSTEM, "East", date(2026, 11, 2), LAST_WEEK)
    store.save_snapshot(con, SYSTEM, "East", date(2026, 11, 9), THIS_WEEK)
    later = THIS_WEEK.copy()
    later.loc[later["deal_id"] == "slips", "close_date"] = pd.Timestamp("2026-12-30")
    store.save_snapshot(con, SYSTEM, "East", date(2026, 11, 16), later)
    assert [s.snapshot_date for s in store.list_snapshots(con, "East")] == [
        date(2026, 11, 16),
        date(2026, 11, 9),
        date(2026, 11, 2),
    ]
    back = store.get_snapshot(con, "East", date(2026, 11, 9))
    assert sorted(back["deal_id"]) == sorted(THIS_WEEK["deal_id"])
    slips = store.slip_counts(con, "East", date(2026, 11, 16))
    assert slips["slips"] == 2 and slips["slips-out"] == 1
    assert store.slip_counts(con, "East", date(2026, 11, 9))["slips"] == 1


def test_saving_a_snapshot_again_replaces_that_days(con) -> None:
    store.save_snapshot(con, SYSTEM, "East", date(2026, 11, 2), LAST_WEEK)
    store.save_snapshot(con, SYSTEM, "East", date(2026, 11, 2), THIS_WEEK.head(3))
    assert len(store.get_snapshot(con, "East", date(2026, 11, 2))) == 3


def test_an_empty_snapshot_is_refused_and_stores_nothing(con) -> None:
    with pytest.raises(store.StoreError, match="no deals"):
        store.save_snapshot(con, SYSTEM, "East", date(2026, 11, 2), LAST_WEEK.head(0))
    assert store.list_snapshots(con) == []


def test_demo_team_loads_reps_plans_and_weekly_snapshots(con) -> None:
    store.load_team(con, SYSTEM, demo_team(date(2026, 11, 22)))
    assert store.list_teams(con) == [("Mid-Market East", "Maya Brooks")]
    assert len(store.list_snapshots(con, "Mid-Market East")) == 4 + 13  # this quarter's, and last quarter's Mondays
    inputs = store.review_inputs(con, "Mid-Market East", date(2026, 11, 22))
    assert [r.rep for r in inputs] == ["Ana Lima", "Ben Carter", "Chloe Nguyen", "Dev Patel"]  # not the manager
    review = team_review(inputs, date(2026, 11, 22), store.get_snapshot(con, "Mid-Market East", date(2026, 11, 16)))
    assert {r.status for r in review.rows} == {"on track", "at risk", "off track"}


def test_a_rep_moves_team_and_becomes_a_manager(con) -> None:
    rep = store.add_rep(con, SYSTEM, "Zoe Park")
    store.update_rep(con, SYSTEM, rep, team="West", role="manager")
    assert store.list_teams(con) == [("West", "Zoe Park")]
    with pytest.raises(store.StoreError, match="Role must be"):
        store.update_rep(con, SYSTEM, rep, team="West", role="boss")


def test_slipped_deals_list_the_repeat_slippers_first() -> None:
    diff = snapshot_diff(LAST_WEEK, THIS_WEEK, PERIOD_END, STAGES)
    table = slipped_deals(diff, {"slips": 3, "slips-out": 1})
    assert table["Deal"].tolist() == ["slips", "slips-out"]
    assert table["Times slipped before"].tolist() == [2, 0]
    assert table["Out of the period"].tolist() == [False, True]


# --------------------------------------------------------------------------- the review's bulk reads, as Track reads

Q4_START, Q4_END = date(2026, 10, 5), date(2026, 12, 27)
TWO_STAGES = PlanInputs(100_000, 5_000, Q4_START, Q4_END, stages=(Stage("Calls", 4.0, 0), Stage("Meetings", 2.0, 0)))
WEDNESDAY = date(2026, 11, 18)


def test_the_review_reads_each_plan_as_track_does_and_a_team_in_three_queries(con, monkeypatch) -> None:
    from planner.milestones import WeekActual, bookings, plan_pace
    from planner.store import actuals as actuals_store
    from planner.store import plans as plans_store

    ana, ben, cy = (store.add_rep(con, SYSTEM, name, "East") for name in ("Ana", "Ben", "Cy"))
    plan = store.save_plan(con, SYSTEM, ana, "Q4", TWO_STAGES)
    store.save_actuals(
        con,
        SYSTEM,
        plan,
        [
            WeekActual(date(2026, 11, 9), 6_000, 1, {"Calls": 30, "Meetings": 9}),
            # Recorded day by day: Thursday's 5,000 is not booked yet on Wednesday.
            WeekActual(
                date(2026, 11, 16), 9_000, 1, {"Calls": 12}, {date(2026, 11, 17): 4_000, date(2026, 11, 19): 5_000}
            ),
        ],
    )
    stages = store.get_plan(con, plan).inputs.stages
    renamed = replace(TWO_STAGES, stages=tuple(replace(s, name="Dials") if s.name == "Calls" else s for s in stages))
    store.save_plan(con, SYSTEM, ana, "Q4", renamed, plan_id=plan)  # counts are kept by stage id
    q3 = replace(TWO_STAGES, period_start=date(2026, 7, 6), period_end=date(2026, 9, 27))
    ben_q3 = store.save_plan(con, SYSTEM, ben, "Q3", q3)
    store.delete_plan(con, SYSTEM, store.save_plan(con, SYSTEM, ben, "Q4", TWO_STAGES))  # Ben's current plan, deleted
    store.delete_plan(con, SYSTEM, store.save_plan(con, SYSTEM, cy, "Q4", TWO_STAGES))  # Cy's only plan, deleted

    queries = []
    for module in (plans_store, actuals_store):
        real = module._query
        monkeypatch.setattr(
            module, "_query", lambda c, sql, params=(), real=real: queries.append(sql) or real(c, sql, params)
        )
    reps = store.review_inputs(con, "East", WEDNESDAY)
    assert len(queries) == 3  # plans, milestones, actuals: however big the team
    monkeypatch.undo()

    assert [(r.rep, r.plan_name) for r in reps] == [("Ana", "Q4"), ("Ben", "Q3")]  # deleted plans are never chosen
    assert reps[1].milestones == tuple(store.get_milestones(con, ben_q3))
    ana_in = reps[0]
    assert ana_in.weekly_counts == {date(2026, 11, 16): {"Dials": 12}}  # as the plan names its stages now
    weekly, daily = bookings(store.get_actuals(con, plan))
    assert (dict(ana_in.weekly_revenue), dict(ana_in.daily_revenue)) == (weekly, daily)
    on_track = plan_pace(renamed, store.get_milestones(con, plan), weekly, WEDNESDAY, daily)
    row = next(r for r in team_review(reps, WEDNESDAY).rows if r.rep == "Ana")
    assert row.booked == on_track.booked == 10_000  # the same figure as Track's, Thursday's 5,000 not yet
    assert row.gap == pytest.approx(on_track.gap_to_milestone)
    _, activity = activity_check(reps, WEDNESDAY)
    ana_calls = activity[(activity["Rep"] == "Ana") & (activity["Stage"] == "Dials")]
    assert ana_calls["Done this week"].tolist() == [12]


def test_the_demo_team_is_written_as_every_other_write_stores_actuals(con) -> None:
    from planner.milestones import WeekActual

    team = demo_team(date(2026, 11, 22))
    plan_ids = store.load_team(con, SYSTEM, team)
    for plan_id, plan in zip(plan_ids, team.plans, strict=True):
        recorded = store.get_recorded_weeks(con, plan_id)
        assert [w.actual for w in recorded] == [
            WeekActual(w.week_start, w.revenue, w.deals_won, dict(w.stage_counts), dict(w.daily_revenue))
            for w in plan.weeks
        ]
        assert {w.version for w in recorded} <= {1}
    stored = con.execute("SELECT stage_counts FROM actuals WHERE stage_counts <> '{}' LIMIT 1").fetchone()[0]
    assert all(key.isdigit() for key in json.loads(stored))  # by stage id, so a renamed stage keeps its counts


def test_a_plan_recorded_day_by_day_adds_up_in_one_currency_day_by_day_too() -> None:
    monday = date(2026, 11, 16)
    eur = replace(
        review_input("Eva", {monday: 9_000.0}),
        daily_revenue={date(2026, 11, 17): 4_000.0, date(2026, 11, 19): 5_000.0},
        currency=EUR,
    )
    rollup = team_rollup([eur], WEDNESDAY, None, USD, RATES)
    assert rollup.review.totals.booked == pytest.approx(4_000 * 1.10)  # never 4,000 euros counted as dollars


# --------------------------------------------------------------------------- the diff as one DuckDB join (issue 18)

diff_rows = st.lists(
    st.tuples(
        st.sampled_from([f"D{i}" for i in range(10)]),
        st.sampled_from(["Ana", "Ben", "Eve"]),
        st.sampled_from(["Demo", "Proposal", "Contract", "Won", "Lost", "Mystery"]),
        st.sampled_from(["open", "open", "won", "lost"]),
        st.one_of(st.none(), st.integers(0, 5_000).map(float)),
        st.one_of(st.none(), st.dates(date(2026, 10, 1), date(2027, 3, 31))),
    ),
    max_size=14,  # deal ids repeat: the first row of a deal counts, as before
)


def rows_frame(rows: list) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "deal_id": pd.Series([r[0] for r in rows], dtype="str"),
            "owner": pd.Series([r[1] for r in rows], dtype="str"),
            "account": "Acme",
            "stage": pd.Series([r[2] for r in rows], dtype="str"),
            "outcome": pd.Series([r[3] for r in rows], dtype="str"),
            "amount": pd.Series([r[4] for r in rows], dtype="float64"),
            "close_date": pd.to_datetime(pd.Series([r[5] for r in rows], dtype="object")),
        }
    )


def assert_same_diff(new, old) -> None:
    assert new.counts == old.counts and new.cause_counts == old.cause_counts
    assert new.start_total == pytest.approx(old.start_total) and new.end_total == pytest.approx(old.end_total)
    assert dict(new.waterfall) == pytest.approx(dict(old.waterfall))
    assert list(new.changes.columns) == list(old.changes.columns)
    pd.testing.assert_frame_equal(new.changes, old.changes, check_dtype=False, check_exact=False)


@settings(max_examples=100, deadline=None)
@given(
    diff_rows,
    diff_rows,
    st.one_of(st.none(), st.just(PERIOD_END)),
    st.sampled_from([None, STAGES]),
    st.sampled_from([None, {}, {"Ana": 1.0, "Ben": 0.5}, {"Ana": None, "Eve": 2.0}]),
)
def test_the_one_join_diff_says_what_the_pandas_diff_said(older, newer, period_end, stages, rates) -> None:
    """Won, lost, slipped, new, moved stages and amounts changed: deal by deal, total by total, as before."""
    from bench.pandas_snapshot_diff import convert_pipeline as old_convert
    from bench.pandas_snapshot_diff import snapshot_diff as old_diff

    before, after = rows_frame(older), rows_frame(newer)
    old = old_diff(old_convert(before, rates or {}), old_convert(after, rates or {}), period_end, stages)
    assert_same_diff(snapshot_diff(before, after, period_end, stages, owner_rates=rates), old)


def test_the_one_join_diff_agrees_on_a_week_of_a_big_pipeline() -> None:
    from bench.bench_team import END, next_week
    from bench.bench_team import snapshot as big_snapshot
    from bench.pandas_snapshot_diff import snapshot_diff as old_diff

    rng = np.random.default_rng(18)
    older = big_snapshot(rng, 5_000)
    newer = next_week(rng, older)
    moved = rng.random(len(newer))
    newer.loc[moved < 0.05, "stage"] = rng.choice(["Calls", "Meetings", "Proposals"], (moved < 0.05).sum())
    newer.loc[(moved >= 0.05) & (moved < 0.07), ["stage", "outcome"]] = ["Closed Lost", "lost"]
    newer.loc[(moved >= 0.07) & (moved < 0.09), "amount"] *= 0.5
    new, old = snapshot_diff(older, newer, END), old_diff(older, newer, END)
    assert_same_diff(new, old)
    assert all(new.counts[c] > 0 for c in CHANGE_CATEGORIES if c != "pulled in")


def test_the_diff_of_two_stored_snapshots_read_as_arrow_is_the_diff_of_the_frames(con) -> None:
    from bench.pandas_snapshot_diff import convert_pipeline as old_convert
    from bench.pandas_snapshot_diff import snapshot_diff as old_diff

    this_week = THIS_WEEK.assign(owner=["Ana", "Ben"] * 5 + ["Eve"])
    store.save_snapshot(con, SYSTEM, "East", date(2026, 11, 2), LAST_WEEK)
    store.save_snapshot(con, SYSTEM, "East", date(2026, 11, 9), this_week)
    rates = {"Ana": 1.1, "Eve": None}  # Ben's plan is in the view's currency; Eve's has no rate: left out
    older, newer = (
        store.snapshot_deals(con, "East", date(2026, 11, 2)),
        store.snapshot_deals(con, "East", date(2026, 11, 9)),
    )
    assert older.num_rows == len(LAST_WEEK) and newer.num_rows == len(this_week)
    diff = snapshot_diff(older, newer, PERIOD_END, STAGES, owner_rates=rates)
    frames = [old_convert(store.get_snapshot(con, "East", d), rates) for d in (date(2026, 11, 2), date(2026, 11, 9))]
    assert_same_diff(diff, old_diff(*frames, PERIOD_END, STAGES))
    assert "brand-new" not in set(diff.changes["deal_id"])  # Eve's deal: no rate, not counted
    assert diff.changes.set_index("deal_id").loc["shrinks", "amount_after"] == pytest.approx(600 * 1.1)
