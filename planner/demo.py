"""A believable demo team, generated from a fixed seed, part-way through this quarter.

Four reps with quarterly plans and what they have sold so far: one ahead,
one on track, one behind, one far behind, so every state of the Track page is
there to see. Last quarter is there too, finished, with a pipeline snapshot each
week and the projections Backplan would have shown on each, so forecast accuracy
is visible on the first run; a calibration profile from a year of CRM deals gives
the forecast its win rates. The same ``today`` and seed always give the same team.

>>> from datetime import date
>>> team = demo_team(date(2026, 11, 22))
>>> [p.rep for p in team.plans]
['Ana Lima', 'Ben Carter', 'Chloe Nguyen', 'Dev Patel']
>>> team.plans[0].inputs.period_start, team.plans[0].inputs.period_end
(datetime.date(2026, 10, 1), datetime.date(2026, 12, 31))
"""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

import numpy as np
import pandas as pd

from planner.calibrate import Calibration, calibrate_export
from planner.forecast import RecordedProjection, team_outlook
from planner.funnel import PlanInputs, Stage, build_plan, working_days
from planner.milestones import WeekActual, build_milestones, due_by
from planner.team import ReviewInput, convert_pipeline, in_one_currency, team_review

__all__ = [
    "DEMO_EMAIL_DOMAIN",
    "DEMO_PIPELINE",
    "DemoPlan",
    "DemoProfile",
    "DemoRep",
    "DemoTeam",
    "demo_crm_export",
    "demo_email",
    "demo_plans",
    "demo_profile",
    "demo_projections",
    "demo_review_inputs",
    "demo_snapshots",
    "demo_team",
    "quarter_of",
]

SEED = 2026
TEAM = "Mid-Market East"


@dataclass(frozen=True, slots=True)
class DemoRep:
    name: str
    team: str
    role: str
    email: str = ""


@dataclass(frozen=True, slots=True)
class DemoPlan:
    rep: str
    name: str
    inputs: PlanInputs
    milestone_shape: str
    weeks: tuple[WeekActual, ...]
    currency: str = "USD"


@dataclass(frozen=True, slots=True)
class DemoProfile:
    """A calibration profile as the Calibrate page saves one: its name, file, result and deals."""

    name: str
    source_file: str
    result: dict = field(compare=False)
    deals: pd.DataFrame = field(compare=False)
    rows_read: int = 0
    rows_bad: int = 0


@dataclass(frozen=True, slots=True)
class DemoTeam:
    reps: tuple[DemoRep, ...]
    plans: tuple[DemoPlan, ...]
    team: str = TEAM
    #: weekly pipeline snapshots, oldest first: (Monday, deals); frames do not compare with ==
    snapshots: tuple[tuple[date, pd.DataFrame], ...] = field(default=(), compare=False)
    #: last quarter's plans, finished: what forecast accuracy is judged on
    past_plans: tuple[DemoPlan, ...] = ()
    #: the profile every plan applies (None: none)
    profile: DemoProfile | None = None
    #: the projections shown on each snapshot date: (date, currency, projections), oldest first
    projections: tuple[tuple[date, str, tuple[RecordedProjection, ...]], ...] = ()


DEMO_EMAIL_DOMAIN = "demo.backplan.test"

#: name, target, deal size, milestone shape, and the share of what the milestones call for that each rep books
#: (Ana ahead, Ben on track a little short, Chloe behind, Dev far behind)
_REPS = (
    ("Ana Lima", 180_000, 6_000, "linear", 1.15),
    ("Ben Carter", 150_000, 7_500, "back-loaded", 0.96),
    ("Chloe Nguyen", 160_000, 5_000, "linear", 0.72),
    ("Dev Patel", 140_000, 8_000, "front-loaded", 0.4),
)
#: How far a rep's bookings to date wander from their share, either way: a little, so the story holds every day.
_WANDER = 0.02
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


def demo_email(name: str) -> str:
    """The demo sign-in of a demo person: ``first.last@demo.backplan.test`` (a reserved, unroutable domain).

    >>> demo_email("Ana Lima")
    'ana.lima@demo.backplan.test'
    """
    return f"{name.lower().replace(' ', '.')}@{DEMO_EMAIL_DOMAIN}"


def _quarter_plans(
    rng: np.random.Generator, start: date, end: date, label: str, today: date, forms: tuple[float, ...]
) -> tuple[DemoPlan, ...]:
    """Each rep's plan for the quarter ``start``–``end`` with every week begun by ``today`` recorded.

    A rep's bookings to the end of each week (or to ``today``, in today's week: what is booked so far)
    are their ``form`` of what the milestones call for by then, give or take :data:`_WANDER`. Anchored
    so, not drawn week by week, they keep each rep ahead, on track or behind on every day of the quarter,
    whatever day the demo is loaded.
    """
    plans = []
    for (name, target, deal_size, shape, _), form in zip(_REPS, forms, strict=True):
        inputs = PlanInputs(target, deal_size, start, end, stages=_STAGES, won_stage="Deals won")
        plan = build_plan(inputs)
        steps = build_milestones(target, start, end, "auto", shape, holiday_weeks=inputs.holiday_weeks)
        weeks, booked = [], 0.0
        for column, week_start in enumerate(plan.week_starts.astype("datetime64[D]").tolist()):
            if week_start > today or not plan.week_in_period[column]:
                continue  # only weeks inside the period that have begun
            first, through = max(week_start, start), min(week_start + timedelta(days=6), today, end)
            to_date = due_by(steps, through, start, inputs.holiday_weeks) * form * rng.uniform(1 - _WANDER, 1 + _WANDER)
            revenue = max(float(np.round(to_date, -1)) - booked, 0.0)
            booked += revenue
            deals = int(np.rint(revenue / (deal_size * rng.lognormal(0, 0.15))))
            whole = working_days(first, min(week_start + timedelta(days=6), end), inputs.holiday_weeks)
            gone = working_days(first, through, inputs.holiday_weeks) / whole if whole else 1.0
            counts = {
                stage.name: int(rng.poisson(max(plan.weekly[row, column] * gone * form**0.5, 0.1)))
                for row, stage in enumerate(plan.stages[:-1])
            }
            weeks.append(WeekActual(week_start, revenue, deals, counts))
        plans.append(DemoPlan(name, label, inputs, shape, tuple(weeks)))
    return tuple(plans)


#: How last quarter went against plan, rep by rep: a little better than this one for most.
_LAST_QUARTER_FORM = (1.05, 0.9, 0.95, 0.7)


def demo_plans(today: date, seed: int = SEED) -> tuple[DemoPlan, ...]:
    """Each demo rep's plan for the quarter holding ``today``, with what they have booked by then.

    >>> [round(sum(w.revenue for w in p.weeks) / 1000) for p in demo_plans(date(2026, 11, 22))]
    [117, 47, 65, 44]
    """
    start, end, label = quarter_of(today)
    return _quarter_plans(np.random.default_rng(seed), start, end, label, today, tuple(form for *_, form in _REPS))


def demo_team(today: date, seed: int = SEED) -> DemoTeam:
    """The demo team's reps, this quarter's plans with what is booked by ``today``, and last quarter's.

    Last quarter is finished, with a snapshot every Monday and the projections Backplan would have
    shown on each (:func:`demo_projections`), so the forecast's accuracy shows on the first run.
    Seventeen forecasts take a second or two, so a day's team is made once and kept; each caller
    gets tables of its own, so one that changes them changes no one else's demo.
    """
    team = _demo_team(today, seed)
    return replace(
        team,
        snapshots=tuple((day, frame.copy()) for day, frame in team.snapshots),
        profile=None if team.profile is None else _own_copy(team.profile),
    )


def _own_copy(profile: DemoProfile) -> DemoProfile:
    return replace(profile, result=copy.deepcopy(profile.result), deals=profile.deals.copy())


@functools.lru_cache(maxsize=4)
def _demo_team(today: date, seed: int) -> DemoTeam:
    start, end, _ = quarter_of(today)
    reps = [DemoRep(name, TEAM, "rep", demo_email(name)) for name, *_ in _REPS]
    reps.append(DemoRep("Maya Brooks", TEAM, "manager", demo_email("Maya Brooks")))
    plans = demo_plans(today, seed)
    last_start, last_end, last_label = quarter_of(start - timedelta(days=1))
    past = _quarter_plans(np.random.default_rng(seed + 2), last_start, last_end, last_label, end, _LAST_QUARTER_FORM)
    snapshots = (*demo_snapshots(last_end, seed + 3, weeks=13, prefix="Q"), *demo_snapshots(today, seed))
    profile = _demo_profile(seed)
    calibration = Calibration.from_dict(profile.result)
    projections = demo_projections((*past, *plans), snapshots, calibration, profile.name)
    return DemoTeam(tuple(reps), plans, TEAM, snapshots, past, profile, projections)


def demo_profile(seed: int = SEED) -> DemoProfile:
    """The calibration of a year of the demo CRM's deals (:func:`demo_crm_export`), as the Calibrate page saves it.

    Its stages are the demo pipeline's, so every open deal in the demo snapshots has a win rate.
    Made once per seed (the demo team is built often); each caller gets a result and deals of its own.
    """
    return _own_copy(_demo_profile(seed))


@functools.lru_cache(maxsize=2)
def _demo_profile(seed: int) -> DemoProfile:
    export = demo_crm_export(seed=seed).to_csv(index=False).encode()
    deals, result = calibrate_export(export, "demo-crm-2025.csv")
    return DemoProfile("Demo CRM 2025", "demo-crm-2025.csv", result.to_dict(), deals.deals, deals.rows_read,
                       deals.rows_bad)  # fmt: skip


def demo_review_inputs(plans: tuple[DemoPlan, ...], day: date) -> list[ReviewInput]:
    """Each rep's plan whose period holds ``day``, with its milestones and the weeks recorded by then."""
    chosen = []
    for plan_id, plan in enumerate(plans, start=1):
        inputs = plan.inputs
        if not inputs.period_start <= day <= inputs.period_end:
            continue
        steps = tuple(build_milestones(inputs.target, inputs.period_start, inputs.period_end, "auto",
                                       plan.milestone_shape, holiday_weeks=inputs.holiday_weeks))  # fmt: skip
        weekly = {w.week_start: w.revenue for w in plan.weeks if w.week_start <= day}
        chosen.append(ReviewInput(plan.rep, plan_id, plan.name, inputs, steps, weekly, currency=plan.currency))
    return chosen


def demo_projections(
    plans: tuple[DemoPlan, ...],
    snapshots: tuple[tuple[date, pd.DataFrame], ...],
    profile: Calibration,
    profile_name: str,
) -> tuple[tuple[date, str, tuple[RecordedProjection, ...]], ...]:
    """The projections Team review would have shown and recorded on each snapshot date, oldest first.

    Each is the team's forecast as of that Monday (:func:`planner.forecast.team_outlook`): the plans
    whose period holds the day with the weeks recorded by then, that day's snapshot, the deals' time
    at their stage and slips as the snapshots up to then show them, counted as the store counts
    them (``store.stage_history``, ``store.slip_counts``).
    """
    recorded = []
    sightings = pd.concat([frame.assign(snapshot_date=pd.Timestamp(day)) for day, frame in snapshots])
    sightings = sightings.sort_values(["deal_id", "snapshot_date"], kind="stable")
    before = sightings.groupby("deal_id")[["close_date", "outcome"]].shift()
    slipped = sightings[(before["outcome"] == "open") & (sightings["close_date"] > before["close_date"])]
    for day, frame in snapshots:
        reps = demo_review_inputs(plans, day)
        if not reps:
            continue
        seen = sightings[
            (sightings["snapshot_date"] <= pd.Timestamp(day)) & sightings["deal_id"].isin(frame["deal_id"])
        ]
        slips = slipped[slipped["snapshot_date"] <= pd.Timestamp(day)].groupby("deal_id").size().to_dict()
        view = in_one_currency(reps, None, {})
        review = team_review(view.reps, day, convert_pipeline(frame, view.owner_rates))
        history = seen[["snapshot_date", "deal_id", "stage"]]
        outlook = team_outlook(TEAM, view, review, frame, profile, history=history, slips=slips,
                               profile_name=profile_name, profile_plans=len(reps), plans=len(reps))  # fmt: skip
        recorded.append((day, view.currency, outlook.projections))
    return tuple(recorded)


#: Ana keeps a fat pipeline (twice the deals, each bigger), so the review shows one rep on track in
#: every way: her pipeline covers what is left of her target three times over on every day of the quarter.
_PIPELINE_SCALE = {"Ana Lima": 4.2}
_PIPELINE_DEALS = {"Ana Lima": 2}


#: Each stage's forecast category (Salesforce's words) by a deal's own draw: below the first share the first name.
_CATEGORY_BY_STAGE = {
    "Appointment Scheduled": ((0.12, "Omitted"), (1.0, "Pipeline")),
    "Qualified To Buy": ((0.85, "Pipeline"), (1.0, "Best Case")),
    "Presentation Scheduled": ((0.4, "Pipeline"), (1.0, "Best Case")),
    "Contract Sent": ((0.3, "Best Case"), (1.0, "Commit")),
}


def _category(stage: str, draw: float) -> str:
    return next((name for share, name in _CATEGORY_BY_STAGE.get(stage, ()) if draw < share), "Pipeline")


def demo_snapshots(
    today: date, seed: int = SEED, weeks: int = 4, prefix: str = "D"
) -> tuple[tuple[date, pd.DataFrame], ...]:
    """The demo team's open pipeline on the last ``weeks`` Mondays, moving the way pipelines do.

    Each week deals advance or fall back a stage, close dates slip or are pulled in, amounts change,
    some deals are won, lost or drop out, and new ones arrive; one deal per rep slips every week.
    Each deal carries a forecast category that follows its stage, as a rep would set it. Deal IDs
    start with ``prefix``, so two quarters' snapshots never share a deal.

    >>> snaps = demo_snapshots(date(2026, 11, 22))
    >>> [d.isoformat() for d, _ in snaps], len(snaps[0][1])
    (['2026-10-26', '2026-11-02', '2026-11-09', '2026-11-16'], 59)
    """
    rng = np.random.default_rng(seed + 1)
    categories = np.random.default_rng(seed + 5)  # a stream of its own: the deals move as they always did
    events = np.random.default_rng(seed + 7)  # and one for the changes every week has (:func:`_every_cause`)
    end = quarter_of(today)[1]
    monday = today - timedelta(days=today.weekday())
    dates = [monday - timedelta(weeks=k) for k in range(weeks - 1, -1, -1)]
    stages = [name for name, _, _ in DEMO_PIPELINE]
    deals: dict[str, dict] = {}
    counter = 0

    def new_deal(owner: str, opened: date, chronic: bool = False) -> None:
        nonlocal counter
        counter += 1
        close = opened + timedelta(days=int(rng.integers(7, 80)))
        deals[f"{prefix}-{counter:04d}"] = {
            "owner": owner,
            "account": f"Company {int(rng.integers(1, 60))}",
            "stage": stages[int(rng.integers(0, len(stages)))],
            "outcome": "open",
            "amount": float(np.round(rng.lognormal(np.log(9_000 * _PIPELINE_SCALE.get(owner, 1.0)), 0.5), -2)),
            "close_date": close if not chronic else end - timedelta(days=10),
            "chronic": chronic,
            "draw": float(categories.random()),
        }

    for name, *_ in _REPS:
        new_deal(name, dates[0], chronic=True)
        for _ in range(11 * _PIPELINE_DEALS.get(name, 1)):
            new_deal(name, dates[0])
    snapshots = []
    for week, day in enumerate(dates):
        if week:
            for deal in deals.values():
                if deal["outcome"] != "open":
                    continue
                roll = rng.random()
                stage = stages.index(deal["stage"]) if deal["stage"] in stages else 0
                if deal["chronic"]:
                    deal["close_date"] += timedelta(days=int(rng.integers(14, 35)))
                elif roll < 0.07 and stage >= 2:
                    deal.update(outcome="won", stage=_DEMO_WON, close_date=day - timedelta(days=2))
                elif roll < 0.12:
                    deal.update(outcome="lost", stage=_DEMO_LOST)
                elif roll < 0.14:
                    deal["outcome"] = "gone"  # dropped out of the export
                else:
                    if rng.random() < 0.3 and stage < len(stages) - 1:
                        deal["stage"] = stages[stage + 1]
                    elif rng.random() < 0.05 and stage > 0:
                        deal["stage"] = stages[stage - 1]
                    move = rng.random()
                    if move < 0.15:
                        deal["close_date"] += timedelta(days=int(rng.integers(14, 40)))
                    elif move < 0.2:
                        deal["close_date"] -= timedelta(days=int(rng.integers(5, 15)))
                    if rng.random() < 0.1:
                        deal["amount"] = float(np.round(deal["amount"] * rng.uniform(0.7, 1.3), -2))
            _every_cause(deals, snapshots[-1][1], week, end, events)
            for name, *_ in _REPS:
                for _ in range(2 * _PIPELINE_DEALS.get(name, 1)):
                    new_deal(name, day)
            if end > day:  # while the period has days left, a new deal closes inside it
                deals[next(reversed(deals))]["close_date"] = day + timedelta(
                    days=int(events.integers(1, (end - day).days + 1))
                )
        rows = [
            {
                "deal_id": deal_id,
                **{k: v for k, v in deal.items() if k not in ("chronic", "draw")},
                "forecast_category": _category(deal["stage"], deal["draw"]) if deal["outcome"] == "open" else "Closed"
                if deal["outcome"] == "won" else "Omitted",
            }
            for deal_id, deal in deals.items()
            if deal["outcome"] != "gone"
        ]  # fmt: skip
        frame = pd.DataFrame(rows)
        frame["close_date"] = pd.to_datetime(frame["close_date"])
        snapshots.append((day, frame))
        # Closed deals show once, the week they closed; after that they are no longer in the export.
        for deal in deals.values():
            if deal["outcome"] in ("won", "lost"):
                deal["outcome"] = "gone"
    return tuple(snapshots)


def _every_cause(
    deals: dict[str, dict], last_week: pd.DataFrame, week: int, end: date, events: np.random.Generator
) -> None:
    """What every week of a real pipeline has, so each cause of Team review's waterfall shows whichever two
    weeks are compared: of the deals that closed in the period in ``last_week``'s snapshot and still do,
    one is lost, one drops out of the export and one slips past the period end."""
    was_in = last_week.loc[(last_week["outcome"] == "open") & (last_week["close_date"] <= pd.Timestamp(end)), "deal_id"]
    still = [deals[i] for i in was_in if deals[i]["outcome"] == "open" and not deals[i]["chronic"]]
    still = [d for d in still if d["close_date"] <= end]
    if len(still) >= 3:
        lost, gone, slips = (still[(week * 7 + k) % len(still)] for k in range(3))
        lost.update(outcome="lost", stage=_DEMO_LOST)
        gone["outcome"] = "gone"
        slips["close_date"] = end + timedelta(days=int(events.integers(7, 30)))


# --------------------------------------------------------------------------- a year of CRM deals

#: The demo CRM's pipeline: (stage, chance of reaching the next stage, mean days spent in the stage).
DEMO_PIPELINE = (
    ("Appointment Scheduled", 0.55, 6.0),
    ("Qualified To Buy", 0.60, 12.0),
    ("Presentation Scheduled", 0.50, 10.0),
    ("Contract Sent", 0.70, 9.0),
)
_DEMO_WON, _DEMO_LOST = "Closed Won", "Closed Lost"
_DEMO_OWNERS = ("Ana Lima", "Ben Carter", "Chloe Nguyen", "Dev Patel", "Eve Okafor", "Farid Haddad")
_DEMO_SKILL = (1.10, 1.0, 0.92, 0.85, 1.05, 0.97)
#: Share of deals created in each month: a slow summer and a busy autumn.
_DEMO_MONTHS = (0.07, 0.08, 0.09, 0.09, 0.09, 0.07, 0.05, 0.06, 0.10, 0.10, 0.11, 0.09)


def demo_crm_export(deals: int = 2_000, year: int = 2025, seed: int = SEED) -> pd.DataFrame:
    """A year of deals as HubSpot exports them, with "Date entered …" columns; same seed, same file.

    Vectorised, so a 1,000,000-deal export for the benchmarks takes seconds. Lost deals
    often carry no amount, as in real exports; deals created in the last weeks are still open.

    >>> export = demo_crm_export(50)
    >>> export.columns[:4].tolist(), len(export)
    (['Record ID', 'Deal Name', 'Deal Stage', 'Amount'], 50)
    """
    rng = np.random.default_rng(seed)
    owner = rng.integers(0, len(_DEMO_OWNERS), deals)
    month = rng.choice(12, size=deals, p=np.asarray(_DEMO_MONTHS) / sum(_DEMO_MONTHS))
    day = rng.integers(0, 28, deals)
    created = np.datetime64(f"{year}-01-01", "D") + (
        np.asarray([0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334])[month] + day
    ).astype("timedelta64[D]")
    skill = np.asarray(_DEMO_SKILL)[owner]
    stages = len(DEMO_PIPELINE)
    furthest = np.zeros(deals, dtype=np.int64)
    alive = np.ones(deals, dtype=bool)
    entered = np.empty((deals, stages + 1), dtype="datetime64[D]")
    entered[:, 0] = created
    clock = created.copy()
    for i, (_, chance, days) in enumerate(DEMO_PIPELINE):
        clock = clock + np.ceil(rng.exponential(days, deals)).astype("timedelta64[D]")
        advance = alive & (rng.random(deals) < np.minimum(chance * skill, 0.95))
        furthest = np.where(advance, i + 1, furthest)
        entered[:, i + 1] = clock
        alive = advance
    won = furthest == stages
    closed = clock.copy()
    end_of_year = np.datetime64(f"{year}-12-31", "D")
    still_open = (closed > end_of_year) & (furthest > 0)
    closed = np.where(still_open, np.datetime64("NaT"), closed)
    won &= ~still_open
    amount = np.round(rng.lognormal(np.log(11_000), 0.6, deals) * np.where(owner % 2 == 0, 1.15, 0.9), -1)
    stage_names = [name for name, _, _ in DEMO_PIPELINE] + [_DEMO_WON]
    stage = np.where(won, _DEMO_WON, np.where(still_open, np.asarray(stage_names)[furthest], _DEMO_LOST))
    amount_text = np.where(
        (stage == _DEMO_LOST) & (rng.random(deals) < 0.3), "", np.char.mod("%.2f", amount).astype(object)
    )
    ids = np.arange(1, deals + 1) + 30_000_000
    company = np.char.add("Company ", (rng.zipf(1.6, deals) % 400 + 1).astype(str))

    def stamp(days: np.ndarray, hour: np.ndarray) -> np.ndarray:
        text = np.datetime_as_string(days, unit="D").astype(object)
        return np.where(np.isnat(days), "", text + " " + np.char.mod("%02d:15", hour).astype(object))

    hour = rng.integers(8, 18, deals)
    frame = pd.DataFrame(
        {
            "Record ID": ids,
            "Deal Name": np.char.add("Deal ", ids.astype(str)),
            "Deal Stage": stage,
            "Amount": amount_text,
            "Create Date": stamp(created, hour),
            "Close Date": stamp(closed, hour),
            "Deal owner": np.asarray(_DEMO_OWNERS)[owner],
            "Associated Company": company,
        }
    )
    reached_cols = np.arange(stages + 1)[None, :] <= np.where(won, stages, furthest)[:, None]
    for i, name in enumerate(stage_names):
        days = np.where(reached_cols[:, i], entered[:, i], np.datetime64("NaT"))
        frame[f'Date entered "{name} (Sales Pipeline)"'] = stamp(days, hour)
    return frame
