"""Milestones set backwards from the target date, pace against them, and the recovery plan.

Checkpoints are counted back from the end of the period, one per cadence step
(a week, or a month), so "with 1 week to go" is always seven days before the
target date.  Each checkpoint closes a bucket of the period; a milestone shape
weights the buckets::

    cumulative_i = target * sum(weight_0 .. weight_i) / sum(weights)

    linear         weight = working days in the bucket
    front-loaded   weight = working days * (n - i)   (the first bucket carries most)
    back-loaded    weight = working days * (i + 1)   (the hockey stick)
    historical     weight = the seasonality share of the bucket (months without history blended,
                   see :func:`blend_seasonality`)
    custom         cumulative values entered backwards, "with k to go: amount"; the checkpoints
                   not entered follow a fill shape between the ones that are (see :func:`build_milestones`)

Example -- the £50,000 month from the literature, entered backwards:

>>> from datetime import date
>>> steps = build_milestones(50_000, date(2026, 12, 1), date(2026, 12, 28), shape="custom",
...                          custom_to_go=[42_000, 30_000, 20_000])
>>> [(m.due.isoformat(), m.cumulative) for m in steps]
[('2026-12-07', 20000.0), ('2026-12-14', 30000.0), ('2026-12-21', 42000.0), ('2026-12-28', 50000.0)]

The whole of December has a fifth checkpoint, on the 3rd (four weeks to go); not typed, it is
filled by the linear shape: 3 of the 8 working days up to the 10th, of the £20,000 due then.

>>> steps = build_milestones(50_000, date(2026, 12, 1), date(2026, 12, 31), shape="custom",
...                          custom_to_go=[42_000, 30_000, 20_000])
>>> [(m.due.day, m.cumulative, m.filled) for m in steps][:2]
[(3, 7500.0, True), (10, 20000.0, False)]
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd

from planner.funnel import (
    DAYS_PER_WORKING_WEEK,
    FunnelPlan,
    PlanInputs,
    Problem,
    deals_needed,
    stage_totals,
    whole_counts,
    working_days,
)
from planner.units import plural

__all__ = [
    "AHEAD_BEHIND_RULE",
    "BEYOND_REACH",
    "CADENCES",
    "FILL_SHAPES",
    "NOTE_COLUMN",
    "SHAPES",
    "ActivityPace",
    "Instead",
    "Milestone",
    "MilestoneCheck",
    "MilestoneError",
    "Pace",
    "Recovery",
    "RecoveryStage",
    "StagePace",
    "WeekActual",
    "activity_pace",
    "actuals_table",
    "blend_seasonality",
    "booked_by",
    "booked_through",
    "bookings",
    "build_milestones",
    "check_milestones",
    "checkpoint_dates",
    "choose_cadence",
    "due_by",
    "edits_to_apply",
    "milestone_path",
    "milestone_table",
    "months_without_history",
    "pace",
    "plan_milestones",
    "plan_pace",
    "recovery_plan",
    "validate_milestones",
]

SHAPES = ("linear", "front-loaded", "back-loaded", "historical", "custom")
#: The shapes that can fill the checkpoints a custom plan does not type.
FILL_SHAPES = SHAPES[:-1]
CADENCES = ("weekly", "monthly")


@dataclass(frozen=True, slots=True)
class WeekActual:
    """What happened in the week starting on Monday ``week_start``.

    ``stage_counts`` is by stage name. ``daily_revenue``, when the actuals were
    recorded day by day, splits ``revenue`` over its days, so a milestone due
    mid-week counts exactly what was booked by then.
    """

    week_start: date
    revenue: float = 0.0
    deals_won: int = 0
    stage_counts: dict[str, int] = field(default_factory=dict)
    daily_revenue: dict[date, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Milestone:
    """Revenue that must be booked, in total, by ``due``.

    ``filled``: a custom plan's checkpoint that was not typed, set by the fill shape.
    """

    due: date
    cumulative: float
    filled: bool = False


class MilestoneError(ValueError):
    """Milestones that cannot be built or do not hold; ``problems`` says which and why."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__(" ".join(p.message for p in problems))


# --------------------------------------------------------------------------- calendar


def _months_back(day: date, months: int) -> date:
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def choose_cadence(start: date, end: date) -> str:
    """Weekly for a month or a quarter, monthly for anything longer.

    >>> choose_cadence(date(2026, 10, 1), date(2026, 12, 31)), choose_cadence(date(2027, 1, 1), date(2027, 12, 31))
    ('weekly', 'monthly')
    """
    return "weekly" if (end - start).days < 14 * 7 else "monthly"


def checkpoint_dates(start: date, end: date, cadence: str = "auto") -> list[date]:
    """Checkpoint dates counted back from ``end``, returned in calendar order.

    >>> [d.isoformat() for d in checkpoint_dates(date(2026, 12, 1), date(2026, 12, 31), "weekly")]
    ['2026-12-03', '2026-12-10', '2026-12-17', '2026-12-24', '2026-12-31']
    >>> checkpoint_dates(date(2026, 10, 1), date(2026, 12, 31), "weekly")[0]  # not 1 Oct: one working day
    datetime.date(2026, 10, 8)
    """
    if cadence == "auto":
        cadence = choose_cadence(start, end)
    if cadence not in CADENCES:
        raise ValueError(f"cadence must be one of {', '.join(CADENCES)} or auto, not {cadence!r}")
    # Counted only as far back as the start, so a period in year 1 never steps off the calendar.
    if cadence == "weekly":
        steps = (end - start).days // 7 + 1 if end >= start else 0
    else:
        steps = (end.year - start.year) * 12 + end.month - start.month + 1 if end >= start else 0
    back = (lambda n: end - timedelta(weeks=n)) if cadence == "weekly" else (lambda n: _months_back(end, n))
    found = [due for due in map(back, range(steps - 1, -1, -1)) if due >= start]
    # A stub of a first bucket (a quarter starting on a Thursday) would be a milestone
    # due after a day or two; it folds into the next one.
    full_step = DAYS_PER_WORKING_WEEK if cadence == "weekly" else 21
    if len(found) > 1 and working_days(start, found[0]) < full_step / 2:
        found.pop(0)
    return found


# --------------------------------------------------------------------------- milestones


def _monthly_shares_by_bucket(
    month_shares: np.ndarray, start: date, dues: list[date], holiday_weeks: Sequence[date]
) -> np.ndarray:
    """Spread 12 calendar-month shares over the buckets ending on ``dues``.

    A bucket holding half of March's working days gets half of March's share.
    """
    weights = np.zeros(len(dues))
    bounds = [start, *(d + timedelta(days=1) for d in dues[:-1])]
    for i, (first, last) in enumerate(zip(bounds, dues, strict=True)):
        month_start = first.replace(day=1)
        while True:
            month_end = month_start.replace(day=calendar.monthrange(month_start.year, month_start.month)[1])
            in_month = working_days(month_start, month_end, holiday_weeks)
            in_bucket = working_days(max(first, month_start), min(last, month_end), holiday_weeks)
            if in_month:
                weights[i] += month_shares[month_start.month - 1] * in_bucket / in_month
            if month_end >= last:  # stop here: the day after December 9999 does not exist
                break
            month_start = month_end + timedelta(days=1)
    return weights


def months_without_history(shares: Sequence[float]) -> tuple[int, ...]:
    """The calendar months (1 = January) in which twelve seasonality shares have nothing.

    >>> months_without_history([0, 0] + [0.1] * 10)
    (1, 2)
    """
    return tuple(month for month, share in enumerate(shares, start=1) if not share > 0)


def blend_seasonality(shares: Sequence[float]) -> np.ndarray:
    """Twelve calendar-month shares, with each month the history left empty given the linear shape's share.

    A history of less than a year (an export that starts in March) has no won amount in the months it
    does not cover; taken as it is, the *historical* shape would set $0 milestones there, and a rep
    would be "ahead" with nothing booked. With ``c`` months that have a share above 0::

        blended_m = 1 / 12                       a month with no share: an even twelfth, the linear shape
        blended_m = share_m / sum(shares) * c / 12   a month with history: the rest, in the history's proportions

    The blend adds up to 1 and leaves a full year of history as it is (only normalised). Like every share,
    a month's is then spread over its working days. Shares that are all 0 (or not finite) are returned as
    they are, for :func:`build_milestones` to refuse.

    A history from March to December, busier from August:

    >>> blended = blend_seasonality([0, 0] + [0.05] * 5 + [0.15] * 5)
    >>> [round(float(v), 3) for v in blended[:3]], [round(float(v), 3) for v in blended[7:9]], float(sum(blended))
    ([0.083, 0.083, 0.042], [0.125, 0.125], 1.0)
    """
    values = np.asarray(shares, dtype=float)
    if not np.isfinite(values).all() or (values < 0).any() or values.sum() <= 0:
        return values
    covered = values > 0
    return np.where(covered, values / values.sum() * covered.sum() / 12, 1 / 12)


def _bucket_weights(
    start: date, dues: list[date], shape: str, shares: Sequence[float] | None, holiday_weeks: Sequence[date]
) -> tuple[np.ndarray, list[Problem]]:
    bounds = [start, *(d + timedelta(days=1) for d in dues[:-1])]
    days = np.array([working_days(b, d, holiday_weeks) for b, d in zip(bounds, dues, strict=True)], dtype=float)
    if days.sum() == 0:  # a period of weekends only: share by calendar day instead
        days = np.array([(d - b).days + 1 for b, d in zip(bounds, dues, strict=True)], dtype=float)
    n = len(dues)
    if shape == "linear":
        return days, []
    if shape == "front-loaded":
        return days * np.arange(n, 0, -1), []
    if shape == "back-loaded":
        return days * np.arange(1, n + 1), []
    # historical
    values = np.asarray(shares if shares is not None else [], dtype=float)
    if values.size == 12:
        values = _monthly_shares_by_bucket(blend_seasonality(values), start, dues, holiday_weeks)
    elif values.size != n:
        return days, [
            Problem(
                "shares",
                f"The historical shape needs one share per checkpoint ({n}) or one per calendar month (12), "
                f"got {values.size}. Calibrate from last year's export, or pick another shape.",
            )
        ]
    if not np.isfinite(values).all() or (values < 0).any() or values.sum() <= 0:
        return days, [Problem("shares", "Historical shares must be zero or more and not all zero.")]
    return values, []


def build_milestones(
    target: float,
    start: date,
    end: date,
    cadence: str = "auto",
    shape: str = "linear",
    shares: Sequence[float] | None = None,
    custom_to_go: Sequence[float] | Mapping[int, float] | None = None,
    holiday_weeks: Sequence[date] = (),
    fill: str = "linear",
) -> list[Milestone]:
    """Cumulative checkpoints from ``start`` to ``end``, the last one equal to ``target``.

    ``custom_to_go[k - 1]`` (or ``custom_to_go[k]`` for a mapping) is the amount
    that must be booked with ``k`` cadence steps to go.  A checkpoint not given
    is filled (``Milestone.filled``) by the ``fill`` shape between the nearest
    given amounts before and after it (0 at the start of the period)::

        amount_i = before + (after - before) * (W_i - W_before) / (W_after - W_before)

    where ``W`` is the fill shape's cumulative weight up to each checkpoint, so
    the filled amounts climb as that shape would and never go down between
    amounts that do not.  Holiday weeks carry no share of the target, as in the
    plan itself.  Raises :class:`MilestoneError` for inputs or custom values
    that do not hold.

    >>> from datetime import date
    >>> front = build_milestones(50_000, date(2026, 12, 1), date(2026, 12, 28), shape="front-loaded")
    >>> round(front[0].cumulative / 50_000, 2)
    0.4
    """
    problems: list[Problem] = []
    if not math.isfinite(target) or target <= 0:
        problems.append(Problem("target", "The target must be more than 0."))
    if end < start:
        problems.append(Problem("period_end", "The period ends before it starts — pick an end date after the start."))
    if shape not in SHAPES:
        problems.append(Problem("shape", f"Unknown milestone shape {shape!r}: pick one of {', '.join(SHAPES)}."))
    if shape == "custom" and fill not in FILL_SHAPES:
        problems.append(Problem("fill", f"Unknown fill shape {fill!r}: pick one of {', '.join(FILL_SHAPES)}."))
    if problems:
        raise MilestoneError(problems)
    dues = checkpoint_dates(start, end, cadence)
    if shape == "custom":
        given = _custom(target, dues, custom_to_go, cadence if cadence != "auto" else choose_cadence(start, end))
        steps = _filled(given, start, dues, fill, shares, holiday_weeks)
    else:
        weights, problems = _bucket_weights(start, dues, shape, shares, holiday_weeks)
        if problems:
            raise MilestoneError(problems)
        # The shares first: a target near the float limit times a weight would overflow.
        cumulative = target * (np.cumsum(weights) / weights.sum())
        cumulative[-1] = target  # exactly, whatever the float sum says
        steps = [Milestone(d, float(c)) for d, c in zip(dues, cumulative, strict=True)]
    problems = validate_milestones(steps, target, start, end)
    typed = [m.cumulative for m in steps if not m.filled][:-1]
    if shape == "custom" and problems and len(typed) > 1 and typed == sorted(typed, reverse=True):
        unit = "week" if (cadence if cadence != "auto" else choose_cadence(start, end)) == "weekly" else "month"
        problems.insert(
            0,
            Problem(
                "custom",
                f"The amounts are typed forwards: type them backwards, the one with 1 {unit} to go first "
                "(42,000; 30,000; 20,000).",
            ),
        )
    if problems:
        raise MilestoneError(problems)
    return steps


def _custom(
    target: float, dues: list[date], to_go: Sequence[float] | Mapping[int, float] | None, cadence: str
) -> dict[int, float]:
    """The amounts given, by checkpoint index (the last one is the target)."""
    unit = "week" if cadence == "weekly" else "month"
    values = dict(to_go) if isinstance(to_go, Mapping) else dict(enumerate(to_go or [], start=1))
    extra = [k for k in values if not 0 <= k < len(dues)]
    if extra:
        raise MilestoneError(
            [
                Problem(
                    "custom",
                    f"The period has only {len(dues)} {unit}ly checkpoints, so “{max(extra)} {unit}s to go” "
                    "falls before it starts.",
                )
            ]
        )
    values.setdefault(0, target)
    return {len(dues) - 1 - k: float(v) for k, v in values.items()}


def _filled(
    given: dict[int, float],
    start: date,
    dues: list[date],
    fill: str,
    shares: Sequence[float] | None,
    holiday_weeks: Sequence[date],
) -> list[Milestone]:
    """Every checkpoint: the amounts given, and the rest filled by the ``fill`` shape between them."""
    missing = [i for i in range(len(dues)) if i not in given]
    if not missing:
        return [Milestone(due, given[i]) for i, due in enumerate(dues)]
    weights, problems = _bucket_weights(start, dues, fill, shares, holiday_weeks)
    if problems:
        raise MilestoneError(problems)
    through = np.concatenate([[0.0], np.cumsum(weights)])  # through[i + 1]: the weight up to checkpoint i
    known = {-1: 0.0, **given}  # -1: the start of the period, nothing booked
    steps = []
    for i, due in enumerate(dues):
        if i in given:
            steps.append(Milestone(due, given[i]))
            continue
        before = max(j for j in known if j < i)
        after = min(j for j in known if j > i)
        span = through[after + 1] - through[before + 1]
        part = (through[i + 1] - through[before + 1]) / span if span > 0 else 0.0
        steps.append(Milestone(due, float(known[before] + (known[after] - known[before]) * part), filled=True))
    return steps


def plan_milestones(
    inputs: PlanInputs,
    shape: str = "linear",
    cadence: str = "auto",
    custom: Sequence[float] = (),
    shares: Sequence[float] | None = None,
    fill: str = "linear",
) -> list[Milestone]:
    """:func:`build_milestones` for a plan: its target, period and holiday weeks.

    One function for the milestones a plan is saved with and those the Plan page shows before saving.
    """
    return build_milestones(
        inputs.target,
        inputs.period_start,
        inputs.period_end,
        cadence,
        shape,
        shares=shares,
        custom_to_go=list(custom) or None,
        holiday_weeks=inputs.holiday_weeks,
        fill=fill,
    )


def milestone_table(steps: Sequence[Milestone], cadence: str, custom: bool = False) -> pd.DataFrame:
    """The checkpoints as a rep reads them: when, how long before the target date, booked by then, this step.

    ``cadence`` is "weekly" or "monthly" (what "auto" chose). Amounts are to the whole unit. For a
    ``custom`` plan, ``Set by`` says which amounts were typed and which filled; for a shape's it is empty.

    >>> steps = build_milestones(50_000, date(2026, 12, 1), date(2026, 12, 31), shape="custom",
    ...                          custom_to_go=[42_000, 30_000, 20_000])
    >>> table = milestone_table(steps, "weekly", custom=True)
    >>> table.iloc[[0, 1, 4]].to_dict("records")  # doctest: +NORMALIZE_WHITESPACE
    [{'Checkpoint': datetime.date(2026, 12, 3), 'To go': '4 weeks to go', 'Booked by then': 7500.0,
      'This step': 7500.0, 'Set by': 'filled'},
     {'Checkpoint': datetime.date(2026, 12, 10), 'To go': '3 weeks to go', 'Booked by then': 20000.0,
      'This step': 12500.0, 'Set by': 'typed'},
     {'Checkpoint': datetime.date(2026, 12, 31), 'To go': 'the target date', 'Booked by then': 50000.0,
      'This step': 8000.0, 'Set by': 'typed'}]
    """
    unit = "week" if cadence == "weekly" else "month"
    rows = []
    for i, step in enumerate(steps):
        k = len(steps) - 1 - i
        rows.append(
            {
                "Checkpoint": step.due,
                "To go": "the target date" if k == 0 else f"{plural(k, unit)} to go",
                "Booked by then": float(round(step.cumulative)),
                "This step": float(round(step.cumulative) - round(steps[i - 1].cumulative if i else 0.0)),
                "Set by": ("filled" if step.filled else "typed") if custom else "",
            }
        )
    return pd.DataFrame(rows, columns=["Checkpoint", "To go", "Booked by then", "This step", "Set by"])


def validate_milestones(steps: Sequence[Milestone], target: float, start: date, end: date) -> list[Problem]:
    """What is wrong with a list of checkpoints, each problem naming the checkpoint.

    >>> from datetime import date
    >>> bad = [Milestone(date(2026, 12, 14), 30_000), Milestone(date(2026, 12, 21), 25_000),
    ...        Milestone(date(2026, 12, 28), 50_000)]
    >>> print(validate_milestones(bad, 50_000, date(2026, 12, 1), date(2026, 12, 28))[0].message)
    The checkpoint on 21 Dec 2026 (25,000) is below the one before it (30,000 on 14 Dec 2026): milestones never go down.
    """
    problems: list[Problem] = []
    if not steps:
        return [Problem("milestones", "There are no checkpoints: the period is too short for its cadence.")]
    for i, step in enumerate(steps):
        field = f"milestones[{i}]"
        if not math.isfinite(step.cumulative) or step.cumulative < 0:
            problems.append(Problem(field, f"The checkpoint on {step.due:%d %b %Y} needs an amount of 0 or more."))
        if not start <= step.due <= end:
            problems.append(
                Problem(
                    field,
                    f"The checkpoint on {step.due:%d %b %Y} falls outside the period "
                    f"({start:%d %b %Y} to {end:%d %b %Y}).",
                )
            )
        if i and step.cumulative < steps[i - 1].cumulative:
            before = steps[i - 1]
            problems.append(
                Problem(
                    field,
                    f"The checkpoint on {step.due:%d %b %Y} ({step.cumulative:,.0f}) is below the one before it "
                    f"({before.cumulative:,.0f} on {before.due:%d %b %Y}): milestones never go down.",
                )
            )
        if i and step.due <= steps[i - 1].due:
            problems.append(Problem(field, f"Two checkpoints fall on or out of order at {step.due:%d %b %Y}."))
    last = steps[-1]
    if not math.isclose(last.cumulative, target, rel_tol=1e-9, abs_tol=0.005):
        problems.append(
            Problem(
                f"milestones[{len(steps) - 1}]",
                f"The last checkpoint ({last.cumulative:,.0f} on {last.due:%d %b %Y}) must equal the target "
                f"({target:,.0f}).",
            )
        )
    return problems


# --------------------------------------------------------------------------- what is booked, what is due

#: The one definition of ahead and behind, as Track, Team review and ``backplan track`` say it.
AHEAD_BEHIND_RULE = (
    "**Ahead or behind** on a day = what is booked by that day − what the milestones call for by it. "
    "The milestones call for nothing at the period start, each milestone's amount on its date, and pro rata "
    "by working days in between. Bookings count up to the day: by their own dates where the actuals are recorded "
    "day by day, else each week's revenue spread over its working days; the week of the as-of date counts whole, "
    "as what is booked so far. Weeks before the period count no revenue. A milestone is **hit** when what was "
    "booked by its date reached it."
)


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _week_end(week: date) -> date:
    """The Sunday of the week starting ``week`` (or 31 Dec 9999, where the calendar ends)."""
    return week + timedelta(days=min(6, (date.max - week).days))


def _share_by(week: date, day: date, start: date, end: date, holiday_weeks: Sequence[date]) -> float:
    """How much of the week starting ``week`` (inside the period) is over by the end of ``day``.

    By working days; by calendar days in a week with none (a holiday week).
    """
    first, last = max(week, start), min(_week_end(week), end)
    if day >= last:
        return 1.0
    if day < first:
        return 0.0
    whole = working_days(first, last, holiday_weeks)
    if whole == 0:
        return ((day - first).days + 1) / ((last - first).days + 1)
    return working_days(first, day, holiday_weeks) / whole


def bookings(weeks: Sequence[WeekActual]) -> tuple[dict[date, float], dict[date, float]]:
    """Recorded weeks as the pace functions take them: revenue by week, and revenue by day where recorded by day.

    >>> bookings([WeekActual(date(2026, 12, 7), 900.0, daily_revenue={date(2026, 12, 8): 900.0})])
    ({datetime.date(2026, 12, 7): 900.0}, {datetime.date(2026, 12, 8): 900.0})
    """
    weekly = {w.week_start: float(w.revenue) for w in weeks}
    daily = {day: float(amount) for w in weeks for day, amount in w.daily_revenue.items()}
    return weekly, daily


def booked_through(
    day: date,
    weekly_revenue: Mapping[date, float],
    period: tuple[date, date] = (date.min, date.max),
    *,
    as_of: date | None = None,
    holiday_weeks: Sequence[date] = (),
    daily_revenue: Mapping[date, float] | None = None,
) -> float:
    """Revenue booked in the period by the end of ``day``, by :data:`AHEAD_BEHIND_RULE`.

    A week wholly before ``day`` counts whole; the week ``day`` falls in counts
    its days up to ``day`` when recorded by day (``daily_revenue``), else the
    share of its working days gone -- unless it is the week of ``as_of``, whose
    figures are what is booked so far. Weeks wholly outside the period count nothing.

    >>> weeks = {date(2026, 11, 30): 17_000.0, date(2026, 12, 7): 5_000.0}
    >>> booked_through(date(2026, 12, 7), weeks)  # a Monday: one working day of five
    18000.0
    >>> booked_through(date(2026, 12, 7), weeks, as_of=date(2026, 12, 7))  # today: this week so far
    22000.0
    """
    start, end = period
    by_day: dict[date, dict[date, float]] = {}
    for booked_on, amount in (daily_revenue or {}).items():
        by_day.setdefault(_monday(booked_on), {})[booked_on] = float(amount)
    total = 0.0
    for week, amount in weekly_revenue.items():
        if not math.isfinite(amount) or week > day or week > end or _week_end(week) < start:
            continue
        share = _share_by(week, day, start, end, holiday_weeks)
        if share >= 1.0:
            total += float(amount)
        elif week in by_day:
            total += sum(v for d, v in by_day[week].items() if d <= day and math.isfinite(v))
        elif as_of is not None and week <= as_of <= day:
            total += float(amount)
        else:
            total += float(amount) * share
    return total


def due_by(steps: Sequence[Milestone], day: date, period_start: date, holiday_weeks: Sequence[date] = ()) -> float:
    """What the milestones call for by the end of ``day``: pro rata by working days between them.

    0 before the period, each milestone's amount on its date, the last one after it.

    >>> steps = [Milestone(date(2026, 12, 4), 10_000.0), Milestone(date(2026, 12, 11), 20_000.0)]
    >>> due_by(steps, date(2026, 12, 4), date(2026, 12, 1)), due_by(steps, date(2026, 12, 8), date(2026, 12, 1))
    (10000.0, 14000.0)
    """
    done, value = period_start, 0.0  # the current stretch starts on ``done``, at ``value``
    for step in steps:
        if day >= step.due:
            value = step.cumulative
            if step.due == date.max:
                return value
            done = step.due + timedelta(days=1)
            continue
        if day < done:
            return value
        span = working_days(done, step.due, holiday_weeks)
        gone = working_days(done, day, holiday_weeks)
        return value + (step.cumulative - value) * gone / span if span else value
    return value


def milestone_path(steps: Sequence[Milestone], period_start: date) -> list[tuple[date, float]]:
    """The points of what is due, as the burn-up draws it: 0 at the period start, then each milestone.

    >>> milestone_path([Milestone(date(2026, 12, 4), 10.0)], date(2026, 12, 1))
    [(datetime.date(2026, 12, 1), 0.0), (datetime.date(2026, 12, 4), 10.0)]
    """
    return [(period_start, 0.0), *((m.due, m.cumulative) for m in steps)]


# --------------------------------------------------------------------------- pace


@dataclass(frozen=True, slots=True)
class Pace:
    """Where a plan stands on ``as_of`` against its milestones, by :data:`AHEAD_BEHIND_RULE`.

    ``due_to_date`` is what the milestones call for by ``as_of``;
    ``gap_to_milestone`` is booked minus it (negative: behind).
    ``latest_milestone`` is the last one due by ``as_of`` and
    ``next_milestone`` the first one after it. ``run_rate_projection`` extends
    the booking rate per working day so far to the whole period.
    ``required_per_week`` is what the rest of the target needs per working week
    from ``as_of`` on.
    """

    as_of: date
    target: float
    booked: float
    attainment: float
    latest_milestone: Milestone | None
    gap_to_milestone: float
    run_rate_projection: float
    remaining: float
    working_weeks_left: float
    required_per_week: float
    planned_per_week: float
    due_to_date: float = 0.0
    next_milestone: Milestone | None = None

    @property
    def behind(self) -> bool:
        return self.gap_to_milestone < 0


def pace(
    target: float,
    start: date,
    end: date,
    steps: Sequence[Milestone],
    weekly_revenue: Mapping[date, float],
    as_of: date,
    holiday_weeks: Sequence[date] = (),
    daily_revenue: Mapping[date, float] | None = None,
) -> Pace:
    """Attainment, gap, projection and required pace from weekly revenue booked.

    ``weekly_revenue`` maps each week's Monday to revenue booked that week;
    ``daily_revenue`` splits weeks recorded day by day. What counts by
    ``as_of`` follows :func:`booked_through`.

    >>> from datetime import date
    >>> steps = build_milestones(50_000, date(2026, 12, 1), date(2026, 12, 28), "weekly")
    >>> p = pace(50_000, date(2026, 12, 1), date(2026, 12, 28), steps,
    ...          {date(2026, 11, 30): 9_000, date(2026, 12, 7): 6_000}, as_of=date(2026, 12, 14))
    >>> p.booked, round(p.attainment, 2), round(p.due_to_date), round(p.gap_to_milestone)
    (15000.0, 0.3, 25000, -10000)
    """
    booked = booked_through(
        as_of, weekly_revenue, (start, end), as_of=as_of, holiday_weeks=holiday_weeks, daily_revenue=daily_revenue
    )
    due = [m for m in steps if m.due <= as_of]
    latest = due[-1] if due else None
    upcoming = next((m for m in steps if m.due > as_of), None)
    due_to_date = due_by(steps, as_of, start, holiday_weeks)
    total_days = working_days(start, end, holiday_weeks)
    elapsed = working_days(start, min(as_of, end), holiday_weeks)
    left_days = _working_days_after(as_of, start, end, holiday_weeks)
    projection = booked * total_days / elapsed if elapsed else 0.0
    remaining = max(target - booked, 0.0)
    weeks_left = left_days / DAYS_PER_WORKING_WEEK
    required = remaining / weeks_left if weeks_left else (math.inf if remaining else 0.0)
    planned = target / (total_days / DAYS_PER_WORKING_WEEK) if total_days else math.inf
    return Pace(
        as_of=as_of,
        target=float(target),
        booked=booked,
        attainment=booked / target if target else 0.0,
        latest_milestone=latest,
        gap_to_milestone=booked - due_to_date,
        run_rate_projection=projection,
        remaining=remaining,
        working_weeks_left=weeks_left,
        required_per_week=required,
        planned_per_week=planned,
        due_to_date=due_to_date,
        next_milestone=upcoming,
    )


def _working_days_after(as_of: date, start: date, end: date, holiday_weeks: Sequence[date]) -> int:
    """Working days from ``start`` to ``end`` that come after ``as_of``.

    Counted as all of them less those up to ``as_of``: the day after 31 Dec 9999 does not exist.
    """
    return working_days(start, end, holiday_weeks) - working_days(start, min(as_of, end), holiday_weeks)


def plan_pace(
    inputs: PlanInputs,
    steps: Sequence[Milestone],
    weekly_revenue: Mapping[date, float],
    as_of: date,
    daily_revenue: Mapping[date, float] | None = None,
) -> Pace:
    """:func:`pace` for a plan: its target, period and holiday weeks."""
    return pace(
        inputs.target,
        inputs.period_start,
        inputs.period_end,
        steps,
        weekly_revenue,
        as_of,
        inputs.holiday_weeks,
        daily_revenue,
    )


# --------------------------------------------------------------------------- recovery

#: A pace more than this many times the plan's is beyond reach, whatever the record says.
BEYOND_REACH = 2.0


@dataclass(frozen=True, slots=True)
class RecoveryStage:
    """One stage of the recovery plan.

    ``weeks_available`` is the working time left in which this stage's activity
    can still turn into a deal before the period ends (its lags subtracted).
    ``best_week`` is the most of this stage recorded in one week (None with
    nothing recorded); ``within_reach`` is False when the pace needed is more
    than :data:`BEYOND_REACH` times the plan's, or more than the best week.
    """

    name: str
    needed: int
    weeks_available: float
    per_week_needed: float
    planned_per_week: float
    in_time: bool
    best_week: int | None = None

    @property
    def extra_per_week(self) -> float:
        return max(self.per_week_needed - self.planned_per_week, 0.0)

    @property
    def reachable_per_week(self) -> float:
        """The most a week of this stage can be counted on for: 2× the plan, or the best week if lower."""
        ceiling = BEYOND_REACH * self.planned_per_week
        return min(ceiling, self.best_week) if self.best_week else ceiling

    @property
    def within_reach(self) -> bool:
        if not self.needed or not self.in_time:
            return self.in_time
        return self.per_week_needed <= self.reachable_per_week * (1 + 1e-9)


@dataclass(frozen=True, slots=True)
class Instead:
    """What would make what is left reachable, when the pace it needs is not (each None when nothing does).

    ``deal_size`` is the average deal that needs no more than the reachable
    pace of any stage; ``end_date`` is the date by which that pace gets there;
    ``pipeline`` is the existing pipeline that would have to carry it instead
    (coverage × what is left).
    """

    deal_size: float | None
    end_date: date | None
    pipeline: float


@dataclass(frozen=True, slots=True)
class Recovery:
    """The rest of the target pushed back through the plan's funnel.

    ``cycle_too_long`` means new top-of-funnel activity cannot close before
    the period ends; the gap must then come from pipeline that already exists,
    ``pipeline_needed`` of it (coverage ratio x what is left). ``instead`` is
    set when some stage's pace is beyond reach.
    """

    remaining: float
    deals_needed: int
    stages: tuple[RecoveryStage, ...]
    cycle_too_long: bool
    pipeline_needed: float
    instead: Instead | None = None


def _best_weeks(plan: FunnelPlan, weeks: Sequence[WeekActual]) -> list[int | None]:
    """The most recorded in one week, per stage (deals won last); None for a stage nothing is recorded for."""
    won = plan.inputs.won_stage
    best: list[int | None] = []
    for stage in plan.stages:
        counts = [w.deals_won if stage.name == won.strip() else w.stage_counts.get(stage.name, 0) for w in weeks]
        top = max(counts, default=0)
        best.append(int(top) if top > 0 else None)
    return best


def _instead(plan: FunnelPlan, progress: Pace, stages: Sequence[RecoveryStage]) -> Instead:
    inputs = plan.inputs
    per_deal = stage_totals(1.0, inputs.stages)  # of each stage, for one deal
    # The deals the reachable pace allows by the period end, the tightest stage deciding.
    allowed = min(
        (s.reachable_per_week * s.weeks_available / share for s, share in zip(stages, per_deal, strict=True)),
        default=0.0,
    )
    deal_size = progress.remaining / math.floor(allowed) if allowed >= 1 else None
    # Each stage's work at its reachable pace, then its days before close: the latest decides.
    holidays = np.array(
        sorted({_monday(d) + timedelta(days=k) for d in inputs.holiday_weeks for k in range(5)}), dtype="datetime64[D]"
    )
    end_date: date | None = None
    for stage, plan_stage, share in zip(stages, plan.stages, per_deal, strict=True):
        if stage.reachable_per_week <= 0:
            end_date = None
            break
        needed = deals_needed(progress.remaining, inputs.deal_size) * share
        days = math.ceil(needed / stage.reachable_per_week * DAYS_PER_WORKING_WEEK)
        try:
            finish = np.busday_offset(np.datetime64(progress.as_of, "D"), days, roll="forward", holidays=holidays)
            done = finish.astype("datetime64[D]").item() + timedelta(days=plan_stage.days_before_close)
        except (OverflowError, ValueError):
            end_date = None
            break
        end_date = done if end_date is None else max(end_date, done)
    return Instead(deal_size, end_date, inputs.coverage_ratio * progress.remaining)


def recovery_plan(plan: FunnelPlan, progress: Pace, weeks: Sequence[WeekActual] = ()) -> Recovery:
    """What must happen per week from ``progress.as_of`` to book what is left.

    Each stage's activity must happen ``days_before_close`` before the period
    ends, so it has fewer weeks than the deals themselves; a stage with no
    working time left is flagged ``in_time=False``. ``weeks`` (the actuals)
    give each stage's best week: a pace beyond reach gets an :class:`Instead`.
    A ``plan`` built for a chance of hitting the target (a target above
    ``progress.target``) plans what is left with the same margin: deals for what
    is left times ``plan.inputs.target / progress.target``.

    >>> from datetime import date
    >>> from planner.funnel import PlanInputs, Stage, build_plan
    >>> plan = build_plan(PlanInputs(50_000, 5_000, date(2026, 12, 1), date(2026, 12, 28),
    ...                              stages=(Stage("Meetings", 2, 7),)))
    >>> steps = build_milestones(50_000, date(2026, 12, 1), date(2026, 12, 28))
    >>> behind = pace(50_000, date(2026, 12, 1), date(2026, 12, 28), steps, {date(2026, 11, 30): 5_000},
    ...               as_of=date(2026, 12, 7))
    >>> r = recovery_plan(plan, behind)
    >>> r.deals_needed, [(s.name, s.needed, s.in_time) for s in r.stages]
    (9, [('Meetings', 18, True), ('Deals won', 9, True)])
    """
    inputs = plan.inputs
    remaining = progress.remaining
    # A plan built for a chance of hitting the target (plan_for_chance: its target times that chance's
    # multiplier) plans what is left with the same margin.
    margin = inputs.target / progress.target if progress.target > 0 else 1.0
    deals = deals_needed(remaining * margin, inputs.deal_size) if remaining > 0 else 0
    totals = whole_counts(stage_totals(deals, inputs.stages)).astype(int)
    stages = []
    recorded = [w for w in weeks if w.week_start <= progress.as_of]  # the record as it stood on the day
    for stage, whole, best in zip(plan.stages, totals.tolist(), _best_weeks(plan, recorded), strict=True):
        needed = int(whole)
        last_day = inputs.period_end - timedelta(days=stage.days_before_close)
        left = _working_days_after(progress.as_of, inputs.period_start, last_day, inputs.holiday_weeks)
        weeks_left = left / DAYS_PER_WORKING_WEEK
        in_time = weeks_left > 0
        per_week = needed / weeks_left if in_time else math.inf if needed else 0.0
        stages.append(
            RecoveryStage(stage.name, needed, weeks_left, per_week, stage.per_week, in_time or not needed, best)
        )
    cycle_too_long = not stages[0].in_time
    beyond = not cycle_too_long and any(not s.within_reach for s in stages)
    return Recovery(
        remaining=remaining,
        deals_needed=deals,
        stages=tuple(stages),
        cycle_too_long=cycle_too_long,
        pipeline_needed=inputs.coverage_ratio * remaining,
        instead=_instead(plan, progress, stages) if beyond else None,
    )


# --------------------------------------------------------------------------- burn-up


@dataclass(frozen=True, slots=True)
class MilestoneCheck:
    """A checkpoint judged on ``as_of``: "hit", "missed" or "upcoming"; ``booked`` is what was booked by its date."""

    milestone: Milestone
    booked: float
    status: str


def booked_by(
    weekly_revenue: Mapping[date, float],
    period_start: date,
    period_end: date,
    as_of: date | None = None,
    *,
    holiday_weeks: Sequence[date] = (),
    daily_revenue: Mapping[date, float] | None = None,
) -> list[tuple[date, float]]:
    """Cumulative revenue booked, from 0 on ``period_start``: at the end of each week, and on ``as_of``.

    Each point is :func:`booked_through` its day, so the line ends on ``as_of``
    at exactly what Track's card says is booked. A week's point is its Sunday
    (or the period end, if sooner).

    >>> booked_by({date(2026, 12, 7): 5.0, date(2026, 11, 30): 2.0}, date(2026, 12, 1), date(2026, 12, 28))
    [(datetime.date(2026, 12, 1), 0.0), (datetime.date(2026, 12, 6), 2.0), (datetime.date(2026, 12, 13), 7.0)]
    """
    period = (period_start, period_end)

    def through(day: date) -> float:
        return booked_through(
            day, weekly_revenue, period, as_of=as_of, holiday_weeks=holiday_weeks, daily_revenue=daily_revenue
        )

    last = period_end if as_of is None else min(as_of, period_end)
    days = sorted({min(_week_end(w), period_end) for w in weekly_revenue if w <= last and _week_end(w) >= period_start})
    points = [(period_start, 0.0)] + [(day, through(day)) for day in days if day < last or as_of is None]
    if as_of is not None and as_of >= period_start and points[-1][0] != last:
        points.append((last, through(last)))
    return points


def check_milestones(
    steps: Sequence[Milestone],
    weekly_revenue: Mapping[date, float],
    as_of: date,
    *,
    period: tuple[date, date] = (date.min, date.max),
    holiday_weeks: Sequence[date] = (),
    daily_revenue: Mapping[date, float] | None = None,
) -> list[MilestoneCheck]:
    """Each checkpoint due by ``as_of`` hit or missed by what was booked by its date (:func:`booked_through`).

    >>> steps = [Milestone(date(2026, 12, 7), 10.0), Milestone(date(2026, 12, 14), 20.0)]
    >>> [c.status for c in check_milestones(steps, {date(2026, 11, 30): 12.0}, date(2026, 12, 10))]
    ['hit', 'upcoming']
    """
    checks = []
    for step in steps:
        booked = booked_through(
            step.due,
            weekly_revenue,
            period,
            as_of=as_of,
            holiday_weeks=holiday_weeks,
            daily_revenue=daily_revenue,
        )
        if step.due > as_of:
            status = "upcoming"
        else:
            status = "hit" if booked >= step.cumulative - 0.005 else "missed"
        checks.append(MilestoneCheck(step, booked, status))
    return checks


# --------------------------------------------------------------------------- the actuals table

WEEK_COLUMN = "Week starting"
REVENUE_COLUMN = "Revenue"
#: The actuals table's last column: "before the period" for the prospecting weeks the plan starts with.
NOTE_COLUMN = "Note"
BEFORE_THE_PERIOD = "before the period"


def _notes(plan: FunnelPlan) -> list[str]:
    holiday = plan.week_working_days == 0
    return [
        BEFORE_THE_PERIOD if not in_period else "holiday" if off else ""
        for in_period, off in zip(plan.week_in_period.tolist(), holiday.tolist(), strict=True)
    ]


def _count(value: object) -> float:
    """A cell as a number of 0 or more; an emptied (None) or unreadable cell counts as 0."""
    try:
        result = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0.0
    return result if math.isfinite(result) and result > 0 else 0.0


def actuals_table(plan: FunnelPlan, weeks: Sequence[WeekActual]) -> pd.DataFrame:
    """One row per week of the plan, the prospecting weeks before the period first: zeros where nothing is recorded.

    Columns: ``Week starting``, ``Revenue``, the won stage (deals won), one
    count column per stage from the top of the funnel down, then ``Note``.

    >>> from planner.funnel import PlanInputs, Stage, build_plan
    >>> plan = build_plan(PlanInputs(50_000, 5_000, date(2026, 12, 1), date(2026, 12, 28),
    ...                              stages=(Stage("Meetings", 2, 7),)))
    >>> table = actuals_table(plan, [WeekActual(date(2026, 12, 7), 9_000, 2, {"Meetings": 11})])
    >>> list(table.columns)
    ['Week starting', 'Revenue', 'Deals won', 'Meetings', 'Note']
    >>> table[WEEK_COLUMN].iloc[0], table[NOTE_COLUMN].iloc[0]
    (datetime.date(2026, 11, 23), 'before the period')
    >>> table.loc[2, [REVENUE_COLUMN, "Deals won", "Meetings"]].astype(float).tolist()
    [9000.0, 2.0, 11.0]
    """
    recorded = {w.week_start: w for w in weeks}
    stage_names = [s.name for s in plan.stages[:-1]]
    rows = []
    for week, note in zip(plan.week_starts.astype("datetime64[D]").tolist(), _notes(plan), strict=True):
        actual = recorded.get(week, WeekActual(week))
        rows.append(
            [week, float(actual.revenue), int(actual.deals_won)]
            + [int(actual.stage_counts.get(name, 0)) for name in stage_names]
            + [note]
        )
    columns = [WEEK_COLUMN, REVENUE_COLUMN, plan.inputs.won_stage, *stage_names, NOTE_COLUMN]
    table = pd.DataFrame(rows, columns=columns)
    table[WEEK_COLUMN] = pd.to_datetime(table[WEEK_COLUMN]).dt.date
    return table


def edits_to_apply(
    table: pd.DataFrame,
    edited_rows: Mapping[int | str, Mapping[str, object]],
    applied: Mapping[tuple[date, str], float],
) -> dict[tuple[date, str], float]:
    """The cells a data editor's edits change that were not applied yet, keyed by (week, column).

    ``edited_rows`` is the editor's own record, by row position in ``table``
    (its input) and column, of every edit since the input was drawn; ``applied``
    is what was already written from it. An edit taken back to the input's value
    drops out of the editor's record, but still changes what was written. An
    emptied cell is 0.

    >>> t = pd.DataFrame({WEEK_COLUMN: [date(2026, 12, 7), date(2026, 12, 14)], REVENUE_COLUMN: [5.0, 0.0]})
    >>> done = {(date(2026, 12, 7), REVENUE_COLUMN): 9.0}
    >>> edits_to_apply(t, {0: {REVENUE_COLUMN: 9.0}, 1: {REVENUE_COLUMN: 4}}, done)
    {(datetime.date(2026, 12, 14), 'Revenue'): 4.0}
    >>> edits_to_apply(t, {}, done)  # the edit of 7 Dec was taken back to 5
    {(datetime.date(2026, 12, 7), 'Revenue'): 5.0}
    """
    weeks = table[WEEK_COLUMN].tolist()
    wanted: dict[tuple[date, str], float] = {}
    for row, changes in edited_rows.items():
        for column, value in changes.items():
            wanted[(weeks[int(row)], column)] = _count(value)
    for week, column in applied:
        if (week, column) not in wanted and week in weeks:
            wanted[(week, column)] = _count(table[column].iloc[weeks.index(week)])
    return {cell: value for cell, value in wanted.items() if applied.get(cell) != value}


# --------------------------------------------------------------------------- activity against plan


@dataclass(frozen=True, slots=True)
class StagePace:
    """One stage's activity in the week of ``as_of`` against the time-phased plan.

    ``gap`` is done − planned from the plan's first week to the end of this
    week (negative: behind); ``to_do`` is this week's plan plus what was
    behind before it, spread over the weeks this stage has left (less, when ahead).
    """

    name: str
    planned: int
    done: int
    gap: int
    to_do: int
    weeks_left: int


@dataclass(frozen=True, eq=False)
class ActivityPace:
    """Activity against the time-phased plan: this week per stage, and week by week.

    ``weeks`` has one row per stage and plan week (the prospecting weeks before
    the period included): ``Week starting``, ``Note``, ``Stage``, ``Planned``,
    ``Done``, ``Running gap`` (empty after this week).
    """

    week: date
    stages: tuple[StagePace, ...]
    weeks: pd.DataFrame


def activity_pace(plan: FunnelPlan, weeks: Sequence[WeekActual], as_of: date) -> ActivityPace:
    """Each stage's planned activity (:attr:`FunnelPlan.weekly`) against what was done, up to the week of ``as_of``.

    ::

        running gap = sum(done) - sum(planned), week by week
        to do this week = ceil(planned this week - gap before this week / weeks left for the stage)

    >>> from planner.funnel import PlanInputs, Stage, build_plan
    >>> plan = build_plan(PlanInputs(50_000, 5_000, date(2026, 12, 1), date(2026, 12, 28),
    ...                              stages=(Stage("Meetings", 2, 7),)))
    >>> [int(n) for n in plan.weekly[0]]  # Meetings, from the week of 23 Nov
    [4, 5, 5, 5, 1, 0]
    >>> done = [WeekActual(date(2026, 11, 23), stage_counts={"Meetings": 1})]
    >>> meetings = activity_pace(plan, done, date(2026, 12, 2)).stages[0]
    >>> meetings.planned, meetings.done, meetings.gap, meetings.to_do
    (5, 0, -8, 6)
    """
    this_week = _monday(as_of)
    mondays = plan.week_starts.astype("datetime64[D]").tolist()
    position = sum(1 for w in mondays if w <= this_week) - 1  # -1: before the plan's first week
    recorded = {w.week_start: w for w in weeks}
    won = plan.inputs.won_stage.strip()
    notes = _notes(plan)
    stages, rows = [], []
    for row, stage in enumerate(plan.stages):
        planned = [int(n) for n in plan.weekly[row]]
        done = [
            int(recorded[w].deals_won if stage.name == won else recorded[w].stage_counts.get(stage.name, 0))
            if w in recorded
            else 0
            for w in mondays
        ]
        running = np.cumsum(np.array(done) - np.array(planned)).tolist()
        for k, week in enumerate(mondays):
            rows.append(
                {
                    WEEK_COLUMN: week,
                    NOTE_COLUMN: notes[k],
                    "Stage": stage.name,
                    "Planned": planned[k],
                    "Done": done[k] if k <= position else None,
                    "Running gap": running[k] if k <= position else None,
                }
            )
        now = min(position, len(mondays) - 1)
        planned_now = planned[now] if 0 <= position < len(mondays) else 0
        done_now = done[now] if 0 <= position < len(mondays) else 0
        gap_before = int(running[now - 1]) if position >= 1 else 0
        last = max((k for k, n in enumerate(planned) if n > 0), default=0)
        weeks_left = max(last - max(position, 0) + 1, 1)
        to_do = max(0, math.ceil(planned_now - gap_before / weeks_left - 1e-9))
        gap = int(running[now]) if position >= 0 else 0
        stages.append(StagePace(stage.name, planned_now, done_now, gap, to_do, weeks_left))
    table = pd.DataFrame(rows, columns=[WEEK_COLUMN, NOTE_COLUMN, "Stage", "Planned", "Done", "Running gap"])
    return ActivityPace(this_week, tuple(stages), table)
