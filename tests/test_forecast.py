"""The forecast range, losing the biggest deal, forecast categories and forecast accuracy (issue 17)."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner import forecast as fc
from planner.calibrate import Calibration, Figures, StageConversion
from planner.forecast import (
    TEAM,
    ForecastError,
    RecordedProjection,
    RepStanding,
    accuracy_by_week,
    days_at_stage,
    deal_chances,
    forecast,
    forecast_accuracy,
    forecast_categories,
    normalise_category,
    record_projections,
    recovery_after_pipeline,
    rep_standings,
    simulate_wins,
)
from planner.funnel import PlanInputs, Stage, build_plan
from planner.milestones import build_milestones, plan_pace
from planner.team import CurrencyView, ReviewInput, TeamReview, TeamRollup, team_review, team_rollup

START, END = date(2027, 1, 1), date(2027, 3, 31)
AS_OF = date(2027, 2, 15)
STAGES = ("Demo", "Proposal", "Contract", "Won")


def profile(rates: tuple[float, ...] = (0.5, 0.5, 0.8), lags: tuple[float | None, ...] = (10, 20, 14)) -> Calibration:
    """A calibrated profile with these stage conversions (Demo → Proposal → Contract → Won) and days at each stage."""
    conversions = tuple(
        StageConversion(STAGES[i], STAGES[i + 1], 100, round(rate * 100), rate, rate, rate)
        for i, rate in enumerate(rates)
    )
    overall = Figures(
        owner=None, deals=200, won=40, lost=60, open=100, win_rate=0.4, win_rate_value=0.4, avg_deal_size=10_000.0,
        median_deal_size=9_000.0, deal_size_sd=3_000.0, won_with_amount=40, cycle_median_days=44.0,
        cycle_q1_days=30.0, cycle_q3_days=60.0, cycle_deals=40, suggested_coverage=2.5, conversions=conversions,
    )  # fmt: skip
    return Calibration(overall, (), STAGES, tuple(lags), "stage history", (), (), ((), ()), ((), ()))


CERTAIN = profile((1.0, 1.0, 1.0))


def deals(*rows: tuple, **columns: object) -> pd.DataFrame:
    """(deal_id, owner, stage, amount, close date) rows as a snapshot, plus any extra columns."""
    frame = pd.DataFrame(
        {
            "deal_id": [r[0] for r in rows],
            "owner": [r[1] for r in rows],
            "stage": [r[2] for r in rows],
            "amount": [float(r[3]) for r in rows],
            "close_date": pd.to_datetime([r[4] for r in rows]),
            "outcome": "open",
        }
    )
    return frame.assign(**columns)


def rep(name: str = "Ana", target: float = 100_000, booked: float = 0.0) -> RepStanding:
    return RepStanding(name, target, booked, START, END)


# --------------------------------------------------------------------------- each deal's chance


def test_a_deals_chance_is_its_stages_win_rate_to_won() -> None:
    table, notes = deal_chances(
        deals(("d", "Ana", "Demo", 10, "2027-03-01"), ("c", "Ana", "contract ", 10, "2027-03-01")), profile(), [rep()]
    )
    # Demo → Proposal → Contract → Won: 0.5 × 0.5 × 0.8; a stage matches whatever its case and spacing.
    assert table["chance"].tolist() == pytest.approx([0.2, 0.8])
    assert notes == ()


def test_each_slip_halves_a_deals_chance() -> None:
    table, _ = deal_chances(
        deals(*[(f"s{n}", "Ana", "Contract", 10, "2027-03-01") for n in range(4)]),
        profile(),
        [rep()],
        slips={"s1": 1, "s2": 2, "s3": 3},
    )
    assert table["chance"].tolist() == pytest.approx([0.8, 0.4, 0.2, 0.1])


def test_a_deal_older_than_usual_at_its_stage_loses_chance_in_proportion() -> None:
    # 14 days is usual at Contract: 14 days or less keeps the chance, 28 halves it, 56 quarters it.
    days = [7, 14, 28, 56]
    table, _ = deal_chances(
        deals(*[(f"a{d}", "Ana", "Contract", 10, "2027-03-01") for d in days], days_at_stage=days),
        profile(),
        [rep()],
    )
    assert table["age_factor"].tolist() == pytest.approx([1, 1, 0.5, 0.25])
    assert table["chance"].tolist() == pytest.approx([0.8, 0.8, 0.4, 0.2])


def test_a_close_date_after_the_period_end_means_no_chance_this_period() -> None:
    table, _ = deal_chances(
        deals(
            ("in", "Ana", "Contract", 10, "2027-03-31"),
            ("out", "Ana", "Contract", 10, "2027-04-01"),
            ("undated", "Ana", "Contract", 10, None),
            ("overdue", "Ana", "Contract", 10, "2027-01-10"),
        ),
        profile(),
        [rep()],
    )
    assert dict(zip(table["deal_id"], table["chance"], strict=True)) == pytest.approx(
        {"in": 0.8, "out": 0.0, "undated": 0.8, "overdue": 0.8}
    )


@settings(max_examples=60, deadline=None)
@given(
    slips=st.integers(0, 5),
    more_slips=st.integers(0, 3),
    days=st.floats(0, 400),
    more_days=st.floats(0, 400),
)
def test_a_chance_never_rises_with_more_slips_or_more_days_at_the_stage(
    slips: int, more_slips: int, days: float, more_days: float
) -> None:
    table, _ = deal_chances(
        deals(("a", "Ana", "Proposal", 10, "2027-03-01"), ("b", "Ana", "Proposal", 10, "2027-03-01"),
              days_at_stage=[days, days + more_days]),
        profile(),
        [rep()],
        slips={"a": slips, "b": slips + more_slips},
    )  # fmt: skip
    first, second = table["chance"]
    assert second <= first <= 0.4


def test_deals_at_unknown_stages_get_the_overall_win_rate_with_a_note() -> None:
    table, notes = deal_chances(deals(("x", "Ana", "Haggling", 10, "2027-03-01")), profile(), [rep()])
    assert table["chance"].tolist() == [0.4]
    assert "Haggling" in notes[0] and "40%" in notes[0]


def test_only_open_deals_of_reps_with_a_plan_count() -> None:
    frame = deals(
        ("mine", "Ana", "Demo", 10, "2027-03-01"),
        ("won", "Ana", "Demo", 10, "2027-03-01"),
        ("theirs", "Zoe", "Demo", 10, "2027-03-01"),
    )
    frame.loc[1, "outcome"] = "won"
    table, notes = deal_chances(frame, profile(), [rep()])
    assert table["deal_id"].tolist() == ["mine"]
    assert "1 open deals belong to people without a plan" in notes[0]


def test_days_at_stage_count_from_the_first_snapshot_showing_the_current_stage() -> None:
    history = pd.DataFrame(
        {
            "snapshot_date": pd.to_datetime(["2027-01-04", "2027-01-11", "2027-01-18", "2027-01-25", "2027-01-25"]),
            "deal_id": ["a", "a", "a", "a", "b"],
            "stage": ["Demo", "Proposal", "Demo", "Demo", "Demo"],  # a went back to Demo on the 18th
        }
    )
    assert days_at_stage(history, date(2027, 2, 1)).to_dict() == {"a": 14, "b": 7}


# --------------------------------------------------------------------------- the simulated range


@settings(max_examples=40, deadline=None)
@given(amount=st.integers(1, 16_000_000), booked=st.integers(0, 1_000_000))
def test_p50_of_one_certain_deal_is_its_amount(amount: int, booked: int) -> None:
    result = forecast(
        deals(("only", "Ana", "Demo", amount, "2027-03-01")), CERTAIN, [rep(booked=booked)], AS_OF, simulations=500
    )
    row = result.base.team
    assert (row.p10, row.p50, row.p90) == (booked + amount, booked + amount, booked + amount)
    assert row.expected == booked + amount and row.sd == 0


def test_more_identical_deals_narrow_the_simulated_relative_spread() -> None:
    # Binomial wins: 10 deals at 50% spread about ±40% around the middle, 40 deals about ±20%.
    def spread(n: int) -> float:
        frame = deals(*[(f"d{i}", "Ana", "Proposal", 1_000, "2027-03-01") for i in range(n)])
        row = forecast(frame, profile((1.0, 0.5, 1.0)), [rep()], AS_OF).base.team
        return (row.p90 - row.p10) / row.p50

    assert spread(40) < spread(10) * 0.6


pipelines = st.lists(
    st.tuples(st.integers(1, 500_000), st.sampled_from(["Demo", "Proposal", "Contract"])), min_size=1, max_size=12
)


@settings(max_examples=60, deadline=None)
@given(pipeline=pipelines, extra=pipelines, booked=st.integers(0, 200_000))
def test_adding_deals_no_less_certain_than_the_pipeline_never_widens_its_relative_spread(
    pipeline: list[tuple[int, str]], extra: list[tuple[int, str]], booked: int
) -> None:
    """Relative spread = standard deviation ÷ mean of what the open deals bring (analytic, so exact).

    It can widen when a risky deal joins safe ones, so the property is: adding independent deals
    whose own relative spread is no wider than the pipeline's never widens it -- in particular a
    second copy of the same pipeline, which narrows it by √2.
    """

    def spread(rows: list[tuple[int, str]]) -> tuple[float, float]:
        frame = deals(*[(f"d{i}", "Ana", s, a, "2027-03-01") for i, (a, s) in enumerate(rows)])
        row = forecast(frame, profile(), [rep(booked=booked)], AS_OF, simulations=1).base.team
        return row.sd / (row.expected - booked), row.expected - booked

    before, _ = spread(pipeline)
    assert spread(pipeline + pipeline)[0] == pytest.approx(before / math.sqrt(2))
    if spread(extra)[0] <= before:
        assert spread(pipeline + extra)[0] <= before * (1 + 1e-12)


snapshot_rows = st.lists(
    st.tuples(
        st.sampled_from(["Ana", "Ben"]),
        st.sampled_from(["Demo", "Proposal", "Contract", "Mystery"]),
        st.integers(1, 100_000),
        st.sampled_from(["2027-02-20", "2027-03-31", "2027-04-15"]),
        st.integers(0, 2),
    ),
    min_size=1,
    max_size=15,
)


@settings(max_examples=40, deadline=None)
@given(rows=snapshot_rows, drop=st.integers(0, 14), targets=st.tuples(st.integers(1, 200_000), st.integers(1, 200_000)))
def test_removing_a_deal_never_raises_the_chance_of_hitting_or_the_range(
    rows: list[tuple], drop: int, targets: tuple[int, int]
) -> None:
    frame = deals(*[(f"d{i}", o, s, a, c) for i, (o, s, a, c, _) in enumerate(rows)])
    slips = {f"d{i}": n for i, (*_, n) in enumerate(rows)}
    reps = [rep("Ana", targets[0], 10_000), rep("Ben", targets[1])]
    result = forecast(frame, profile(), reps, AS_OF, slips=slips, simulations=2_000)
    gone = f"d{drop % len(rows)}"
    less = forecast(frame, profile(), reps, AS_OF, slips=slips, simulations=2_000, leave_out={gone})
    for smaller in (less.base, result.without_top(1), result.without_top(3)):
        for a, b in zip((smaller.team, *smaller.rows), (result.base.team, *result.base.rows), strict=True):
            assert a.chance_of_hitting <= b.chance_of_hitting
            assert a.p10 <= b.p10 and a.p50 <= b.p50 and a.p90 <= b.p90
            assert a.expected <= b.expected + 1e-9 and a.pipeline <= b.pipeline


def test_a_fixed_seed_gives_the_same_figures_on_one_thread_or_two(monkeypatch: pytest.MonkeyPatch) -> None:
    frame = deals(*[(f"d{i}", "Ana" if i % 2 else "Ben", "Proposal", 1_000 + i, "2027-03-01") for i in range(300)])
    reps = [rep("Ana", 60_000), rep("Ben", 60_000)]
    first = forecast(frame, profile(), reps, AS_OF, seed=7, simulations=3_000)
    monkeypatch.setattr(fc, "_WORKERS", 1)
    again = forecast(frame, profile(), reps, AS_OF, seed=7, simulations=3_000)
    other = forecast(frame, profile(), reps, AS_OF, seed=8, simulations=3_000)
    assert (first.base, first.without) == (again.base, again.without)
    assert first.base != other.base


@settings(max_examples=40, deadline=None)
@given(
    amounts=st.lists(st.integers(1, 1_000_000), min_size=1, max_size=40),
    chances=st.lists(st.floats(0, 1), min_size=40, max_size=40),
    seed=st.integers(0, 2**32),
)
def test_the_analytic_mean_equals_the_simulated_mean_within_sampling_error(
    amounts: list[int], chances: list[float], seed: int
) -> None:
    p = np.asarray(chances[: len(amounts)])
    a = np.asarray(amounts, dtype=float)
    owners = np.arange(len(a)) % 3
    wins, _ = simulate_wins(a, p, owners, 3, simulations=4_000, seed=seed)
    for r in range(3):
        mine = owners == r
        mean = float((a[mine] * p[mine]).sum())
        sd = math.sqrt(float((a[mine] ** 2 * p[mine] * (1 - p[mine])).sum()))
        # Five standard errors, plus float32 rounding of the sums.
        assert abs(float(wins[r].mean(dtype=np.float64)) - mean) <= 5 * sd / math.sqrt(4_000) + 1e-3 * (mean + 1)


def test_each_deal_is_won_with_its_chance_independently_of_the_others() -> None:
    # Amounts 1, 2, 4, … 512 make a rep's simulated wins spell out which of its ten deals were won;
    # ten deals fill two bytes of lanes, so pairs across the byte boundary are checked too.
    chances = np.array([0.03, 0.5, 0.97, 1 / 3, 0.123456, 0.8, 0.25, 0.61, 0.07, 0.999])
    others = 37  # another rep's deals, so the first rep's lanes do not start at the first bit
    amounts = np.concatenate([np.full(others, 5.0), 2.0 ** np.arange(10)])
    owners = np.concatenate([np.zeros(others, dtype=int), np.ones(10, dtype=int)])
    # A million periods: enough to see a chance off by 1/256, the engine's finest step.
    sims = 1_000_000
    wins, _ = simulate_wins(amounts, np.concatenate([np.full(others, 0.5), chances]), owners, 2, simulations=sims)
    won = (wins[1].astype(np.int32)[:, None] >> np.arange(10, dtype=np.int32)).astype(np.int8) & 1
    share = won.mean(axis=0)
    assert np.all(np.abs(share - chances) <= 5 * np.sqrt(chances * (1 - chances) / sims) + 1e-9)
    pairs = 100_000
    both = (won[:pairs, :, None] & won[:pairs, None, :]).mean(axis=0)
    expected = np.outer(chances, chances)
    np.fill_diagonal(expected, chances)
    assert np.all(np.abs(both - expected) <= 5 * np.sqrt(expected * (1 - expected) / pairs) + 1e-9)


def test_the_team_range_is_the_sum_per_simulation_not_the_sum_of_percentiles() -> None:
    # Two reps with one 50% deal each: each rep's P90 is the deal, but both win together only a quarter of the time.
    frame = deals(("a", "Ana", "Proposal", 1_000, "2027-03-01"), ("b", "Ben", "Proposal", 1_000, "2027-03-01"))
    result = forecast(frame, profile((1.0, 0.5, 1.0)), [rep("Ana", 1_000), rep("Ben", 1_000)], AS_OF)
    assert [r.p90 for r in result.base.rows] == [1_000, 1_000]
    team = result.base.team
    assert (team.p10, team.p50, team.p90) == (0, 1_000, 2_000)
    assert team.chance_of_hitting == pytest.approx(0.25, abs=0.02)
    assert [r.chance_of_hitting for r in result.base.rows] == pytest.approx([0.5, 0.5], abs=0.02)


# --------------------------------------------------------------------------- losing the biggest deal

TEAM_PIPELINE = deals(
    ("big", "Ana", "Contract", 40_000, "2027-03-15"),
    ("mid", "Ana", "Contract", 20_000, "2027-03-15"),
    ("small", "Ben", "Contract", 10_000, "2027-03-15"),
    ("tiny", "Ben", "Contract", 5_000, "2027-03-15"),
    ("later", "Ben", "Contract", 90_000, "2027-05-01"),  # after the period: not in the pipeline
)
TEAM_REPS = [rep("Ana", 80_000, 30_000), rep("Ben", 50_000, 30_000)]


def test_concentration_is_the_largest_deals_share_of_the_pipeline_flagged_above_30_percent() -> None:
    result = forecast(TEAM_PIPELINE, profile(), TEAM_REPS, AS_OF)
    team = result.base.team
    assert team.pipeline == 75_000 and team.largest_deal == 40_000
    assert team.concentration == pytest.approx(40 / 75) and team.concentrated
    ana, ben = result.base.rows
    assert ana.concentration == pytest.approx(40 / 60) and ana.concentrated
    assert ben.concentration == pytest.approx(10 / 15) and ben.concentrated
    calm = forecast(TEAM_PIPELINE, profile(), TEAM_REPS, AS_OF, concentration_flag=0.7).base.team
    assert not calm.concentrated


def test_without_the_largest_deals_coverage_p50_and_the_chance_fall() -> None:
    result = forecast(TEAM_PIPELINE, profile(), TEAM_REPS, AS_OF)
    base, one, three = result.base, result.without_top(1), result.without_top(3)
    assert one.removed == ("big",) and one.removed_amount == 40_000
    assert three.removed == ("big", "mid", "small")
    # Coverage = open pipeline closing in the period ÷ what is left of the target (70,000).
    assert base.team.coverage == pytest.approx(75_000 / 70_000)
    assert one.team.coverage == pytest.approx(35_000 / 70_000)
    assert three.team.coverage == pytest.approx(5_000 / 70_000)
    assert base.team.p50 >= one.team.p50 >= three.team.p50
    assert base.team.chance_of_hitting > one.team.chance_of_hitting >= three.team.chance_of_hitting
    assert one.team.expected == pytest.approx(base.team.expected - 0.8 * 40_000)
    # Ben lost nothing in "without the largest": his row is the same simulated periods.
    assert one.rows[1] == base.rows[1]


def test_the_recovery_plan_asks_for_more_once_the_biggest_deal_is_gone() -> None:
    inputs = PlanInputs(80_000, 10_000, START, END, stages=(Stage("Meetings", 3, 7),), coverage_ratio=2.5)
    plan = build_plan(inputs)
    steps = build_milestones(80_000, START, END)
    progress = plan_pace(inputs, steps, {date(2027, 1, 4): 30_000.0}, AS_OF)
    result = forecast(TEAM_PIPELINE, profile(), TEAM_REPS, AS_OF)
    with_it = recovery_after_pipeline(plan, progress, result.base.row("Ana"))
    without = recovery_after_pipeline(plan, progress, result.without_top(1).row("Ana"))
    # Ana: 50,000 left; the pipeline is expected to bring 0.8 × 60,000, and 0.8 × 20,000 without "big".
    assert with_it.remaining == pytest.approx(2_000) and without.remaining == pytest.approx(34_000)
    assert with_it.deals_needed == 1 and without.deals_needed == 4
    assert without.stages[0].per_week_needed > with_it.stages[0].per_week_needed


def test_a_forecast_without_what_it_needs_says_how_to_get_it() -> None:
    frame = deals(("a", "Ana", "Demo", 10, "2027-03-01"))
    with pytest.raises(ForecastError, match="Calibrate page"):
        forecast(frame, None, [rep()], AS_OF)
    with pytest.raises(ForecastError, match="pipeline snapshot"):
        forecast(frame.iloc[:0], profile(), [rep()], AS_OF)
    with pytest.raises(ForecastError, match="no target"):
        forecast(frame, profile(), [], AS_OF)
    with pytest.raises(ForecastError, match="no stage column"):
        forecast(frame.drop(columns="stage"), profile(), [rep()], AS_OF)


def test_a_deal_without_a_usable_amount_adds_nothing_and_is_noted() -> None:
    frame = deals(("a", "Ana", "Contract", 10_000, "2027-03-01"), ("b", "Ana", "Contract", 0, "2027-03-01"))
    frame["amount"] = frame["amount"].astype(object)
    frame.loc[1, "amount"] = "inf"
    result = forecast(frame, profile(), [rep()], AS_OF)
    assert result.base.team.pipeline == 10_000 and result.base.team.deals == 1
    assert "1 open deals have no amount" in result.notes[0]


def test_every_assumption_is_written_in_words() -> None:
    result = forecast(TEAM_PIPELINE, profile(), TEAM_REPS, AS_OF, profile_name="FY2026 HubSpot")
    text = " ".join(result.assumptions)
    assert "“FY2026 HubSpot”" in text and "Demo 20%" in text and "Contract 80%" in text
    assert "halves" in text and "twice the usual time, half the chance" in text
    assert "10,000 simulated periods" in text


def test_rep_standings_come_from_the_team_review() -> None:
    inputs = PlanInputs(100_000, 5_000, START, END)
    ana = ReviewInput("Ana", 1, "Q1", inputs, tuple(build_milestones(100_000, START, END)), {date(2027, 1, 4): 9e3})
    assert rep_standings([ana], team_review([ana], AS_OF)) == (RepStanding("Ana", 100_000, 9_000, START, END),)


# --------------------------------------------------------------------------- forecast categories


@pytest.mark.parametrize(
    ("value", "category"),
    [
        ("Pipeline", "pipeline"),  # Salesforce ForecastCategoryName
        ("Best Case", "best case"),
        ("Commit", "commit"),
        ("Closed", "closed"),
        ("Omitted", "omitted"),
        ("BestCase", "best case"),  # Salesforce ForecastCategory API values
        ("Forecast", "commit"),
        ("MostLikely", "best case"),
        ("PIPELINE", "pipeline"),  # HubSpot internal values
        ("BEST_CASE", "best case"),
        ("COMMIT", "commit"),
        ("CLOSED", "closed"),
        ("OMIT", "omitted"),
        ("Not forecasted", "omitted"),  # HubSpot labels
        ("Committed", "commit"),  # Zoho
        ("Closed Lost", "omitted"),
        (" best  case ", "best case"),
        ("", None),
        (None, None),
        (float("nan"), None),
        ("Upside", None),
    ],
)
def test_forecast_categories_from_salesforce_hubspot_and_zoho_normalise(value: object, category: str | None) -> None:
    assert normalise_category(value) == category


def test_categories_roll_up_commit_and_best_case_and_compare_commit_with_p50() -> None:
    frame = deals(
        ("c1", "Ana", "Contract", 20_000, "2027-03-01"),
        ("b1", "Ana", "Proposal", 15_000, "2027-03-01"),
        ("p1", "Ana", "Demo", 8_000, "2027-03-01"),
        ("o1", "Ana", "Demo", 4_000, "2027-03-01"),
        ("late", "Ana", "Contract", 50_000, "2027-06-01"),  # after the period: no category counts it
        ("c2", "Ben", "Contract", 30_000, "2027-03-01"),
        ("x2", "Ben", "Demo", 1_000, "2027-03-01"),
        forecast_category=["Commit", "Best Case", "PIPELINE", "Omitted", "Commit", "COMMIT", None],
    )
    result = forecast(frame, profile(), [rep("Ana", 80_000, 30_000), rep("Ben", 50_000, 10_000)], AS_OF)
    categories = forecast_categories(result)
    assert categories is not None
    ana, ben = categories.rows
    assert (ana.closed, ana.commit, ana.best_case, ana.pipeline, ana.omitted) == (30_000, 50_000, 65_000, 8_000, 4_000)
    assert (ben.commit, ben.uncategorised) == (40_000, 1_000)
    assert ana.commit_vs_p50 == ana.commit - result.base.row("Ana").p50
    team = categories.team
    assert (team.closed, team.commit, team.best_case) == (40_000, 90_000, 105_000)
    assert team.p50 == result.base.team.p50
    assert "No category" in categories.notes[0]
    assert list(categories.table()["Rep"]) == ["Team", "Ana", "Ben"]


def test_a_snapshot_without_categories_has_no_rollup() -> None:
    assert forecast_categories(forecast(TEAM_PIPELINE, profile(), TEAM_REPS, AS_OF)) is None


# --------------------------------------------------------------------------- forecast accuracy

Q1_END, Q2_END = date(2027, 3, 31), date(2027, 6, 30)
WEEKS = (date(2027, 3, 8), date(2027, 3, 15), date(2027, 3, 22))
#: (rep, method, the three weekly projections); final bookings: Ana 100,000, Ben 50,000, the team 150,000.
MADE = (
    ("Ana", "run-rate", (80_000, 90_000, 110_000)),  # −20%, −10%, +10%: MAPE 13.33%, bias −6.67%
    ("Ana", "P50", (95_000, 100_000, 105_000)),  # −5%, 0, +5%: MAPE 3.33%, bias 0
    ("Ben", "run-rate", (60_000, 55_000, 50_000)),  # +20%, +10%, 0: MAPE 10%, bias +10%
    ("Ben", "P50", (40_000, 45_000, 50_000)),  # −20%, −10%, 0: MAPE 10%, bias −10%
    (TEAM, "run-rate", (140_000, 145_000, 160_000)),  # −6.67%, −3.33%, +6.67%: MAPE 5.56%, bias −1.11%
    (TEAM, "P50", (138_000, 147_000, 153_000)),  # −8%, −2%, +2%: MAPE 4%, bias −2.67%
    (TEAM, "commit", (120_000, 130_000, 150_000)),  # −20%, −13.33%, 0: MAPE 11.11%, bias −11.11%
)
PROJECTIONS = [
    RecordedProjection("East", who, week, START, Q1_END, method, float(value))
    for who, method, values in MADE
    for week, value in zip(WEEKS, values, strict=True)
] + [RecordedProjection("East", TEAM, date(2027, 4, 5), date(2027, 4, 1), Q2_END, "P50", 170_000.0)]
ACTUALS = {("Ana", Q1_END): 100_000.0, ("Ben", Q1_END): 50_000.0, (TEAM, Q1_END): 150_000.0}


def test_a_hand_worked_team_gives_known_errors_biases_and_the_best_method() -> None:
    result = forecast_accuracy(PROJECTIONS, ACTUALS)
    found = {(r.rep, r.method): (r.projections, r.mape, r.bias) for r in result.rows}
    assert found == {
        ("Ana", "run-rate"): (3, pytest.approx(0.4 / 3), pytest.approx(-0.2 / 3)),
        ("Ana", "P50"): (3, pytest.approx(0.1 / 3), pytest.approx(0.0)),
        ("Ben", "run-rate"): (3, pytest.approx(0.1), pytest.approx(0.1)),
        ("Ben", "P50"): (3, pytest.approx(0.1), pytest.approx(-0.1)),
        (TEAM, "run-rate"): (3, pytest.approx(25 / 450), pytest.approx(-5 / 450)),
        (TEAM, "P50"): (3, pytest.approx(0.04), pytest.approx(-0.08 / 3)),
        (TEAM, "commit"): (3, pytest.approx(50 / 450), pytest.approx(-50 / 450)),
    }
    assert result.best_method == "P50"
    assert "1 projections are for periods that have not finished" in result.notes[0]
    table = result.table()
    assert table.iloc[0].to_dict() == {
        "Rep": "Team", "Method": "run-rate", "Projections": 3, "Error % (MAPE)": 5.6, "Bias %": -1.1,
    }  # fmt: skip


def test_the_forecast_vs_actual_chart_data_is_one_line_per_method_by_week() -> None:
    data = accuracy_by_week(PROJECTIONS, ACTUALS)
    assert list(data["method"].unique()) == ["run-rate", "P50", "commit"]
    assert data[data["method"] == "P50"]["projected"].tolist() == [138_000, 147_000, 153_000]
    assert set(data["actual"]) == {150_000}
    assert data[data["method"] == "P50"]["as_of"].tolist() == list(WEEKS)
    assert accuracy_by_week(PROJECTIONS, {}).empty


def test_without_team_projections_the_best_method_pools_the_reps() -> None:
    reps_only = [p for p in PROJECTIONS if p.rep != TEAM]
    # Pooled MAPE: run-rate (13.33% + 10%) / 2 > P50 (3.33% + 10%) / 2.
    assert forecast_accuracy(reps_only, ACTUALS).best_method == "P50"
    assert forecast_accuracy([], ACTUALS).best_method is None


def test_every_projection_shown_is_recorded_per_rep_and_team() -> None:
    frame = TEAM_PIPELINE.assign(forecast_category=["Commit", "Best Case", "Commit", "Pipeline", "Commit"])
    inputs = PlanInputs(80_000, 10_000, START, END)
    steps = tuple(build_milestones(80_000, START, END))
    review_inputs = [
        ReviewInput("Ana", 1, "Q1", inputs, steps, {date(2027, 1, 4): 30_000.0}),
        ReviewInput("Ben", 2, "Q1", inputs, steps, {date(2027, 1, 4): 30_000.0}),
    ]
    review = team_review(review_inputs, AS_OF, frame)
    result = forecast(frame, profile(), rep_standings(review_inputs, review), AS_OF)
    made = record_projections("East", result, review, forecast_categories(result))
    assert {(p.rep, p.method) for p in made} == {
        (who, method) for who in ("Ana", "Ben", TEAM) for method in ("run-rate", "pipeline-weighted", "P50", "commit")
    }
    assert {(p.team, p.as_of, p.period_start, p.period_end) for p in made} == {("East", AS_OF, START, END)}
    team_p50 = next(p.projected for p in made if p.rep == TEAM and p.method == "P50")
    assert team_p50 == result.base.team.p50


# --------------------------------------------------------------------------- a team's forecast, as the pages show it


SNAPSHOT = TEAM_PIPELINE.assign(account="")  # as stored: every snapshot has an account column


def parts(rollup: TeamRollup) -> tuple[CurrencyView, TeamReview]:
    return rollup.view, rollup.review


def team_inputs(currency: str = "USD") -> list[ReviewInput]:
    inputs = PlanInputs(80_000, 10_000, START, END)
    steps = tuple(build_milestones(80_000, START, END))
    return [
        ReviewInput("Ana", 1, "Q1", inputs, steps, {date(2027, 1, 4): 30_000.0}, currency=currency),
        ReviewInput("Ben", 2, "Q1", inputs, steps, {date(2027, 1, 4): 30_000.0}),
    ]


def test_a_teams_outlook_converts_the_pipeline_as_the_review_does_and_records_every_method() -> None:
    frame = SNAPSHOT.assign(forecast_category=["Commit", "Best Case", "Commit", "Pipeline", "Commit"])
    same = fc.team_outlook("East", *parts(team_rollup(team_inputs(), AS_OF, frame, None, {})), frame, profile())
    # Ana's plan, target and deals in euros: the team adds up in dollars at 1.5, her deals too.
    euro = frame.assign(amount=np.where(frame["owner"] == "Ana", frame["amount"] / 1.5, frame["amount"]))
    rollup = team_rollup(team_inputs("EUR"), AS_OF, euro, "USD", {("EUR", "USD"): 1.5})
    converted = fc.team_outlook("East", *parts(rollup), euro, profile())
    for outlook in (same, converted):  # booked differs (Ana's plan is converted), the pipeline's part does not
        assert outlook.forecast.base.team.expected - outlook.forecast.base.team.booked == pytest.approx(75_000 * 0.8)
    assert converted.forecast.base.row("Ana").pipeline == pytest.approx(same.forecast.base.row("Ana").pipeline)
    assert converted.missing == ""
    assert {(p.rep, p.method) for p in converted.projections} == {
        (who, method) for who in ("Ana", "Ben", TEAM) for method in fc.METHODS
    }
    assert converted.projection("P50") == converted.forecast.base.team.p50
    assert converted.projection("commit", "Ana") == converted.categories.rows[0].commit


def test_days_at_stage_come_from_the_snapshot_history_and_lower_a_stale_deals_chance() -> None:
    frame = deals(("old", "Ana", "Proposal", 10_000, "2027-03-01"), ("new", "Ana", "Proposal", 10_000, "2027-03-01"),
                  account="")  # fmt: skip
    history = pd.DataFrame(
        {"snapshot_date": pd.to_datetime(["2026-12-07", "2027-02-08", "2027-02-08"]),
         "deal_id": ["old", "old", "new"], "stage": "Proposal"}
    )  # fmt: skip
    rollup = team_rollup(team_inputs()[:1], AS_OF, frame, None, {})
    outlook = fc.team_outlook("East", *parts(rollup), frame, profile(), history=history)
    chances = outlook.forecast.deals.set_index("deal_id")
    # 70 days at a stage deals usually spend 20 days at: 20/70 of the chance; 7 days: all of it.
    assert chances.loc["old", "chance"] == pytest.approx(0.4 * 20 / 70)
    assert chances.loc["new", "chance"] == pytest.approx(0.4)


def test_without_a_profile_the_outlook_says_how_to_get_one_and_still_records_the_reviews_projections() -> None:
    rollup = team_rollup(team_inputs(), AS_OF, SNAPSHOT, None, {})
    outlook = fc.team_outlook("East", *parts(rollup), SNAPSHOT, None)
    assert outlook.forecast is None and "calibrate" in outlook.missing.casefold()
    assert {p.method for p in outlook.projections} == {"run-rate", "pipeline-weighted"}
    assert outlook.projection("pipeline-weighted") == rollup.review.totals.weighted_projection
    without_snapshot = fc.team_outlook(
        "East", *parts(team_rollup(team_inputs(), AS_OF, None, None, {})), None, profile()
    )
    assert "pipeline snapshot" in without_snapshot.missing
    nobody = fc.team_outlook("East", *parts(team_rollup([], AS_OF, None, None, {})), None, profile())
    assert "no rep" in nobody.missing.casefold() and nobody.projections == ()


def test_the_outlook_says_which_profile_gave_the_win_rates() -> None:
    rollup = team_rollup(team_inputs(), AS_OF, SNAPSHOT, None, {})
    newest = fc.team_outlook("East", *parts(rollup), SNAPSHOT, profile(), profile_name="FY26", plans=2)
    assert "No plan of the team applies a calibration profile" in newest.assumptions[-1]
    some = fc.team_outlook("East", *parts(rollup), SNAPSHOT, profile(), profile_name="FY26", profile_plans=1, plans=2)
    assert "1 of the team's 2 plans" in some.assumptions[-1]


def test_the_actual_of_a_finished_period_is_what_each_rep_booked_in_it() -> None:
    q2 = PlanInputs(50_000, 5_000, date(2027, 4, 1), Q2_END)
    ben_q2 = ReviewInput("Ben", 3, "Q2", q2, (), {date(2027, 4, 5): 7_000.0})  # a later quarter: not this period's
    ana = ReviewInput("Ana", 1, "Q1", PlanInputs(100_000, 5_000, START, Q1_END), (),
                      {date(2026, 12, 21): 5_000.0, date(2027, 1, 4): 60_000.0, date(2027, 3, 22): 40_000.0},
                      currency="EUR")  # fmt: skip
    found = fc.period_actuals({Q1_END: [ana, ben_q2]}, "USD", {("EUR", "USD"): 1.1})
    # The week before the period counts nothing; the rest in dollars. Ben's plan ends later: not in this period.
    assert found == {("Ana", Q1_END): pytest.approx(110_000), (TEAM, Q1_END): pytest.approx(110_000)}
    assert fc.forecast_accuracy(PROJECTIONS, found).rows  # keys fit what forecast_accuracy reads


def test_the_headline_shows_the_most_accurate_method_when_it_is_shown_today() -> None:
    frame = SNAPSHOT.assign(forecast_category="Commit")
    rollup = team_rollup(team_inputs(), AS_OF, frame, None, {})
    outlook = fc.team_outlook("East", *parts(rollup), frame, profile())
    assert fc.headline_method(outlook, None)[0] == "P50"
    assert fc.headline_method(outlook, forecast_accuracy(PROJECTIONS, ACTUALS))[0] == "P50"
    run_rate_best = forecast_accuracy([p for p in PROJECTIONS if p.method == "run-rate"], ACTUALS)
    method, why = fc.headline_method(outlook, run_rate_best)
    assert method == "run-rate" and "most accurate" in why
    blind = fc.team_outlook("East", *parts(rollup), frame, None)  # no profile: no P50 or commit today
    commit_best = forecast_accuracy([p for p in PROJECTIONS if p.method == "commit"], ACTUALS)
    assert fc.headline_method(blind, commit_best)[0] == "pipeline-weighted"


def test_the_recovery_ask_grows_once_the_biggest_deal_is_gone() -> None:
    inputs = team_inputs()
    rollup = team_rollup(inputs, AS_OF, SNAPSHOT, None, {})
    result = fc.team_outlook("East", *parts(rollup), SNAPSHOT, profile()).forecast
    every = fc.recovery_asks(inputs, result.base, AS_OF).set_index("Rep")
    without = fc.recovery_asks(inputs, result.without_top(1), AS_OF).set_index("Rep")
    owner = result.deals.set_index("deal_id").loc[result.without_top(1).removed[0], "owner"]
    assert without.loc[owner, "Left after the expected pipeline"] > every.loc[owner, "Left after the expected pipeline"]
    assert without.loc[owner, "Deals"] >= every.loc[owner, "Deals"]
    assert "Deals won" in without.loc[owner, "A week from now"]
