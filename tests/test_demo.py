"""The demo data (planner/demo.py): the same every time, and showing every state the pages have."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from planner.calibrate import Calibration
from planner.demo import (
    DEMO_PIPELINE,
    demo_crm_export,
    demo_email,
    demo_plans,
    demo_profile,
    demo_review_inputs,
    demo_snapshots,
    demo_team,
    quarter_of,
)
from planner.forecast import (
    METHODS,
    TEAM,
    RepStanding,
    deal_chances,
    forecast_accuracy,
    normalise_category,
    period_actuals,
)
from planner.team import ReviewInput, snapshot_diff, team_review

TODAY = date(2026, 11, 22)  # a Sunday in the year's fourth quarter


def test_the_same_day_and_seed_give_the_same_team_and_another_seed_another() -> None:
    assert demo_team(TODAY) == demo_team(TODAY)
    assert demo_team(TODAY).plans != demo_team(TODAY, seed=7).plans


def test_four_reps_and_their_manager_each_with_a_demo_sign_in() -> None:
    team = demo_team(TODAY)
    assert [(r.name, r.role) for r in team.reps] == [
        ("Ana Lima", "rep"),
        ("Ben Carter", "rep"),
        ("Chloe Nguyen", "rep"),
        ("Dev Patel", "rep"),
        ("Maya Brooks", "manager"),
    ]
    assert {r.team for r in team.reps} == {team.team}
    assert [r.email for r in team.reps] == [demo_email(r.name) for r in team.reps]
    assert demo_email("Maya Brooks") == "maya.brooks@demo.backplan.test"


def test_plans_cover_this_quarter_with_every_week_begun_recorded_this_one_so_far() -> None:
    start, end, label = quarter_of(TODAY)
    assert (start, end, label) == (date(2026, 10, 1), date(2026, 12, 31), "Q4 2026")
    for plan in demo_team(TODAY).plans:
        assert plan.name == label
        assert (plan.inputs.period_start, plan.inputs.period_end) == (start, end)
        assert plan.weeks, plan.rep
        assert plan.weeks[-1].week_start == TODAY - timedelta(days=TODAY.weekday())  # this week, booked so far
        assert all(w.revenue >= 0 and w.deals_won >= 0 for w in plan.weeks)


def _days_of(quarter_start: date) -> list[date]:
    """Every day of the quarter from its second Monday: by then the milestones call for something."""
    start, end, _ = quarter_of(quarter_start)
    second_monday = start + timedelta(days=7 - start.weekday())
    return [second_monday + timedelta(days=k) for k in range((end - second_monday).days + 1)]


def _demo_review(day: date) -> tuple[dict[str, str], dict[str, float]]:
    """Each demo rep's review status on ``day``, and their bookings as a share of what the milestones call for."""
    review = team_review(demo_review_inputs(demo_plans(day), day), day, demo_snapshots(day)[-1][1])
    return {r.rep: r.status for r in review.rows}, {r.rep: r.booked / r.milestone for r in review.rows}


def test_every_day_of_a_quarter_the_demo_has_a_rep_ahead_one_on_track_one_behind_one_far_behind() -> None:
    """The demo shows every state the pages have whatever the day it is loaded (it once did on a few days only)."""
    for day in _days_of(date(2026, 10, 1)) + _days_of(date(2027, 1, 1)):
        statuses, pace = _demo_review(day)
        assert pace["Ana Lima"] > 1.1, day  # ahead
        assert 0.9 < pace["Ben Carter"] < 1.0, day  # on track, a little short
        assert 0.5 < pace["Chloe Nguyen"] < 0.9, day  # behind
        assert pace["Dev Patel"] < 0.5, day  # far behind
        assert statuses["Ana Lima"] == "on track" and statuses["Ben Carter"] == "at risk", (day, statuses)
        assert statuses["Dev Patel"] == "off track", (day, statuses)


def test_weekly_snapshots_move_the_way_pipelines_do() -> None:
    snapshots = demo_snapshots(TODAY)
    assert [d for d, _ in snapshots] == [date(2026, 10, 26), date(2026, 11, 2), date(2026, 11, 9), date(2026, 11, 16)]
    for _, deals in snapshots:
        assert list(deals.columns) == [
            "deal_id", "owner", "account", "stage", "outcome", "amount", "close_date", "forecast_category",
        ]  # fmt: skip
        assert deals["deal_id"].is_unique
        assert set(deals["outcome"]) <= {"open", "won", "lost"}
    first, last = snapshots[0][1], snapshots[-1][1]
    assert len(last) > len(first)  # new deals arrive every week
    both = first.merge(last, on="deal_id", suffixes=("_then", "_now"))
    assert (both["close_date_now"] > both["close_date_then"]).sum() >= 4  # one deal per rep slips every week


def test_every_week_of_a_quarter_the_waterfall_has_each_cause() -> None:
    """Whichever Monday the demo is loaded, last week to this shows new deals, slips out of the period, losses
    and deals that dropped out of the export (one random stream once left "dropped out" empty every week)."""
    for monday in [date(2026, 10, 5) + timedelta(weeks=k) for k in range(26)]:
        older, newer = (frame for _, frame in demo_snapshots(monday)[-2:])
        diff = snapshot_diff(older, newer, period_end=quarter_of(monday)[1])
        moved = {cause for cause, amount in diff.waterfall if amount}
        assert moved >= {"slipped out of period", "lost", "dropped out"}, monday
        assert "new" in moved or monday + timedelta(days=7) > quarter_of(monday)[1], monday


def test_a_year_of_crm_deals_looks_like_a_hubspot_export() -> None:
    export = demo_crm_export(200)
    assert len(export) == 200 and export["Record ID"].is_unique
    assert export.equals(demo_crm_export(200))
    stages = {*export["Deal Stage"]}
    assert {"Closed Won", "Closed Lost"} <= stages <= {"Closed Won", "Closed Lost", *(s for s, _, _ in DEMO_PIPELINE)}
    won = export[export["Deal Stage"] == "Closed Won"]
    assert (won["Amount"] != "").all()  # lost deals may come without an amount; won deals never do
    assert (export.loc[export["Deal Stage"] == "Closed Lost", "Amount"] == "").any()
    entered = [c for c in export.columns if c.startswith("Date entered")]
    assert len(entered) == len(DEMO_PIPELINE) + 1
    assert (won[entered] != "").all().all()  # a won deal went through every stage
    assert pd.to_datetime(export["Create Date"]).dt.year.eq(2025).all()


def test_each_open_deal_carries_a_forecast_category_that_follows_its_stage() -> None:
    _, latest = demo_snapshots(TODAY)[-1]
    open_deals = latest[latest["outcome"] == "open"]
    categories = open_deals["forecast_category"].map(normalise_category)
    assert categories.notna().all()  # every one a category the forecast knows
    by_stage = categories.groupby(open_deals["stage"]).agg(lambda c: c.value_counts().index[0]).to_dict()
    assert by_stage["Contract Sent"] == "commit" and by_stage["Appointment Scheduled"] == "pipeline"


def test_last_quarter_is_finished_with_a_snapshot_every_monday_and_the_projections_shown_on_each() -> None:
    team = demo_team(TODAY)
    start, end, label = quarter_of(date(2026, 9, 30))
    assert [p.name for p in team.past_plans] == [label] * 4 and label == "Q3 2026"
    for plan in team.past_plans:
        assert (plan.inputs.period_start, plan.inputs.period_end) == (start, end)
        assert len(plan.weeks) == 14  # every week of the quarter recorded, the part weeks at each end too
    mondays = [day for day, _ in team.snapshots if day <= end]
    assert mondays[0] == date(2026, 7, 6) and mondays[-1] == date(2026, 9, 28) and len(mondays) == 13
    ids = [set(frame["deal_id"]) for _, frame in team.snapshots]
    assert not set().union(*ids[:13]) & set().union(*ids[13:])  # two quarters never share a deal
    assert [day for day, _, _ in team.projections] == [day for day, _ in team.snapshots]
    for _, currency, made in team.projections:
        assert currency == "USD"
        assert {(p.rep, p.method) for p in made} == {
            (who, method) for who in (TEAM, *(p.rep for p in team.plans)) for method in METHODS
        }


def test_the_demo_shows_which_method_was_most_accurate_last_quarter() -> None:
    team = demo_team(TODAY)
    end = team.past_plans[0].inputs.period_end
    finished = [ReviewInput(p.rep, i, p.name, p.inputs, (), {w.week_start: w.revenue for w in p.weeks})
                for i, p in enumerate(team.past_plans)]  # fmt: skip
    actuals = period_actuals({end: finished}, "USD", {})
    made = [p for _, _, day in team.projections for p in day]
    accuracy = forecast_accuracy(made, actuals)
    assert accuracy.best_method in METHODS
    assert {r.rep for r in accuracy.rows} == {TEAM, *(p.rep for p in team.past_plans)}
    assert "have not finished" in accuracy.notes[0]  # this quarter's projections wait


def test_the_demo_profile_knows_every_stage_of_the_demo_pipeline() -> None:
    profile = Calibration.from_dict(demo_profile().result)
    plans = demo_team(TODAY).plans
    reps = [RepStanding(p.rep, p.inputs.target, 0.0, p.inputs.period_start, p.inputs.period_end) for p in plans]
    _, notes = deal_chances(demo_snapshots(TODAY)[-1][1], profile, reps)
    assert not [n for n in notes if "stages" in n]  # no deal at a stage the profile cannot follow to won


def test_changing_the_tables_of_one_demo_team_changes_no_other() -> None:
    """A day's team is made once and kept; a caller that changed its frames once changed every later demo
    (a test renamed Ana's deals, and every Team review after it had her with no pipeline)."""
    team = demo_team(TODAY)
    team.snapshots[-1][1].loc[:, "owner"] = "Someone else"
    team.profile.deals["amount"] = -1.0
    team.profile.result.clear()
    fresh = demo_team(TODAY)
    assert "Ana Lima" in set(fresh.snapshots[-1][1]["owner"])
    assert (fresh.profile.deals["amount"] != -1.0).all() and fresh.profile.result
    assert demo_profile().result and (demo_profile().deals["amount"] != -1.0).all()
