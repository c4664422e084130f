"""A believable demo team, generated from a fixed seed, part-way through this quarter.

Four reps with quarterly plans and the weeks they have already sold: one ahead,
one on track, one behind, one far behind, so every state of the Track page is
there to see.  The same ``today`` and seed always give the same team.

>>> from datetime import date
>>> team = demo_team(date(2026, 11, 22))
>>> [p.rep for p in team.plans]
['Ana Lima', 'Ben Carter', 'Chloe Nguyen', 'Dev Patel']
>>> team.plans[0].inputs.period_start, team.plans[0].inputs.period_end
(datetime.date(2026, 10, 1), datetime.date(2026, 12, 31))
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from planner.funnel import PlanInputs, Stage, build_plan
from planner.milestones import WeekActual

__all__ = ["DemoPlan", "DemoRep", "DemoTeam", "demo_team", "quarter_of"]

SEED = 2026
TEAM = "Mid-Market East"


@dataclass(frozen=True, slots=True)
class DemoRep:
    name: str
    team: str
    role: str


@dataclass(frozen=True, slots=True)
class DemoPlan:
    rep: str
    name: str
    inputs: PlanInputs
    milestone_shape: str
    weeks: tuple[WeekActual, ...]


@dataclass(frozen=True, slots=True)
class DemoTeam:
    reps: tuple[DemoRep, ...]
    plans: tuple[DemoPlan, ...]


# name, target, deal size, milestone shape, how well they sell against plan
_REPS = (
    ("Ana Lima", 180_000, 6_000, "linear", 1.12),
    ("Ben Carter", 150_000, 7_500, "back-loaded", 0.6),
    ("Chloe Nguyen", 160_000, 5_000, "linear", 0.8),
    ("Dev Patel", 140_000, 8_000, "front-loaded", 0.5),
)
_STAGES = (Stage("Connection requests", 3.0, 5), Stage("Meetings", 2.5, 10), Stage("Qualified prospects", 2.0, 21))


def quarter_of(day: date) -> tuple[date, date, str]:
    """The calendar quarter holding ``day``: first day, last day and a label.

    >>> quarter_of(date(2026, 11, 22))
    (datetime.date(2026, 10, 1), datetime.date(2026, 12, 31), 'Q4 2026')
    """
    first_month = 3 * ((day.month - 1) // 3) + 1
    start = date(day.year, first_month, 1)
    next_start = date(day.year + (first_month == 10), (first_month + 2) % 12 + 1, 1)
    return start, next_start - timedelta(days=1), f"Q{(first_month - 1) // 3 + 1} {day.year}"


def demo_team(today: date, seed: int = SEED) -> DemoTeam:
    """The demo team's reps and this quarter's plans with every week finished by ``today``."""
    rng = np.random.default_rng(seed)
    start, end, label = quarter_of(today)
    reps = [DemoRep(name, TEAM, "rep") for name, *_ in _REPS]
    reps.append(DemoRep("Maya Brooks", TEAM, "manager"))
    plans = []
    for name, target, deal_size, shape, form in _REPS:
        inputs = PlanInputs(target, deal_size, start, end, stages=_STAGES, won_stage="Deals won")
        plan = build_plan(inputs)
        weeks = []
        for column, week_start in enumerate(plan.week_starts.astype("datetime64[D]").tolist()):
            if week_start + timedelta(days=5) > today or not plan.week_in_period[column]:
                continue  # only weeks whose working days are over, inside the period
            planned_revenue = target * plan.week_working_days[column] / plan.working_days
            revenue = float(np.round(planned_revenue * form * rng.lognormal(0, 0.25), -2))
            deals = int(np.rint(revenue / (deal_size * rng.lognormal(0, 0.15))))
            counts = {
                stage.name: int(rng.poisson(max(plan.weekly[row, column] * form**0.5, 0.1)))
                for row, stage in enumerate(plan.stages[:-1])
            }
            weeks.append(WeekActual(week_start, revenue, deals, counts))
        plans.append(DemoPlan(name, label, inputs, shape, tuple(weeks)))
    return DemoTeam(tuple(reps), tuple(plans))
