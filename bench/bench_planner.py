"""Planner speed: a 52-week, 6-stage plan and a 100 x 100 what-if grid.

    python bench/bench_planner.py

Targets (docs/design.md): the plan under 1 ms, the grid under 20 ms.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._timing import report, time_calls
from planner.funnel import PlanInputs, Stage, build_plan, levers, weekly_activity_table, what_if_grid

SIX_STAGES = (
    Stage("Cold calls", 3.0, 2),
    Stage("Connection requests", 2.0, 5),
    Stage("Meetings", 2.0, 7),
    Stage("Discovery calls", 1.5, 10),
    Stage("Proposals", 2.0, 14),
    Stage("Qualified prospects", 2.0, 21),
)
INPUTS = PlanInputs(
    target=1_250_000,
    deal_size=8_500,
    period_start=date(2027, 1, 4),
    period_end=date(2027, 12, 31),  # 52 working weeks
    stages=SIX_STAGES,
    holiday_weeks=(date(2027, 12, 20),),
)


def main() -> None:
    plan = build_plan(INPUTS)
    print(f"plan: {len(plan.stages)} stages, {plan.week_starts.size} weeks, {plan.working_weeks:g} working weeks")
    report("build_plan (52 weeks, 6 stages + won)", time_calls(lambda: build_plan(INPUTS), 2000), target_ms=1)
    report("levers (8 levers)", time_calls(lambda: levers(INPUTS), 500))
    report("weekly_activity_table (DataFrame)", time_calls(lambda: weekly_activity_table(plan), 500))
    sizes = np.linspace(1_000, 20_000, 100)
    rates = np.linspace(0.005, 0.5, 100)
    report(
        "what_if_grid 100 x 100",
        time_calls(lambda: what_if_grid(INPUTS, deal_sizes=sizes, win_rates=rates), 500),
        target_ms=20,
    )


if __name__ == "__main__":
    main()
