"""The backward funnel: from a revenue target back to the weekly activity it takes.

A plan is read from the bottom of the funnel up::

    deals needed      = ceil(target / average deal size)
    stage k total     = ceil(deals needed * ratio_k * ratio_k+1 * ... * ratio_last)

where ``ratio_k`` is "N of stage k per 1 of the next stage" (2 connection
requests per meeting is a ratio of 2, a 50% conversion rate).  Totals are then
spread over the working days of the period, shifted earlier by each stage's lag
(the activity for a deal closing on day d happens ``lag`` days before d), and
binned into Monday-starting weeks.

Every public function takes a :class:`PlanInputs`; :func:`validate` is the one
place where inputs are checked, and :func:`build_plan` refuses inputs that do
not pass it with a :class:`PlanInputError` listing every problem in words a
sales rep understands.

Example -- the plan from the literature we build on:

>>> from datetime import date
>>> plan = build_plan(PlanInputs(target=385_000, deal_size=3_850,
...                              period_start=date(2027, 1, 4), period_end=date(2027, 12, 31)))
>>> plan.deals_needed
100
>>> [(s.name, s.total) for s in plan.stages]
[('Connection requests', 800), ('Meetings', 400), ('Qualified prospects', 200), ('Deals won', 100)]
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

import numpy as np
import pandas as pd

__all__ = [
    "DAYS_PER_WORKING_WEEK",
    "DEFAULT_STAGES",
    "DEFAULT_WON_STAGE",
    "LEVER_STEP",
    "MAX_ACTIVITY",
    "MAX_LAG_DAYS",
    "FunnelPlan",
    "Lever",
    "MonthCoverage",
    "PlanInputError",
    "PlanInputs",
    "Problem",
    "Stage",
    "StagePlan",
    "WhatIfGrid",
    "build_plan",
    "conversion_rate",
    "deals_needed",
    "default_period",
    "levers",
    "overall_win_rate",
    "period_weeks",
    "stage_totals",
    "twelve_months_from",
    "validate",
    "weekly_activity_table",
    "what_if_grid",
    "whole_counts",
    "working_days",
]

#: How much each lever is pulled in :func:`levers`: +10%.
LEVER_STEP = 0.10

_WEEK = 7
#: A working week, Monday to Friday; the unit of every "per week" figure.
DAYS_PER_WORKING_WEEK = 5


@dataclass(frozen=True, slots=True)
class Stage:
    """One funnel stage above the won deals.

    ``ratio`` is how many of this stage it takes to get one of the next stage
    (2.0 reads "2 : 1", a 50% conversion rate); ``lag_days`` is the typical time
    from this stage to the next. ``id`` is the stage's identity once a plan is
    saved (None before): a renamed stage keeps it, and the counts recorded for
    it. It takes no part in comparing plans, which is about their numbers.
    """

    name: str
    ratio: float
    lag_days: int = 0
    id: int | None = field(default=None, compare=False)


DEFAULT_STAGES: tuple[Stage, ...] = (
    Stage("Connection requests", 2.0),
    Stage("Meetings", 2.0),
    Stage("Qualified prospects", 2.0),
)
DEFAULT_WON_STAGE = "Deals won"


@dataclass(frozen=True, slots=True)
class PlanInputs:
    """Everything a plan is computed from.

    ``stages`` run from the top of the funnel down and stop above the won
    deals, whose name is ``won_stage``.  ``holiday_weeks`` holds any day of each
    week that is not worked (it is read as that week's Monday).
    """

    target: float
    deal_size: float
    period_start: date
    period_end: date
    stages: tuple[Stage, ...] = DEFAULT_STAGES
    won_stage: str = DEFAULT_WON_STAGE
    holiday_weeks: tuple[date, ...] = ()
    coverage_ratio: float = 3.0


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong with one input: which ``field`` and what to do about it."""

    field: str
    message: str


class PlanInputError(ValueError):
    """Raised by :func:`build_plan` for inputs that fail :func:`validate`."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__(" ".join(p.message for p in problems))


@dataclass(frozen=True, slots=True)
class StagePlan:
    """One stage of a computed plan.

    ``exact`` is the expected count before rounding (from the exact number of
    deals); ``total`` is the whole number to plan for.  ``days_before_close``
    is how long before a deal closes this stage's activity happens.
    """

    name: str
    ratio: float | None
    lag_days: int
    days_before_close: int
    exact: float
    total: int
    per_week: float
    per_day: float

    @property
    def conversion_rate(self) -> float | None:
        """Share of this stage that reaches the next one (None for won deals)."""
        return None if self.ratio is None else conversion_rate(self.ratio)


@dataclass(frozen=True, slots=True)
class MonthCoverage:
    """The pipeline that must be open on the first day of ``month``.

    ``pipeline_needed = coverage ratio * month_target``, where the month's
    target is its share of the period's working days times the plan target.
    """

    month: date
    working_days: int
    month_target: float
    pipeline_needed: float


@dataclass(frozen=True, eq=False)
class FunnelPlan:
    """A computed plan.  Build it with :func:`build_plan`.

    ``weekly`` holds whole activity counts, one row per stage (won deals
    last) and one column per week in ``week_starts``; weeks start on Monday
    and run from the week of :attr:`start_by` to the end of the period.  Each
    row sums to the stage's ``total``.
    """

    inputs: PlanInputs
    deals_exact: float
    deals_needed: int
    stages: tuple[StagePlan, ...]
    working_days: int
    start_by: date
    week_starts: np.ndarray
    week_working_days: np.ndarray
    week_in_period: np.ndarray
    weekly: np.ndarray
    coverage: tuple[MonthCoverage, ...]

    @property
    def working_weeks(self) -> float:
        """Working days / 5: a holiday week or a part week counts for less."""
        return self.working_days / DAYS_PER_WORKING_WEEK

    @property
    def top_of_funnel(self) -> StagePlan:
        return self.stages[0]

    @property
    def overall_win_rate(self) -> float:
        return overall_win_rate(self.inputs.stages)

    def stage(self, name: str) -> StagePlan | None:
        """The stage called ``name`` (case-insensitive), or None."""
        wanted = name.strip().casefold()
        return next((s for s in self.stages if s.name.strip().casefold() == wanted), None)


@dataclass(frozen=True, slots=True)
class Lever:
    """What +10% on one thing a rep can move does to the plan.

    ``top_of_funnel_total`` is the top-of-funnel activity needed after the
    change; ``weeks_needed`` is how many working weeks it takes at today's
    weekly pace (for the activity lever, at 10% more); ``effort_saved`` is
    ``1 - weeks_needed / working weeks``, the one unit every lever is ranked in.
    """

    kind: str  # "deal_size", "ratio" or "activity"
    label: str
    before: float
    after: float
    top_of_funnel_total: int
    weeks_needed: float
    weeks_saved: float
    effort_saved: float


@dataclass(frozen=True, eq=False)
class WhatIfGrid:
    """Weekly top-of-funnel activity for every deal size x overall win rate.

    ``top_per_week[i, j]`` is for ``win_rates[i]`` and ``deal_sizes[j]``.
    """

    deal_sizes: np.ndarray
    win_rates: np.ndarray
    top_per_week: np.ndarray
    current_deal_size: float
    current_win_rate: float


# --------------------------------------------------------------------------- helpers


def conversion_rate(ratio: float) -> float:
    """The conversion rate a ratio stands for: ``1 / ratio``.

    >>> conversion_rate(2)
    0.5
    """
    return 1.0 / ratio


def overall_win_rate(stages: tuple[Stage, ...]) -> float:
    """Share of top-of-funnel activity that ends in a won deal: ``1 / prod(ratios)``.

    >>> overall_win_rate(DEFAULT_STAGES)
    0.125
    """
    return 1.0 / math.prod(s.ratio for s in stages)


#: The longest time from one stage to the next, in days (the Plan page's lag input stops here too):
#: two years is already longer than any sales cycle we plan for.
MAX_LAG_DAYS = 730

#: Beyond this many top-of-funnel activities a plan is an input mistake (a $1 deal size),
#: and float arithmetic could no longer round whole activities reliably.
MAX_ACTIVITY = 1e9


def whole_counts(x: np.ndarray) -> np.ndarray:
    """Exact activity counts rounded up to whole ones, ignoring float noise.

    >>> whole_counts(np.array([2.0000000000000004, 2.1])).tolist()
    [2.0, 3.0]
    """
    # A tolerance far above float noise and far below one activity stops
    # 1.1 / 0.1 = 11.000000000000002 from asking a rep for a twelfth deal.
    return np.ceil(x - np.maximum(1e-9, 1e-12 * np.abs(x)))


def _ceil(x: float) -> int:
    return math.ceil(x - max(1e-9, 1e-12 * abs(x)))


def deals_needed(target: float, deal_size: float) -> int:
    """Whole deals it takes to reach ``target``: ``ceil(target / deal_size)``.

    >>> deals_needed(385_000, 3_850)
    100
    >>> deals_needed(100_000, 3_000)
    34
    >>> deals_needed(3_831, 3e145)  # any target at all takes a deal
    1
    """
    count = _ceil(target / deal_size)
    # The float-noise tolerance would round a target far below one deal down to none.
    return max(count, 1) if target > 0 else count


def stage_totals(deals: float, stages: tuple[Stage, ...]) -> np.ndarray:
    """Exact stage counts from the top down, won deals last.

    ``total_k = deals * ratio_k * ... * ratio_last``

    >>> stage_totals(100, DEFAULT_STAGES).tolist()
    [800.0, 400.0, 200.0, 100.0]
    """
    ratios = np.array([s.ratio for s in stages] + [1.0], dtype=float)
    # Cumulative product from the bottom: the won stage multiplies by 1.
    return deals * np.cumprod(ratios[::-1])[::-1]


def default_period(today: date, lead_days: int = 0) -> tuple[date, date]:
    """Twelve full months from the first of the month after ``today + lead_days``.

    ``lead_days`` leaves room for the funnel's lags, so a new plan's start-by
    date is not already past.

    >>> default_period(date(2026, 11, 22))
    (datetime.date(2026, 12, 1), datetime.date(2027, 11, 30))
    >>> default_period(date(2026, 11, 22), lead_days=24)
    (datetime.date(2027, 1, 1), datetime.date(2027, 12, 31))
    """
    ready = today + timedelta(days=lead_days)
    start = (ready.replace(day=1) + timedelta(days=32)).replace(day=1)
    return start, twelve_months_from(start)


def twelve_months_from(start: date) -> date:
    """The last day of the twelve months from ``start``: the day before its anniversary.

    A period starting on 29 February ends on 28 February. Twelve months that
    would run past 31 Dec 9999, where the calendar ends, raise a
    :class:`PlanInputError` asking for an end date.

    >>> twelve_months_from(date(2027, 1, 1)), twelve_months_from(date(2028, 2, 29))
    (datetime.date(2027, 12, 31), datetime.date(2029, 2, 28))
    """
    if start.year == date.max.year:
        if (start.month, start.day) == (1, 1):
            return date.max
        raise PlanInputError(
            [
                Problem(
                    "period_end",
                    f"Twelve months from {start:%d %b %Y} run past 31 Dec 9999, where the calendar ends "
                    "— give the period an end date.",
                )
            ]
        )
    # The anniversary of 29 February in a common year is 1 March: day 29 counted from 1 February.
    anniversary = date(start.year + 1, start.month, 1) + timedelta(days=start.day - 1)
    return anniversary - timedelta(days=1)


def _monday(d: date) -> date:
    return d - timedelta(days=d.weekday())


def period_weeks(start: date, end: date) -> list[date]:
    """The Monday of every week that touches the period (none if it ends before it starts).

    >>> period_weeks(date(2026, 12, 31), date(2027, 1, 11))
    [datetime.date(2026, 12, 28), datetime.date(2027, 1, 4), datetime.date(2027, 1, 11)]
    """
    if end < start:
        return []
    first = _monday(start)
    return [first + timedelta(weeks=n) for n in range((end - first).days // 7 + 1)]


def _holiday_days(holiday_weeks: Sequence[date]) -> np.ndarray:
    """Every weekday of every holiday week, for numpy's business-day functions."""
    mondays = sorted({_monday(d) for d in holiday_weeks})
    if not mondays:
        return np.array([], dtype="datetime64[D]")
    base = np.array(mondays, dtype="datetime64[D]")
    return (base[:, None] + np.arange(DAYS_PER_WORKING_WEEK)).ravel()


def _working_day_array(inputs: PlanInputs) -> np.ndarray:
    days = np.arange(
        np.datetime64(inputs.period_start, "D"),
        np.datetime64(inputs.period_end, "D") + 1,
    )
    return days[np.is_busday(days, holidays=_holiday_days(inputs.holiday_weeks))]


def working_days(start: date, end: date, holiday_weeks: Sequence[date] = ()) -> int:
    """Monday-to-Friday days from ``start`` to ``end`` (both included), less the holiday weeks.

    The one calendar every plan, milestone and pace figure is counted on.

    >>> start, end = date(2026, 12, 14), date(2027, 1, 1)
    >>> working_days(start, end), working_days(start, end, holiday_weeks=[date(2026, 12, 24)])
    (15, 10)
    """
    return _working_days(start, end, tuple(holiday_weeks))


@functools.lru_cache(maxsize=4096)
def _working_days(start: date, end: date, holiday_weeks: tuple[date, ...]) -> int:
    # Remembered: a team review asks it of thousands of plans, most with the same period.
    if end < start:
        return 0
    # The day after ``end`` in numpy's calendar, which goes on past 31 Dec 9999.
    after = np.datetime64(end, "D") + 1
    return int(np.busday_count(np.datetime64(start, "D"), after, holidays=_holiday_days(holiday_weeks)))


# --------------------------------------------------------------------------- validation


def validate(inputs: PlanInputs) -> list[Problem]:
    """Every problem with ``inputs``, in the order the page shows the fields.

    An empty list means :func:`build_plan` will accept them.

    >>> from datetime import date
    >>> bad = PlanInputs(target=0, deal_size=3_850, period_start=date(2027, 1, 1),
    ...                  period_end=date(2027, 3, 31))
    >>> [p.field for p in validate(bad)]
    ['target']
    """
    problems: list[Problem] = []

    def check_positive(field: str, value: float, label: str, fix: str) -> None:
        if not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
            problems.append(Problem(field, f"{label} must be more than 0 — {fix}."))

    check_positive("target", inputs.target, "The revenue target", "enter what you must book this period")
    check_positive("deal_size", inputs.deal_size, "The average deal size", "enter the typical value of a won deal")

    if not inputs.stages:
        problems.append(Problem("stages", "Add at least one stage above the won deals, such as Meetings."))
    names = [s.name.strip() for s in inputs.stages] + [inputs.won_stage.strip()]
    seen: set[str] = set()
    for index, name in enumerate(names):
        field = f"stages[{index}].name" if index < len(inputs.stages) else "won_stage"
        if not name:
            problems.append(Problem(field, f"Stage {index + 1} has no name — give it one, such as Meetings."))
        elif name.casefold() in seen:
            problems.append(Problem(field, f"Two stages are called “{name}” — give each stage its own name."))
        seen.add(name.casefold())
    for index, stage in enumerate(inputs.stages):
        label = stage.name.strip() or f"Stage {index + 1}"
        below = names[index + 1] or f"stage {index + 2}"
        ratio = stage.ratio
        if not isinstance(ratio, (int, float)) or not math.isfinite(ratio) or ratio < 1:
            shown = f"{ratio:g}" if isinstance(ratio, (int, float)) else str(ratio)
            problems.append(
                Problem(
                    f"stages[{index}].ratio",
                    f"{label} → {below} is {shown} : 1, but a ratio can't be below 1 : 1 "
                    "(more than 100% converting) — enter 1 or more; 2 means half of them convert.",
                )
            )
        if not isinstance(stage.lag_days, int) or not 0 <= stage.lag_days <= MAX_LAG_DAYS:
            problems.append(
                Problem(
                    f"stages[{index}].lag_days",
                    f"The lag after {label} must be 0 to {MAX_LAG_DAYS} days — "
                    "enter the typical days from it to the next stage.",
                )
            )

    if not problems:
        top = stage_totals(inputs.target / inputs.deal_size, inputs.stages)[0]
        if top > MAX_ACTIVITY:
            problems.append(
                Problem(
                    "target",
                    f"This plan needs {top:,.0f} {names[0]} — more than a billion. "
                    "Check the target, the average deal size and the ratios.",
                )
            )
    if inputs.coverage_ratio is None or not math.isfinite(inputs.coverage_ratio) or inputs.coverage_ratio < 1:
        problems.append(
            Problem("coverage_ratio", "Pipeline coverage must be at least 1× — 3× is the usual rule of thumb.")
        )

    total_lag = sum(s.lag_days for s in inputs.stages if isinstance(s.lag_days, int) and 0 < s.lag_days <= MAX_LAG_DAYS)
    if total_lag > (inputs.period_start - date.min).days:
        problems.append(
            Problem(
                "period_start",
                f"The lags ({total_lag:,} days in all) put the first prospecting before 1 Jan of year 1, "
                "where the calendar starts — shorten the lags or start the period later.",
            )
        )
    if inputs.period_end < inputs.period_start:
        problems.append(
            Problem(
                "period_end",
                f"The period ends ({inputs.period_end:%d %b %Y}) before it starts "
                f"({inputs.period_start:%d %b %Y}) — pick an end date after the start.",
            )
        )
    elif _working_day_array(inputs).size == 0:
        field = "holiday_weeks" if inputs.holiday_weeks else "period_end"
        fix = "remove a holiday week or lengthen the period" if inputs.holiday_weeks else "lengthen the period"
        problems.append(Problem(field, f"No working weeks are left in the period to sell in — {fix}."))
    return problems


def _checked(inputs: PlanInputs) -> None:
    problems = validate(inputs)
    if problems:
        raise PlanInputError(problems)


# --------------------------------------------------------------------------- the plan


def _spread(
    totals: np.ndarray, shifts: np.ndarray, work_days: np.ndarray, first_monday: np.datetime64, n_weeks: int
) -> np.ndarray:
    """Whole weekly counts for each stage: close days shifted back, binned by week.

    Cumulative rounding (ceil of the running total) keeps every row summing to
    its total and rounds activity earlier rather than later.
    """
    offsets = (work_days - first_monday).astype(np.int64)
    week_index = (offsets[None, :] - shifts[:, None]) // _WEEK
    rows = np.arange(totals.size)[:, None]
    flat = (rows * n_weeks + week_index).ravel()
    counts = np.bincount(flat, minlength=totals.size * n_weeks).reshape(totals.size, n_weeks)
    # Share of the working days done by the end of each week: whole-day counts keep
    # it exact, and it is exactly 1.0 in the last week, so each row ends on its total.
    done = np.cumsum(counts, axis=1) / work_days.size
    running = whole_counts(totals[:, None] * done)
    return np.diff(running, axis=1, prepend=0).astype(np.int64)


def _month_coverage(inputs: PlanInputs, work_days: np.ndarray) -> tuple[MonthCoverage, ...]:
    months = work_days.astype("datetime64[M]")
    first = np.datetime64(inputs.period_start, "M")
    last = np.datetime64(inputs.period_end, "M")
    all_months = np.arange(first, last + 1)
    per_month = np.bincount((months - first).astype(np.int64), minlength=all_months.size)
    share = per_month / work_days.size
    return tuple(
        MonthCoverage(
            month=month.astype("datetime64[D]").item(),
            working_days=int(days),
            month_target=float(inputs.target * s),
            pipeline_needed=float(inputs.coverage_ratio * inputs.target * s),
        )
        for month, days, s in zip(all_months, per_month, share, strict=True)
    )


def build_plan(inputs: PlanInputs) -> FunnelPlan:
    """Walk the funnel back from ``inputs.target`` to weekly activity.

    Raises :class:`PlanInputError` when :func:`validate` finds problems.

    >>> from datetime import date
    >>> plan = build_plan(PlanInputs(target=50_000, deal_size=5_000,
    ...     period_start=date(2027, 3, 1), period_end=date(2027, 3, 28),
    ...     stages=(Stage("Meetings", 4, lag_days=14),)))
    >>> plan.top_of_funnel.total, plan.top_of_funnel.per_week, plan.start_by
    (40, 10.0, datetime.date(2027, 2, 15))
    """
    _checked(inputs)
    work_days = _working_day_array(inputs)
    n_work_days = int(work_days.size)
    deals_exact = inputs.target / inputs.deal_size
    whole_deals = deals_needed(inputs.target, inputs.deal_size)

    exact = stage_totals(deals_exact, inputs.stages)
    whole = whole_counts(stage_totals(whole_deals, inputs.stages)).astype(np.int64)
    lags = [s.lag_days for s in inputs.stages] + [0]
    days_before_close = np.cumsum(lags[::-1])[::-1].astype(np.int64)

    first_work_day = work_days[0].item()
    start_by = first_work_day - timedelta(days=int(days_before_close[0]))
    first_monday = np.datetime64(_monday(start_by), "D")
    last_monday = np.datetime64(_monday(inputs.period_end), "D")
    n_weeks = int((last_monday - first_monday).astype(np.int64) // _WEEK) + 1
    week_starts = first_monday + np.arange(n_weeks) * _WEEK
    weekly = _spread(whole.astype(float), days_before_close, work_days, first_monday, n_weeks)

    week_of_day = (work_days - first_monday).astype(np.int64) // _WEEK
    week_working_days = np.bincount(week_of_day, minlength=n_weeks)
    period_start = np.datetime64(inputs.period_start, "D")
    week_in_period = (week_starts + (_WEEK - 1) >= period_start) & (week_starts <= np.datetime64(inputs.period_end))

    per_day = whole / n_work_days
    names = [s.name.strip() for s in inputs.stages] + [inputs.won_stage.strip()]
    ratios: list[float | None] = [float(s.ratio) for s in inputs.stages] + [None]
    stages = tuple(
        StagePlan(
            name=names[k],
            ratio=ratios[k],
            lag_days=int(lags[k]),
            days_before_close=int(days_before_close[k]),
            exact=float(exact[k]),
            total=int(whole[k]),
            per_week=float(per_day[k] * DAYS_PER_WORKING_WEEK),
            per_day=float(per_day[k]),
        )
        for k in range(len(names))
    )
    return FunnelPlan(
        inputs=inputs,
        deals_exact=float(deals_exact),
        deals_needed=whole_deals,
        stages=stages,
        working_days=n_work_days,
        start_by=start_by,
        week_starts=week_starts,
        week_working_days=week_working_days,
        week_in_period=week_in_period,
        weekly=weekly,
        coverage=_month_coverage(inputs, work_days),
    )


# --------------------------------------------------------------------------- levers and what-if


def _top_total(inputs: PlanInputs) -> int:
    return _ceil(stage_totals(deals_needed(inputs.target, inputs.deal_size), inputs.stages)[0])


def levers(inputs: PlanInputs) -> list[Lever]:
    """+10% on deal size, on each conversion rate, and on activity, best first.

    Each lever is measured in the working weeks the whole plan takes at
    today's weekly top-of-funnel pace::

        weeks_needed = top-of-funnel total after the change / (pace today * activity factor)
        effort_saved = 1 - weeks_needed / working weeks

    so "saves 9%" means the target is reached 9% sooner for the same weekly
    effort.  A conversion rate already at 100% cannot rise and saves nothing.

    >>> from datetime import date
    >>> inputs = PlanInputs(target=385_000, deal_size=3_850,
    ...     period_start=date(2027, 1, 4), period_end=date(2027, 12, 31))
    >>> [(lv.label, lv.top_of_funnel_total, round(lv.effort_saved, 3)) for lv in levers(inputs)][:2]
    [('Weekly activity', 800, 0.091), ('Average deal size', 728, 0.09)]
    """
    _checked(inputs)
    weeks = _working_day_array(inputs).size / DAYS_PER_WORKING_WEEK
    top_today = _top_total(inputs)
    pace = top_today / weeks
    step = 1.0 + LEVER_STEP

    def lever(kind: str, label: str, before: float, after: float, changed: PlanInputs, activity: float = 1.0) -> Lever:
        top = _top_total(changed)
        needed = top / (pace * activity)
        return Lever(kind, label, before, after, top, needed, weeks - needed, 1.0 - needed / weeks)

    found = [
        lever(
            "deal_size",
            "Average deal size",
            inputs.deal_size,
            inputs.deal_size * step,
            replace(inputs, deal_size=inputs.deal_size * step),
        ),
    ]
    names = [s.name for s in inputs.stages] + [inputs.won_stage]
    for index, stage in enumerate(inputs.stages):
        better = max(1.0, stage.ratio / step)
        stages = (*inputs.stages[:index], replace(stage, ratio=better), *inputs.stages[index + 1 :])
        found.append(
            lever("ratio", f"{stage.name} → {names[index + 1]}", stage.ratio, better, replace(inputs, stages=stages))
        )
    found.append(lever("activity", "Weekly activity", pace, pace * step, inputs, activity=step))
    # Stable sort: equal savings keep the funnel's own order.
    return sorted(found, key=lambda lv: -round(lv.effort_saved, 9))


def what_if_grid(
    inputs: PlanInputs,
    deal_sizes: np.ndarray | None = None,
    win_rates: np.ndarray | None = None,
    steps: int = 11,
) -> WhatIfGrid:
    """Weekly top-of-funnel activity over deal sizes x overall win rates.

    ``top_per_week = ceil(target / deal size) / win rate / working weeks``

    Without explicit axes the grid runs from 50% below to 50% above today's
    deal size and today's overall win rate (capped at 100%) in ``steps`` steps;
    an odd ``steps`` puts today's plan on the middle row and column.

    >>> from datetime import date
    >>> inputs = PlanInputs(target=385_000, deal_size=3_850,
    ...     period_start=date(2027, 1, 4), period_end=date(2027, 12, 31))
    >>> grid = what_if_grid(inputs, deal_sizes=np.array([3_850.0]), win_rates=np.array([0.125]))
    >>> round(float(grid.top_per_week[0, 0]), 2)
    15.38
    """
    _checked(inputs)
    weeks = _working_day_array(inputs).size / DAYS_PER_WORKING_WEEK
    rate = overall_win_rate(inputs.stages)
    factors = np.linspace(0.5, 1.5, steps)
    if steps % 2:
        factors[steps // 2] = 1.0  # exactly today's plan, not 0.9999999999999999 of it
    if deal_sizes is None:
        deal_sizes = inputs.deal_size * factors
    if win_rates is None:
        win_rates = np.unique(np.minimum(rate * factors, 1.0))
    deal_sizes = np.asarray(deal_sizes, dtype=float)
    win_rates = np.asarray(win_rates, dtype=float)
    deals = whole_counts(inputs.target / deal_sizes)
    top = deals[None, :] / win_rates[:, None] / weeks
    return WhatIfGrid(deal_sizes, win_rates, top, float(inputs.deal_size), rate)


def weekly_activity_table(plan: FunnelPlan) -> pd.DataFrame:
    """The week-by-week activity a plan asks for, one row per Monday.

    Columns: ``Week starting``, ``Working days``, one whole-number column per
    stage (top of the funnel first), and ``Note`` ("before the period" for the
    prospecting that must happen before the period starts, "holiday" for weeks
    with no working days).

    >>> from datetime import date
    >>> plan = build_plan(PlanInputs(target=385_000, deal_size=3_850,
    ...     period_start=date(2027, 1, 4), period_end=date(2027, 12, 31)))
    >>> table = weekly_activity_table(plan)
    >>> int(table["Connection requests"].sum()), len(table)
    (800, 52)
    """
    note = np.where(~plan.week_in_period, "before the period", np.where(plan.week_working_days == 0, "holiday", ""))
    columns: dict[str, object] = {
        "Week starting": plan.week_starts.astype("datetime64[s]"),
        "Working days": plan.week_working_days,
    }
    for row, stage in enumerate(plan.stages):
        columns[stage.name] = plan.weekly[row]
    columns["Note"] = note
    return pd.DataFrame(columns)
