"""Team review speed: the review of 500 reps x 52 weeks, and a 50,000-deal snapshot diff.

    python bench/bench_team.py

Target (docs/design.md): the review under 300 ms. The inputs are built in memory, as
planner.store.review_inputs hands them over, so this times the planner, not DuckDB.
"""

from __future__ import annotations

import sys
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._timing import report, time_calls  # noqa: E402
from planner.funnel import PlanInputs, Stage  # noqa: E402
from planner.milestones import build_milestones  # noqa: E402
from planner.team import ReviewInput, activity_check, snapshot_diff, team_burnup, team_review  # noqa: E402

START, END = date(2027, 1, 4), date(2027, 12, 31)  # 52 working weeks
AS_OF = date(2027, 9, 15)
REPS, DEALS = 500, 50_000
STAGES = (Stage("Calls", 3, 2), Stage("Meetings", 2, 7), Stage("Proposals", 2, 21))


def review_inputs(rng: np.random.Generator) -> list[ReviewInput]:
    weeks = [START + timedelta(weeks=k) for k in range(52)]
    steps = tuple(build_milestones(1_000_000, START, END, "weekly"))
    reps = []
    for i in range(REPS):
        inputs = PlanInputs(1_000_000, 8_000, START, END, stages=STAGES)
        revenue = dict(zip(weeks, rng.normal(19_000, 6_000, 52).clip(0), strict=True))
        counts = {w: {"Calls": 60, "Meetings": 20, "Proposals": 8} for w in weeks}
        reps.append(ReviewInput(f"Rep {i:03d}", i, "FY2027", inputs, steps, revenue, counts))
    return reps


def snapshot(rng: np.random.Generator, deals: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "deal_id": [f"D{i:06d}" for i in range(deals)],
            "owner": [f"Rep {i % REPS:03d}" for i in range(deals)],
            "account": "",
            "stage": rng.choice(["Calls", "Meetings", "Proposals", "Negotiation"], deals),
            "outcome": "open",
            "amount": rng.lognormal(9, 0.6, deals).round(-2),
            "close_date": pd.Timestamp(AS_OF) + pd.to_timedelta(rng.integers(0, 200, deals), unit="D"),
        }
    )


def next_week(rng: np.random.Generator, older: pd.DataFrame) -> pd.DataFrame:
    newer = older.sample(frac=0.95, random_state=1).copy()  # 5% dropped out
    moved = rng.random(len(newer))
    newer.loc[moved < 0.1, "close_date"] += pd.Timedelta(days=21)  # slipped
    newer.loc[(moved >= 0.1) & (moved < 0.15), "amount"] *= 1.2
    newer.loc[(moved >= 0.15) & (moved < 0.18), "outcome"] = "won"
    fresh = snapshot(rng, 2_500).assign(deal_id=lambda f: "N" + f["deal_id"])
    return pd.concat([newer, fresh], ignore_index=True)


def main() -> None:
    rng = np.random.default_rng(2026)
    reps = review_inputs(rng)
    pipeline = snapshot(rng, DEALS)
    print(f"Team review, {REPS} reps x 52 weeks, {DEALS:,}-deal pipeline")
    report("team_review (rows, totals, status)", time_calls(lambda: team_review(reps, AS_OF, pipeline), 15), 300)
    report("activity_check", time_calls(lambda: activity_check(reps, AS_OF), 5))
    report("team_burnup", time_calls(lambda: team_burnup(reps, AS_OF), 5))
    newer = next_week(rng, pipeline)
    report(f"snapshot_diff, {DEALS:,} deals", time_calls(lambda: snapshot_diff(pipeline, newer, END), 10))


if __name__ == "__main__":
    main()
