"""Applying a calibration profile on the Plan page, and planning for a chance of hitting the target."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from planner import store
from planner.access import SYSTEM
from planner.calibrate import calibrate_export
from planner.milestones import build_milestones
from tests.conftest import ROOT, box, metric, open_store, slider, stage_editor

SAMPLE = ROOT / "data" / "sample_crm_export.csv"


def save_sample_profile(database: Path, name: str = "FY2025") -> int:
    deals, result = calibrate_export(SAMPLE.read_bytes(), SAMPLE.name)
    with open_store(database) as con:
        return store.save_profile(
            con,
            SYSTEM,
            name,
            SAMPLE.name,
            result.to_dict(),
            deals.deals,
            rows_read=deals.rows_read,
            rows_bad=deals.rows_bad,
        )


@pytest.fixture
def with_profile(database: Path) -> tuple[AppTest, int]:
    profile_id = save_sample_profile(database)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30).run()
    assert not at.exception, at.exception
    return at, profile_id


def apply(at: AppTest, profile_id: int) -> AppTest:
    at.selectbox(key="plan.profile_pick").set_value(profile_id).run()
    at.button(key="btn.profile_apply").click().run()
    assert not at.exception, at.exception
    return at


def test_without_profiles_the_plan_points_to_calibrate(app: AppTest) -> None:
    assert any("none saved yet" in c.value for c in app.caption)
    assert app.radio(key="plan.confidence").disabled


def test_applying_a_profile_sets_deal_size_funnel_lags_and_coverage(with_profile) -> None:
    at, profile_id = with_profile
    apply(at, profile_id)
    assert box(at, "Average deal size").value == 14_595  # the sample's average won deal
    funnel = stage_editor(at).value
    assert funnel["Stage"].tolist() == ["Appointment Scheduled", "Qualified To Buy", "Presentation Scheduled",
                                        "Contract Sent"]  # fmt: skip
    # 1 ÷ each stage's conversion over closed deals: 2.05 × 1.69 × 1.86 × 1.39 ≈ 8.96 = 1 ÷ the 11.1% win rate
    assert funnel["Ratio"].tolist() == [2.05, 1.69, 1.86, 1.39]
    assert all(lag > 0 for lag in funnel["Lag, days"])
    assert at.text_input(key="plan.won_stage").value == "Closed Won"
    # 1 ÷ the 11.9% value win rate, exactly: not rounded to the slider's half steps (8.5)
    suggested = calibrate_export(SAMPLE.read_bytes(), SAMPLE.name)[1].overall.suggested_coverage
    assert box(at, "Pipeline coverage").value == pytest.approx(suggested, rel=1e-12)
    assert round(suggested, 2) == 8.42
    assert slider(at, "Drag to change the pipeline coverage").value == 8.5  # the slider only drags
    coverage_chart = next(c for c in at.get("plotly_chart") if "Open pipeline needed" in c.proto.spec)
    assert "8.42" in coverage_chart.proto.spec  # the legend: "Pipeline needed (8.42× coverage)"
    assert "Historical" in " ".join(at.selectbox(key="plan.milestone_shape").options)
    # $385,000 ÷ $14,595 → 27 deals
    assert metric(at, "Deals needed") == "27"


def test_planning_for_80_percent_needs_more_activity_than_expected(with_profile) -> None:
    at, profile_id = with_profile
    apply(at, profile_id)
    expected_deals = int(metric(at, "Deals needed"))
    chance = metric(at, "Chance the expected plan hits the target")
    assert 40 <= int(chance.rstrip("%")) <= 60  # the expected case is a coin toss
    at.radio(key="plan.confidence").set_value("0.8").run()
    assert int(metric(at, "Deals to plan for (80% sure)")) > expected_deals
    table = next(d.value for d in at.dataframe if "Plan for" in d.value.columns)
    tops = table.iloc[:, 1].tolist()
    assert table["Plan for"].tolist() == ["Expected case", "50% chance", "80% chance", "90% chance"]
    assert tops[1] <= tops[2] <= tops[3]
    assert any("80% confidence" in c.value for c in at.caption)


def test_a_plan_saved_with_the_historical_shape_follows_the_profile(with_profile, database: Path) -> None:
    at, profile_id = with_profile
    apply(at, profile_id)
    at.selectbox(key="plan.milestone_shape").set_value("historical").run()
    at.text_input(key="plan.new_rep").set_value("Ana Lima")
    at.text_input(key="plan.name").set_value("FY2027")
    at.button(key="btn.plan_save").click().run()
    assert not at.error, [e.value for e in at.error]
    with open_store(database) as con:
        plan = store.get_plan(con, at.session_state["plan.loaded_id"])
        assert plan.profile_id == profile_id and plan.milestone_shape == "historical"
        shares = store.profile_month_shares(con, profile_id)
        stored = store.get_milestones(con, plan.id)
    i = plan.inputs
    expected = build_milestones(
        i.target, i.period_start, i.period_end, plan.cadence, "historical", shares=shares, holiday_weeks=i.holiday_weeks
    )
    assert [round(m.cumulative) for m in stored] == [round(m.cumulative) for m in expected]


def test_stop_using_the_profile_turns_confidence_off(with_profile) -> None:
    at, profile_id = with_profile
    apply(at, profile_id)
    at.button(key="btn.profile_clear").click().run()
    assert at.radio(key="plan.confidence").disabled
    assert "Chance the expected plan hits the target" not in [m.label for m in at.metric]


def test_a_plan_for_a_90_percent_chance_is_saved_and_reopens_for_that_chance(with_profile, database: Path) -> None:
    # It was not saved: the reopened plan fell back to the expected case, and Track used the expected plan.
    at, profile_id = with_profile
    apply(at, profile_id)
    at.radio(key="plan.confidence").set_value("0.9").run()
    sure_deals = metric(at, "Deals to plan for (90% sure)")
    at.text_input(key="plan.new_rep").set_value("Ana Lima")
    at.text_input(key="plan.name").set_value("FY2027")
    at.button(key="btn.plan_save").click().run()
    assert not at.error, [e.value for e in at.error]
    plan_id = at.session_state["plan.loaded_id"]
    with open_store(database) as con:
        assert store.get_plan(con, plan_id).confidence == 0.9
    at.button(key="btn.plan_new").click().run()
    assert at.radio(key="plan.confidence").value == "expected"
    at.selectbox(key="plan.pick").set_value(plan_id).run()
    at.button(key="btn.plan_open").click().run()
    assert at.radio(key="plan.confidence").value == "0.9"
    assert metric(at, "Deals to plan for (90% sure)") == sure_deals


def test_track_plans_the_activity_for_the_chance_the_plan_was_saved_for(with_profile, database: Path) -> None:
    at, profile_id = with_profile
    apply(at, profile_id)
    at.radio(key="plan.confidence").set_value("0.9").run()
    weekly_top = float(metric(at, "Appointment Scheduled"))
    at.text_input(key="plan.new_rep").set_value("Ana Lima")
    at.text_input(key="plan.name").set_value("FY2027")
    at.button(key="btn.plan_save").click().run()
    at.switch_page("pages/track.py").run()
    assert not at.exception, at.exception
    assert any("Planned for a **90% chance** of hitting" in c.value for c in at.caption)
    recovery = next(d.value for d in at.dataframe if "Plan per week" in d.value.columns)
    assert recovery["Plan per week"].iloc[0] == f"{weekly_top:,.1f}"  # the Plan page's 90% plan, not the expected


def test_counts_of_one_read_in_the_singular(database: Path) -> None:
    # "1 deals", "1 won deals" were seen.
    deals, result = calibrate_export(b"Deal ID,Stage,Amount,Close Date\n1,Closed Won,5000,2025-03-04\n", "one.csv")
    with open_store(database) as con:
        profile_id = store.save_profile(
            con, SYSTEM, "One deal", "one.csv", result.to_dict(), deals.deals, rows_read=1, rows_bad=0
        )
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30).run()
    assert at.selectbox(key="plan.profile_pick").options == ["One deal (1 deal)"]
    apply(at, profile_id)
    assert any("1 won deal," in c.value for c in at.caption)
