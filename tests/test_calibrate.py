"""Calibration figures from hand-built deal lists, intervals, plan settings, confidence, and saved profiles."""

from __future__ import annotations

import dataclasses
import json
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pytest import approx

from planner import store
from planner.access import SYSTEM
from planner.calibrate import (
    FALLBACK_RATIO,
    Calibration,
    CalibrationError,
    StageConversion,
    calibrate,
    calibrate_export,
    confidence,
    plan_settings,
    wilson_interval,
)
from planner.funnel import PlanInputs, Stage
from planner.milestones import build_milestones

ROOT = Path(__file__).resolve().parent.parent
STAGES = ("Call", "Demo", "Proposal", "Won")
NaT = pd.NaT


def day(text: str | None) -> pd.Timestamp:
    return pd.Timestamp(text) if text else NaT


# owner, outcome, amount, furthest, created, closed, entered 0..3 (stage history for the won deals only)
ROWS = [
    ("Ana", "won", 1000.0, 3, "2025-01-01", "2025-01-31", "2025-01-01", "2025-01-05", "2025-01-15", "2025-01-31"),
    ("Ana", "won", 3000.0, 3, "2025-02-01", "2025-03-13", "2025-02-01", "2025-02-09", "2025-02-11", "2025-03-13"),
    ("Ana", "lost", 2000.0, 2, "2025-01-10", "2025-02-10", None, None, None, None),
    ("Ana", "lost", 1000.0, 0, "2025-01-10", "2025-01-20", None, None, None, None),
    ("Ana", "open", 500.0, 1, "2025-03-01", None, None, None, None, None),
    ("Ben", "won", 8000.0, 3, "2025-03-01", "2025-03-21", "2025-03-01", "2025-03-07", "2025-03-09", "2025-03-21"),
    ("Ben", "lost", 1000.0, 1, "2025-02-01", "2025-02-20", None, None, None, None),
    ("Ben", "lost", 1000.0, 0, "2025-02-01", "2025-02-05", None, None, None, None),
    ("Ben", "open", 1000.0, 2, "2025-03-05", None, None, None, None, None),
    ("Ben", "open", 100.0, 0, "2025-03-20", None, None, None, None, None),
]


def deals_frame(history: bool = True) -> pd.DataFrame:
    frame = pd.DataFrame(
        [r[:4] + tuple(day(d) for d in r[4:]) for r in ROWS],
        columns=["owner", "outcome", "amount", "furthest", "created", "closed", *[f"entered_{i}" for i in range(4)]],
    )
    return frame if history else frame.drop(columns=[f"entered_{i}" for i in range(4)])


def counts(figures: object) -> list[tuple[int, int]]:
    return [(c.reached, c.advanced) for c in figures.conversions]  # type: ignore[attr-defined]


def test_overall_figures_by_hand() -> None:
    # won 1,000 + 3,000 + 8,000 = 12,000 (3 deals); lost 2,000 + 1,000 + 1,000 + 1,000 = 5,000 (4); open 3
    # win rate 3/7; value 12,000 / 17,000; coverage 17/12; deal size mean 4,000, median 3,000
    # cycle 30, 40, 20 days → median 30, quartiles 25 and 35
    # conversion counts closed deals only (so the steps multiply out to the win rate):
    # closed deals by furthest stage: 0: 2, 1: 1, 2: 1, 3: 3 → at or beyond 7, 5, 4, 3
    # Call → Demo 5 / 7; Demo → Proposal 4 / 5; Proposal → Won 3 / 4; 5/7 × 4/5 × 3/4 = 3/7, the win rate
    result = calibrate(deals_frame(), STAGES)
    o = result.overall
    assert o.owner is None
    assert (o.deals, o.won, o.lost, o.open) == (10, 3, 4, 3)
    assert o.win_rate == approx(3 / 7)
    assert o.win_rate_value == approx(12 / 17)
    assert o.suggested_coverage == approx(17 / 12)
    assert (o.avg_deal_size, o.median_deal_size) == (4000.0, 3000.0)
    assert (o.cycle_q1_days, o.cycle_median_days, o.cycle_q3_days, o.cycle_deals) == (25.0, 30.0, 35.0, 3)
    assert counts(o) == [(7, 5), (5, 4), (4, 3)]
    assert [c.rate for c in o.conversions] == approx([5 / 7, 4 / 5, 3 / 4])
    assert [(c.from_stage, c.to_stage) for c in o.conversions] == [
        ("Call", "Demo"),
        ("Demo", "Proposal"),
        ("Proposal", "Won"),
    ]
    # seasonality: 1,000 closed in January, 11,000 in March
    assert result.seasonality == approx((1 / 12, 0, 11 / 12, 0, 0, 0, 0, 0, 0, 0, 0, 0))
    assert sum(result.quarter_weeks) == approx(1.0)
    # histograms hold every won deal and every cycle
    assert sum(result.deal_size_bins[1]) == 3 and sum(result.cycle_bins[1]) == 3
    assert (result.rows_read, result.rows_bad) == (10, 0)


def test_per_owner_figures_by_hand() -> None:
    # Ana: won 1,000 + 3,000, lost 2,000 + 1,000, 1 open → 0.5, value 4/7, deal size 2,000, cycle 30 & 40 → 35
    #   closed by furthest 0: 1, 1: 0, 2: 1, 3: 2 → at or beyond 4, 3, 3, 2 → (4, 3), (3, 3), (3, 2)
    # Ben: won 8,000, lost 1,000 + 1,000, 2 open → 1/3, value 0.8, deal size 8,000, cycle 20
    #   closed by furthest 0: 1, 1: 1, 2: 0, 3: 1 → at or beyond 3, 2, 1, 1 → (3, 2), (2, 1), (1, 1)
    result = calibrate(deals_frame(), STAGES)
    owners = {f.owner: f for f in result.by_owner}
    assert list(owners) == ["Ana", "Ben"]
    ana, ben = owners["Ana"], owners["Ben"]
    assert (ana.won, ana.lost, ana.open, ana.win_rate) == (2, 2, 1, 0.5)
    assert ana.win_rate_value == approx(4 / 7)
    assert (ana.avg_deal_size, ana.median_deal_size, ana.cycle_median_days) == (2000.0, 2000.0, 35.0)
    assert counts(ana) == [(4, 3), (3, 3), (3, 2)]
    assert (ben.won, ben.lost, ben.open) == (1, 2, 2)
    assert ben.win_rate == approx(1 / 3) and ben.win_rate_value == approx(0.8)
    assert (ben.avg_deal_size, ben.cycle_median_days, ben.suggested_coverage) == (8000.0, 20.0, approx(1.25))
    assert counts(ben) == [(3, 2), (2, 1), (1, 1)]
    # the owners add up to the team
    assert sum(f.deals for f in result.by_owner) == result.overall.deals


def test_lags_come_from_stage_history_medians() -> None:
    # Call → Demo: 4, 8, 6 days → 6; Demo → Proposal: 10, 2, 2 → 2; Proposal → Won: 16, 30, 12 → 16
    result = calibrate(deals_frame(), STAGES)
    assert result.lag_days == (6.0, 2.0, 16.0)
    assert result.lag_source == "stage history" and result.has_history


def test_without_history_the_cycle_is_split_evenly_and_said() -> None:
    result = calibrate(deals_frame(history=False), STAGES)
    assert result.lag_days == (10.0, 10.0, 10.0)  # median cycle 30 over 3 steps
    assert result.lag_source == "sales cycle" and not result.has_history
    assert any("split evenly" in n for n in result.notes)


def test_too_few_stages_and_no_deals_are_calibration_errors() -> None:
    with pytest.raises(CalibrationError, match="Calibration needs the funnel's stages, ending in the won stage"):
        calibrate(deals_frame(), ())
    with pytest.raises(CalibrationError, match="No deals to calibrate from"):
        calibrate(deals_frame().iloc[0:0], STAGES)


def test_a_team_with_only_open_deals_has_no_win_rate_and_says_why() -> None:
    frame = deals_frame()
    frame = frame[frame["outcome"] == "open"]
    result = calibrate(frame, STAGES)
    o = result.overall
    assert (o.won, o.lost, o.open, o.win_rate, o.suggested_coverage) == (0, 0, 3, None, None)
    assert result.lag_days == (None, None, None) and result.lag_source == "none"
    assert any("no won deals" in n for n in result.notes)


def test_won_deals_worth_nothing_have_no_value_win_rate_and_do_not_crash() -> None:
    """Found by the NUL-byte property: one won deal of amount 0 and a lost deal with no amount divided 0 by 0."""
    export = (
        "Id,StageName,Amount,CreatedDate,CloseDate\r\n"
        "0060000,Closed Won,0,2024-01-01T09:00:00.000Z,2024-01-02\r\n"
        "0060001,Closed Lost,,2024-01-01T09:00:00.000Z,2024-01-02\r\n"
        "0060002,Closed Lost,0,2024-01-01T09:00:00.000Z,2024-01-02\r\n"
    )
    for rows in (export, export.rsplit("0060002", 1)[0]):  # most lost deals without an amount, then half of them
        _, result = calibrate_export(rows.encode(), "Opportunity.csv")
        o = result.overall
        assert (o.won, o.win_rate_value, o.suggested_coverage) == (1, None, None)


def test_won_deals_worth_nothing_and_lost_deals_without_amounts_have_no_value_win_rate() -> None:
    # Found by test_calibrate_properties: a won deal of 0 and a lost deal with no amount divided 0 by 0.
    frame = pd.DataFrame(
        {"owner": ["Ana", "Ana"], "outcome": ["won", "lost"], "amount": [0.0, float("nan")], "furthest": [3, 0]}
    )
    o = calibrate(frame, STAGES).overall
    assert (o.won, o.lost, o.win_rate) == (1, 1, 0.5)
    assert (o.win_rate_value, o.suggested_coverage) == (None, None)


# --------------------------------------------------------------------------- Wilson interval


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 5000), st.data())
def test_wilson_interval_holds_the_rate_inside_0_and_1(reached: int, data: st.DataObject) -> None:
    advanced = data.draw(st.integers(0, reached))
    low, high = wilson_interval(advanced, reached)
    assert 0.0 <= low <= advanced / reached <= high <= 1.0


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 200), st.integers(1, 9), st.integers(2, 20))
def test_wilson_interval_narrows_as_the_sample_grows(base: int, tenths: int, factor: int) -> None:
    # same rate (tenths / 10), base × 10 deals against factor times more
    small = wilson_interval(base * tenths, base * 10)
    large = wilson_interval(base * tenths * factor, base * 10 * factor)
    assert large[1] - large[0] < small[1] - small[0]


def test_wilson_interval_of_nothing_is_everything() -> None:
    assert wilson_interval(0, 0) == (0.0, 1.0)
    assert wilson_interval(15, 30) == (approx(0.332, abs=1e-3), approx(0.668, abs=1e-3))


# --------------------------------------------------------------------------- into a plan


def test_plan_settings_ratio_is_one_over_the_rate_and_lags_from_history() -> None:
    settings_ = plan_settings(calibrate(deals_frame(), STAGES))
    # ratios 7/5, 5/4, 4/3 rounded to cents (their product is 1 / the win rate); lags 6, 2, 16 days
    assert settings_.stages == (Stage("Call", 1.4, 6), Stage("Demo", 1.25, 2), Stage("Proposal", 1.33, 16))
    assert (settings_.deal_size, settings_.won_stage) == (4000.0, "Won")
    assert settings_.coverage_ratio == approx(17 / 12)
    assert settings_.notes == ()


def test_plan_settings_falls_back_and_says_so_for_a_stage_without_evidence() -> None:
    result = calibrate(deals_frame(), STAGES)
    empty = StageConversion("Demo", "Proposal", 0, 0, None, 0.0, 1.0)
    conversions = (result.overall.conversions[0], empty, result.overall.conversions[2])
    result = dataclasses.replace(result, overall=dataclasses.replace(result.overall, conversions=conversions))
    settings_ = plan_settings(result)
    assert settings_.stages[1] == Stage("Demo", FALLBACK_RATIO, 2)
    assert settings_.notes == (
        "No deal that reached “Demo” went on to “Proposal”: its ratio is set to 2 : 1 — check it.",
    )


def test_plan_settings_needs_won_deals() -> None:
    frame = deals_frame()
    with pytest.raises(CalibrationError, match="no won deals with an amount"):
        plan_settings(calibrate(frame[frame["outcome"] != "won"], STAGES))


# --------------------------------------------------------------------------- confidence

SURE = dict(target=385_000, deal_size=3850, deal_size_sd=1000)


def test_confidence_is_the_same_for_the_same_seed() -> None:
    first = confidence(rates=[0.5, 0.5, 0.5], sample_sizes=[30, 30, 30], deal_size_deals=30, planned_top=800, **SURE)
    again = confidence(rates=[0.5, 0.5, 0.5], sample_sizes=[30, 30, 30], deal_size_deals=30, planned_top=800, **SURE)
    assert first == again


def test_higher_confidence_needs_more_activity() -> None:
    c = confidence(rates=[0.5, 0.4, 0.6], sample_sizes=[200, 150, 90], deal_size_deals=90, planned_top=1000, **SURE)
    tops = {lv.level: lv.top_of_funnel for lv in c.levels}
    assert tops[0.9] >= tops[0.8] >= tops[0.5]
    assert tops[0.9] > tops[0.5]


def test_thirty_deals_are_far_less_certain_than_three_thousand() -> None:
    few = confidence(rates=[0.5, 0.5, 0.5], sample_sizes=[30] * 3, deal_size_deals=30, planned_top=800, **SURE)
    many = confidence(rates=[0.5, 0.5, 0.5], sample_sizes=[3000] * 3, deal_size_deals=3000, planned_top=800, **SURE)
    assert few.expected_top == many.expected_top == 800  # 100 deals / 0.125
    extra_few = {lv.level: lv.multiplier - 1 for lv in few.levels}
    extra_many = {lv.level: lv.multiplier - 1 for lv in many.levels}
    assert extra_few[0.9] > 3 * extra_many[0.9]
    assert extra_few[0.8] > 3 * extra_many[0.8]


def test_the_expected_plan_hits_about_half_the_time_and_the_90_percent_plan_about_nine_in_ten() -> None:
    args = dict(rates=[0.5, 0.5, 0.5], sample_sizes=[3000] * 3, deal_size_deals=3000, **SURE)
    expected = confidence(planned_top=800, **args)
    assert 0.4 <= expected.chance_plan_hits <= 0.6
    ninety = next(lv for lv in expected.levels if lv.level == 0.9).top_of_funnel
    assert 0.85 <= confidence(planned_top=ninety, **args).chance_plan_hits <= 0.95
    assert confidence(planned_top=400, **args).chance_plan_hits < 0.01


def test_confidence_refuses_impossible_inputs_in_words() -> None:
    with pytest.raises(CalibrationError, match="one sample size per conversion rate"):
        confidence(rates=[0.5, 0.5], sample_sizes=[30], deal_size_deals=30, planned_top=800, **SURE)
    with pytest.raises(CalibrationError, match="conversion rates above 0%"):
        confidence(rates=[0.5, 0.0], sample_sizes=[30, 30], deal_size_deals=30, planned_top=800, **SURE)


# --------------------------------------------------------------------------- profiles in the store


def test_to_dict_from_dict_round_trips_through_json() -> None:
    result = calibrate(deals_frame(), STAGES, notes=("read from a test",))
    again = Calibration.from_dict(json.loads(json.dumps(result.to_dict())))
    assert again == result


@pytest.fixture
def con(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    connection = store.connect(tmp_path / "x.duckdb")
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def sample() -> tuple[object, Calibration]:
    return calibrate_export((ROOT / "data" / "sample_crm_export.csv").read_bytes(), "sample_crm_export.csv")


def deal_count(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute("SELECT count(*) FROM deals").fetchone()[0]


def test_profile_round_trip(con: duckdb.DuckDBPyConnection, sample: tuple) -> None:
    deals, result = sample
    profile_id = store.save_profile(
        con, SYSTEM, "  2025 deals ", "sample_crm_export.csv", result.to_dict(), deals.deals, rows_read=1500, rows_bad=0
    )
    [summary] = store.list_profiles(con)
    assert (summary.id, summary.name, summary.source_file) == (profile_id, "2025 deals", "sample_crm_export.csv")
    assert (summary.rows_read, summary.rows_used, summary.rows_bad) == (1500, len(deals.deals), 0)
    found = store.get_profile(con, profile_id)
    assert found is not None and found[0] == summary
    assert Calibration.from_dict(found[1]) == result
    assert store.profile_month_shares(con, profile_id) == approx(list(result.seasonality))
    assert deal_count(con) == len(deals.deals)

    second = store.save_profile(
        con, SYSTEM, "Q1 only", "q1.csv", result.to_dict(), deals.deals.head(10), rows_read=10, rows_bad=0
    )
    assert [p.name for p in store.list_profiles(con)] == ["Q1 only", "2025 deals"]  # newest first
    store.delete_profile(con, SYSTEM, profile_id)
    assert [p.id for p in store.list_profiles(con)] == [second]
    assert store.get_profile(con, profile_id) is None and store.profile_month_shares(con, profile_id) is None
    assert deal_count(con) == 10


def test_a_duplicate_profile_name_is_refused_and_nothing_is_half_written(
    con: duckdb.DuckDBPyConnection, sample: tuple
) -> None:
    deals, result = sample
    store.save_profile(con, SYSTEM, "2025 deals", "a.csv", result.to_dict(), deals.deals, rows_read=1500, rows_bad=0)
    before = deal_count(con)
    with pytest.raises(store.StoreError, match=r"There is already a profile called “2025 deals” — pick another name\."):
        store.save_profile(
            con, SYSTEM, "2025 deals", "b.csv", result.to_dict(), deals.deals, rows_read=1500, rows_bad=0
        )
    assert deal_count(con) == before
    assert [p.source_file for p in store.list_profiles(con)] == ["a.csv"]
    with pytest.raises(store.StoreError, match="Give the profile a name"):
        store.save_profile(con, SYSTEM, "  ", "b.csv", result.to_dict(), deals.deals, rows_read=1500, rows_bad=0)


YEAR = PlanInputs(
    target=1_200_000,
    deal_size=12_000,
    period_start=date(2027, 1, 1),
    period_end=date(2027, 12, 31),
    stages=(Stage("Meetings", 2.0, 10), Stage("Proposals", 2.0, 14)),
    won_stage="Won",
)


def test_a_historical_plan_follows_the_profiles_seasonality(con: duckdb.DuckDBPyConnection, sample: tuple) -> None:
    deals, result = sample
    profile_id = store.save_profile(
        con, SYSTEM, "2025", "s.csv", result.to_dict(), deals.deals, rows_read=1500, rows_bad=0
    )
    plan_id = store.save_plan(
        con, SYSTEM, "Ana Lima", "FY2027", YEAR, milestone_shape="historical", profile_id=profile_id
    )
    saved = store.get_milestones(con, plan_id)
    expected = build_milestones(
        YEAR.target, YEAR.period_start, YEAR.period_end, "auto", "historical", shares=list(result.seasonality)
    )
    assert [(m.due, round(m.cumulative, 2)) for m in saved] == [(m.due, round(m.cumulative, 2)) for m in expected]
    linear = build_milestones(YEAR.target, YEAR.period_start, YEAR.period_end, "auto", "linear")
    assert [m.cumulative for m in saved] != approx([m.cumulative for m in linear], rel=0.01)
    assert saved[-1].cumulative == approx(YEAR.target)
    plan = store.get_plan(con, plan_id)
    assert plan is not None and plan.profile_id == profile_id


def test_historical_without_a_profile_is_a_clear_error_and_writes_nothing(con: duckdb.DuckDBPyConnection) -> None:
    for profile_id in (None, 999):
        with pytest.raises(store.StoreError, match="historical milestone shape follows a calibration profile"):
            store.save_plan(
                con, SYSTEM, "Ana Lima", "FY2027", YEAR, milestone_shape="historical", profile_id=profile_id
            )
    assert store.list_plans(con) == [] and store.list_reps(con) == []


def test_deals_with_blank_ids_can_be_saved(con: duckdb.DuckDBPyConnection) -> None:
    # two deals whose Deal ID cell is blank are two deals, named by their rows, and the profile saves
    deals, result = calibrate_export(b"Deal ID,Stage,Amount\n,Closed Won,100\n,Proposal,5\n1,Closed Lost,4\n", "x.csv")
    assert deals.deals["deal_id"].tolist() == ["row 2", "row 3", "1"]
    store.save_profile(con, SYSTEM, "blank ids", "x.csv", result.to_dict(), deals.deals, rows_read=3, rows_bad=0)
    assert deal_count(con) == 3
