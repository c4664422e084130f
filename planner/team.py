"""The manager's weekly review: who is behind, whose pipeline is thin, what moved since last week.

One row per rep::

    attainment            = booked / target
    coverage of what's left = open pipeline closing in the period / (target - booked)
    run-rate projection   = booked extended over the period's working days (as on Track)
    weighted projection   = booked + pipeline / required coverage
                            (a plan's coverage ratio is 1 / its win rate, so this is booked + pipeline x win rate)

and a status whose rule is :data:`STATUS_RULE`. Pipeline changes between two
snapshots are classified deal by deal, and the change in the pipeline total is
split by cause so that ``start + sum(causes) == end`` exactly (the waterfall).

A team's plans may be in several currencies. Figures are only ever added in one:
:func:`in_one_currency` converts each plan (its target, milestones, actuals and its
owner's pipeline) with the rates sales ops entered (:mod:`planner.currency`), and a
plan whose currency has no rate is left out and named, never added as it stands.
:func:`team_rollup` is everything the page draws, computed once per change of data.

>>> from datetime import date
>>> rep_status(booked=50_000, milestone=48_000, coverage=3.2, required_coverage=3.0,
...            weighted_projection=120_000, target=100_000)
'on track'
>>> rep_status(booked=40_000, milestone=48_000, coverage=1.0, required_coverage=3.0,
...            weighted_projection=60_000, target=100_000)
'off track'
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from planner.currency import Rates, rate_between
from planner.funnel import PlanInputs, deals_needed, stage_totals, whole_counts, working_days
from planner.imports import guess_outcome, guess_stage_order
from planner.milestones import Milestone, plan_pace
from planner.units import plural

__all__ = [
    "CHANGE_CATEGORIES",
    "OFF_TRACK_GAP",
    "STATUSES",
    "STATUS_RULE",
    "TEAM_LINE",
    "TEAM_NAME",
    "CurrencyView",
    "RepReview",
    "ReviewInput",
    "SnapshotDiff",
    "TeamReview",
    "TeamRollup",
    "activity_check",
    "changes_table",
    "convert_pipeline",
    "default_currency",
    "in_one_currency",
    "overdue_deals",
    "rep_status",
    "review_table",
    "slipped_deals",
    "snapshot_diff",
    "team_burnup",
    "team_review",
    "team_rollup",
    "waterfall_note",
]

#: Worst first: the order the review lists reps in.
STATUSES = ("off track", "at risk", "on track")
#: Behind the milestone to date by more than this share is "behind" for the off-track rule.
OFF_TRACK_GAP = 0.10
STATUS_RULE = (
    "**On track**: at or ahead of what the milestones call for to date (pro rata between them, as on Track), and "
    "the open pipeline closing in the period covers what is left at least by the plan's coverage ratio. "
    "**Off track**: more than 10% behind what the milestones call for to date, and the pipeline-weighted "
    "projection falls short of the target. **At risk**: everything else."
)
#: Every way a deal can change between two snapshots, in the order the waterfall shows them.
CHANGE_CATEGORIES = (
    "new",
    "advanced",
    "moved back",
    "slipped",
    "slipped out of period",
    "pulled in",
    "amount up",
    "amount down",
    "won",
    "lost",
    "dropped out",
)
_WATERFALL = ("new", "pulled in", "amount up", "amount down", "slipped out of period", "won", "lost", "dropped out")
#: The key of the team's own line in :func:`team_burnup` (plan ids, the reps' keys, start at 1).
TEAM_LINE = 0
#: What the team's own row and line are called: not "Team", which a rep may well be called.
TEAM_NAME = "Whole team"


def rep_status(
    booked: float,
    milestone: float,
    coverage: float,
    required_coverage: float,
    weighted_projection: float,
    target: float,
) -> str:
    """on track / at risk / off track, by :data:`STATUS_RULE`.

    >>> rep_status(44_000, 48_000, 5.0, 3.0, 130_000, 100_000)  # behind, but the pipeline carries it
    'at risk'
    >>> rep_status(43_199, 48_000, 0.5, 3.0, 99_999, 100_000)  # 10.0...% behind and projected short
    'off track'
    """
    if booked >= milestone and coverage >= required_coverage:
        return "on track"
    behind = (milestone - booked) / milestone if milestone > 0 else 0.0
    if behind > OFF_TRACK_GAP and weighted_projection < target:
        return "off track"
    return "at risk"


@dataclass(frozen=True, slots=True)
class ReviewInput:
    """One rep's plan as the review needs it."""

    rep: str
    plan_id: int
    plan_name: str
    inputs: PlanInputs
    milestones: Sequence[Milestone]
    weekly_revenue: Mapping[date, float]
    #: stage name → count, per week start (the store hands over only the latest week up to the review's day:
    #: the only one :func:`activity_check` can show)
    weekly_counts: Mapping[date, Mapping[str, int]] = field(default_factory=dict)
    #: revenue by day, for weeks recorded day by day
    daily_revenue: Mapping[date, float] = field(default_factory=dict)
    #: the plan's currency: its target, milestones and actuals are in it, and so is its owner's pipeline
    currency: str = "USD"


@dataclass(frozen=True, slots=True)
class RepReview:
    rep: str
    plan_id: int
    plan_name: str
    target: float
    booked: float
    milestone: float
    attainment: float
    gap: float
    pipeline: float
    remaining: float
    coverage: float
    required_coverage: float
    run_rate_projection: float
    weighted_projection: float
    status: str


@dataclass(frozen=True, slots=True)
class TeamReview:
    rows: tuple[RepReview, ...]
    totals: RepReview
    as_of: date


def _pipeline_by_rep(pipeline: pd.DataFrame | None, reps: Sequence[ReviewInput]) -> dict[str, float]:
    """Open pipeline per rep that closes by the end of that rep's period (overdue close dates included)."""
    if pipeline is None or pipeline.empty:
        return {}
    ends = {r.rep: pd.Timestamp(r.inputs.period_end) for r in reps}
    frame = pipeline[(pipeline["outcome"] == "open") & pipeline["owner"].isin(ends.keys())]
    closes = pd.to_datetime(frame["close_date"])
    period_end = pd.to_datetime(frame["owner"].map(ends))
    in_period = closes.isna() | (closes <= period_end)
    return frame[in_period].groupby("owner")["amount"].sum().to_dict()


def _review_row(rep: ReviewInput, as_of: date, pipeline: float) -> RepReview:
    # Ahead or behind by the one definition Track, the chart and the command line use (AHEAD_BEHIND_RULE).
    progress = plan_pace(rep.inputs, rep.milestones, rep.weekly_revenue, as_of, rep.daily_revenue)
    milestone = progress.due_to_date
    required = rep.inputs.coverage_ratio
    coverage = pipeline / progress.remaining if progress.remaining > 0 else math.inf
    weighted = progress.booked + pipeline / required if required > 0 else progress.booked
    return RepReview(
        rep=rep.rep,
        plan_id=rep.plan_id,
        plan_name=rep.plan_name,
        target=progress.target,
        booked=progress.booked,
        milestone=milestone,
        attainment=progress.attainment,
        gap=progress.gap_to_milestone,
        pipeline=pipeline,
        remaining=progress.remaining,
        coverage=coverage,
        required_coverage=required,
        run_rate_projection=progress.run_rate_projection,
        weighted_projection=weighted,
        status=rep_status(progress.booked, milestone, coverage, required, weighted, progress.target),
    )


def team_review(reps: Sequence[ReviewInput], as_of: date, pipeline: pd.DataFrame | None = None) -> TeamReview:
    """Every rep's row, worst first (status, then how far behind the milestone), and the team's totals.

    ``pipeline`` is the latest snapshot (``owner``, ``amount``, ``close_date``, ``outcome``).
    The team's required coverage is the target-weighted mean of its reps'.
    """
    by_rep = _pipeline_by_rep(pipeline, reps)
    rows = [_review_row(r, as_of, float(by_rep.get(r.rep, 0.0))) for r in reps]
    rank = {s: i for i, s in enumerate(STATUSES)}
    rows.sort(key=lambda r: (rank[r.status], r.gap / r.target if r.target else 0.0, r.rep))
    target = sum(r.target for r in rows)
    booked = sum(r.booked for r in rows)
    milestone = sum(r.milestone for r in rows)
    pipeline_total = sum(r.pipeline for r in rows)
    remaining = sum(r.remaining for r in rows)
    required = sum(r.required_coverage * r.target for r in rows) / target if target else 0.0
    weighted = sum(r.weighted_projection for r in rows)
    coverage = pipeline_total / remaining if remaining > 0 else math.inf
    totals = RepReview(
        rep=TEAM_NAME,
        plan_id=0,
        plan_name="",
        target=target,
        booked=booked,
        milestone=milestone,
        attainment=booked / target if target else 0.0,
        gap=booked - milestone,
        pipeline=pipeline_total,
        remaining=remaining,
        coverage=coverage,
        required_coverage=required,
        run_rate_projection=sum(r.run_rate_projection for r in rows),
        weighted_projection=weighted,
        status=rep_status(booked, milestone, coverage, required, weighted, target) if rows else "on track",
    )
    return TeamReview(tuple(rows), totals, as_of)


def review_table(review: TeamReview, currency: str = "") -> pd.DataFrame:
    """The review as the exports show it: team totals first, then reps worst first (the page shows fewer columns).

    ``currency``, when given, is every amount's currency, in a column of its own.
    """
    rows = (review.totals, *review.rows)

    def whole(field_name: str) -> np.ndarray:
        return np.round([getattr(r, field_name) for r in rows]).astype(np.int64)

    table = pd.DataFrame(
        {
            "Rep": [r.rep for r in rows],
            "Plan": [r.plan_name for r in rows],
            "Status": [r.status for r in rows],
            "Target": whole("target"),
            "Booked": whole("booked"),
            "Milestone to date": whole("milestone"),
            "Attainment %": np.round([r.attainment * 100 for r in rows], 1),
            "Ahead (+) / behind (-)": whole("gap"),
            "Pipeline in period": whole("pipeline"),
            "Coverage of what is left": [None if math.isinf(r.coverage) else round(r.coverage, 2) for r in rows],
            "Required coverage": np.round([r.required_coverage for r in rows], 2),
            "Run-rate projection": whole("run_rate_projection"),
            "Pipeline-weighted projection": whole("weighted_projection"),
        }
    )
    if currency:
        table["Currency"] = currency
    return table


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _needed_per_week(inputs: PlanInputs) -> list[tuple[str, float]]:
    """Each stage above the won deals with the activity a week the plan asks for (as :func:`build_plan` has it)::

    per week = whole stage total / working days x 5

    without the time phasing, which the check does not need and which costs most of a plan.
    """
    whole = whole_counts(stage_totals(deals_needed(inputs.target, inputs.deal_size), inputs.stages))
    days = working_days(inputs.period_start, inputs.period_end, inputs.holiday_weeks)
    return [(stage.name.strip(), float(whole[k]) / days * 5 if days else 0.0) for k, stage in enumerate(inputs.stages)]


def activity_check(reps: Sequence[ReviewInput], as_of: date) -> tuple[date | None, pd.DataFrame]:
    """This week's stage counts against what each rep's plan needs a week.

    "This week" is the week of ``as_of`` if anyone has recorded it, else the latest week anyone has
    recorded up to then. Returns that week's Monday and one row per rep and stage.
    """
    recorded = {w for r in reps for w in r.weekly_counts if w <= as_of}
    week = _monday(as_of) if _monday(as_of) in recorded else (max(recorded) if recorded else None)
    needs: dict[PlanInputs, list[tuple[str, float]]] = {}  # plans alike are worked out once
    names, stages, done, need = [], [], [], []
    for r in reps:
        counts = r.weekly_counts.get(week, {}) if week else {}
        if r.inputs not in needs:
            needs[r.inputs] = _needed_per_week(r.inputs)
        for stage, per_week in needs[r.inputs]:
            names.append(r.rep)
            stages.append(stage)
            done.append(int(counts.get(stage, 0)))
            need.append(per_week)
    done_a, need_a = np.array(done, dtype=np.int64), np.array(need, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(need_a > 0, np.round(100 * done_a / need_a), np.nan)
    table = pd.DataFrame(
        {
            "Rep": pd.Series(names, dtype="str"),
            "Stage": pd.Series(stages, dtype="str"),
            "Done this week": done_a,
            "Needed a week": np.round(need_a, 1),
            "% of need": share,
        }
    )
    return week, table


def team_burnup(reps: Sequence[ReviewInput], as_of: date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Cumulative booked per rep and for the team by week, and the team's summed milestone steps.

    Returns (booked: columns week, line, booked — ``line`` is the rep's plan id, the team's is
    :data:`TEAM_LINE`; milestones: due, cumulative). Lines are keyed by id, never by a name a rep
    could share with another, or with the team. The team's booked by a week is everything booked
    by then, and its milestone on a date the sum of every rep's latest step by then: both running
    sums of what each week, or each step, adds::

        team booked(w) = sum of revenue in weeks <= w        team milestone(d) = sum of step increases due <= d
    """
    lines, weeks, revenue = [], [], []
    for r in reps:
        for week, amount in r.weekly_revenue.items():
            if week <= as_of:
                lines.append(r.plan_id)
                weeks.append(week)
                revenue.append(float(amount))
    booked = pd.DataFrame({"week": weeks, "line": np.array(lines, dtype=np.int64), "booked": revenue})
    if not booked.empty:
        team = booked.groupby("week", sort=True)["booked"].sum().cumsum()
        booked = booked.sort_values(["line", "week"], ignore_index=True)
        booked["booked"] = booked.groupby("line")["booked"].cumsum()
        team_rows = pd.DataFrame({"week": team.index, "line": TEAM_LINE, "booked": team.to_numpy()})
        booked = pd.concat([team_rows, booked], ignore_index=True)
    dues, rises = [], []
    for r in reps:
        before = 0.0
        for m in r.milestones:
            dues.append(m.due)
            rises.append(float(m.cumulative) - before)
            before = float(m.cumulative)
    if not dues:
        return booked, pd.DataFrame({"due": [], "cumulative": []})
    summed = pd.Series(rises).groupby(pd.Series(dues), sort=True).sum().cumsum()
    return booked, pd.DataFrame({"due": list(summed.index), "cumulative": summed.to_numpy()})


# --------------------------------------------------------------------------- one currency


@dataclass(frozen=True, slots=True)
class CurrencyView:
    """A team's plans in one currency: those that could be converted, and what could not, named."""

    currency: str
    #: every currency the team's plans are in, the chosen one first
    currencies: tuple[str, ...]
    reps: tuple[ReviewInput, ...]
    #: reps whose plan is in a currency with no rate into this one: left out, never added as they stand
    left_out: tuple[str, ...]
    #: those currencies
    missing: tuple[str, ...]
    #: each rep's rate into this currency (None: left out), for the pipeline their deals are in
    owner_rates: Mapping[str, float | None]


def default_currency(reps: Sequence[ReviewInput]) -> str:
    """The currency most of the team's plans are in (alphabetically first on a tie; USD with no plans)."""
    counts = Counter(r.currency for r in reps)
    return min(counts, key=lambda c: (-counts[c], c)) if counts else "USD"


def _converted(rep: ReviewInput, factor: float, currency: str) -> ReviewInput:
    if factor == 1.0:
        return replace(rep, currency=currency)
    return replace(
        rep,
        inputs=replace(rep.inputs, target=rep.inputs.target * factor, deal_size=rep.inputs.deal_size * factor),
        milestones=tuple(Milestone(m.due, m.cumulative * factor) for m in rep.milestones),
        weekly_revenue={week: amount * factor for week, amount in rep.weekly_revenue.items()},
        daily_revenue={day: amount * factor for day, amount in rep.daily_revenue.items()},
        currency=currency,
    )


def in_one_currency(reps: Sequence[ReviewInput], currency: str | None, rates: Rates) -> CurrencyView:
    """Every plan of ``reps`` converted into ``currency`` (:func:`default_currency` when None) with ``rates``.

    A plan whose currency has no rate into it is left out and named, with its currency.

    >>> from planner.funnel import PlanInputs
    >>> inputs = PlanInputs(100_000, 5_000, date(2027, 1, 4), date(2027, 3, 28))
    >>> reps = [ReviewInput("Ana", 1, "Q1", inputs, (), {}, currency="EUR"),
    ...         ReviewInput("Ben", 2, "Q1", inputs, (), {}, currency="USD"),
    ...         ReviewInput("Cy", 3, "Q1", inputs, (), {}, currency="GBP")]
    >>> view = in_one_currency(reps, "USD", {("EUR", "USD"): 1.1})
    >>> [(r.rep, round(r.inputs.target)) for r in view.reps], view.left_out, view.missing
    ([('Ana', 110000), ('Ben', 100000)], ('Cy',), ('GBP',))
    """
    chosen = currency or default_currency(reps)
    kept, left_out, missing, owner_rates = [], [], set(), {}
    for rep in reps:
        factor = rate_between(rates, rep.currency, chosen)
        owner_rates[rep.rep] = factor
        if factor is None:
            left_out.append(rep.rep)
            missing.add(rep.currency)
        else:
            kept.append(_converted(rep, factor, chosen))
    others = sorted({r.currency for r in reps} - {chosen})
    return CurrencyView(chosen, (chosen, *others), tuple(kept), tuple(left_out), tuple(sorted(missing)), owner_rates)


def convert_pipeline(deals: pd.DataFrame, owner_rates: Mapping[str, float | None]) -> pd.DataFrame:
    """A snapshot's deals in the view's currency: each at its owner's plan's rate; a left-out owner's deals dropped.

    A deal whose owner has no plan in the view is taken to be in the view's currency already.
    """
    if deals.empty or not owner_rates:
        return deals
    factor = deals["owner"].map(lambda owner: owner_rates.get(owner, 1.0)).astype(float)  # None becomes NaN
    kept = factor.notna()
    out = deals[kept].copy()
    out["amount"] = out["amount"].astype(float) * factor[kept]
    return out


# --------------------------------------------------------------------------- what the page draws


@dataclass(frozen=True, slots=True)
class TeamRollup:
    """Everything Team review draws for one team, date and currency, computed once per change of data."""

    view: CurrencyView
    review: TeamReview
    #: :func:`team_burnup`'s two frames
    booked: pd.DataFrame
    milestones: pd.DataFrame
    #: the earliest start and the latest end of the reps' periods (``as_of`` twice with no plans)
    period: tuple[date, date]
    activity_week: date | None
    activity: pd.DataFrame
    #: open deals of the pipeline whose close date has passed (:func:`overdue_deals`), in the view's currency
    overdue: pd.DataFrame
    #: :func:`review_table` of the whole review, as the downloads have it
    table: pd.DataFrame


def team_rollup(
    reps: Sequence[ReviewInput],
    as_of: date,
    pipeline: pd.DataFrame | None,
    currency: str | None,
    rates: Rates,
) -> TeamRollup:
    """The review, burn-up, activity check and overdue deals of ``reps`` in ``currency``, with ``rates``."""
    view = in_one_currency(reps, currency, rates)
    deals = convert_pipeline(pipeline, view.owner_rates) if pipeline is not None else None
    review = team_review(view.reps, as_of, deals)
    booked, milestones = team_burnup(view.reps, as_of)
    week, activity = activity_check(view.reps, as_of)
    if view.reps:
        period = (min(r.inputs.period_start for r in view.reps), max(r.inputs.period_end for r in view.reps))
    else:
        period = (as_of, as_of)
    overdue = overdue_deals(deals, as_of)
    table = review_table(review, view.currency)
    return TeamRollup(view, review, booked, milestones, period, week, activity, overdue, table)


def overdue_deals(pipeline: pd.DataFrame | None, as_of: date) -> pd.DataFrame:
    """Open deals whose close date is before ``as_of``: a forecast nobody has updated. Largest first.

    They still count in the pipeline closing in the period (they have not closed yet), so they are listed
    for the manager to have re-dated.
    """
    columns = ["Deal", "Owner", "Account", "Stage", "Amount", "Close date", "Days past"]
    if pipeline is None or pipeline.empty:
        return pd.DataFrame({c: [] for c in columns})
    closes = pd.to_datetime(pipeline["close_date"])
    day = pd.Timestamp(as_of)
    late = pipeline[(pipeline["outcome"] == "open") & (closes < day)]
    table = pd.DataFrame(
        {
            "Deal": late["deal_id"],
            "Owner": late["owner"],
            "Account": late["account"],
            "Stage": late["stage"],
            "Amount": late["amount"].astype(float),
            "Close date": closes[late.index].dt.date,
            "Days past": (day - closes[late.index]).dt.days.astype("int64"),
        }
    )
    return table.sort_values(["Amount", "Days past"], ascending=[False, False], ignore_index=True)


# --------------------------------------------------------------------------- snapshot diff


@dataclass(frozen=True, slots=True)
class SnapshotDiff:
    """Deal-by-deal changes between two snapshots and the waterfall of the pipeline total between them.

    ``changes`` has one row per deal that changed: deal_id, owner, account, stage and amount and close
    date before and after, ``categories`` (every change, comma separated) and ``cause`` (the one
    the waterfall counts it under, or "" when its value in the total did not move).
    """

    changes: pd.DataFrame
    waterfall: tuple[tuple[str, float], ...]
    start_total: float
    end_total: float
    #: deals flagged with each of :data:`CHANGE_CATEGORIES` (a deal can have several)
    counts: dict[str, int]
    #: deals each waterfall bar counts (each deal under one cause at most): what the chart's caption says
    cause_counts: dict[str, int] = field(default_factory=dict)


def _stage_rank(stages: Sequence[str]) -> dict[str, int]:
    names = [s for s in dict.fromkeys(stages) if isinstance(s, str) and s]
    order = guess_stage_order([s for s in names if guess_outcome(s) != "lost"])
    return {s: i for i, s in enumerate(order)}


#: Each snapshot's deals at their owner's rate (a NULL factor leaves the owner's deals out), and whether each counts
#: in the pipeline total: open and closing by $end (NULL: every open deal). ``older`` and ``newer`` are the
#: snapshots, ``rates`` (owner, factor) the owners' conversion factors, ``ranks`` (stage, rank) the funnel order.
_SIDE = """
    SELECT deal_id, owner, account, stage, outcome, amount, close, open,
        open AND ($end IS NULL OR close IS NULL OR close <= $end) AS counted
    FROM (
        SELECT s.deal_id, s.owner, s.account, s.stage, s.outcome,
            CAST(s.amount AS DOUBLE) * coalesce(r.factor, 1.0) AS amount, CAST(s.close_date AS TIMESTAMP) AS close,
            coalesce(s.outcome = 'open', false) AS open
        FROM {snapshot} s LEFT JOIN rates r ON r.owner = s.owner WHERE r.owner IS NULL OR r.factor IS NOT NULL
    )
"""
_SIDES = f"WITH a AS ({_SIDE.format(snapshot='older')}), b AS ({_SIDE.format(snapshot='newer')})"
#: The pipeline total at each end.
_TOTALS_SQL = (
    _SIDES + "SELECT (SELECT coalesce(sum(amount) FILTER (WHERE counted), 0) FROM a),"
    " (SELECT coalesce(sum(amount) FILTER (WHERE counted), 0) FROM b)"
)
#: Every deal classified in one full outer join of the two snapshots. Each flag is ``coalesce(…, false)``: a deal
#: missing from one side, or a blank close date or stage, compares as unknown and is no change of that kind.
_CLASSIFIED = (
    _SIDES
    + """,
pair AS (
    SELECT coalesce(a.deal_id, b.deal_id) AS deal_id,
        coalesce(b.owner, a.owner) AS owner, coalesce(b.account, a.account) AS account,
        a.stage AS stage_before, b.stage AS stage_after,
        a.amount AS amount_before, b.amount AS amount_after,
        a.close AS close_before, b.close AS close_after,
        coalesce(a.amount, 0) AS amount_a, coalesce(b.amount, 0) AS amount_b,
        coalesce(a.open, false) AS open_a, coalesce(b.open, false) AS open_b,
        coalesce(a.counted, false) AS counted_a, coalesce(b.counted, false) AS counted_b,
        b.outcome IS NOT NULL AS in_b, b.outcome AS outcome_b,
        ra.rank AS rank_a, rb.rank AS rank_b
    FROM a FULL OUTER JOIN b ON a.deal_id = b.deal_id
    LEFT JOIN ranks ra ON ra.stage = a.stage
    LEFT JOIN ranks rb ON rb.stage = b.stage
),
flagged AS (
    SELECT *,
        in_b AND NOT open_a AND open_b AS "new",
        coalesce(open_a AND open_b AND rank_b > rank_a, false) AS "advanced",
        coalesce(open_a AND open_b AND rank_b < rank_a, false) AS "moved back",
        coalesce(open_a AND open_b AND close_after > close_before, false) AS "slipped",
        counted_a AND open_b AND NOT counted_b AS "slipped out of period",
        coalesce(open_a AND open_b AND close_after < close_before, false) AS "pulled in",
        open_a AND open_b AND amount_b > amount_a AS "amount up",
        open_a AND open_b AND amount_b < amount_a AS "amount down",
        coalesce(open_a AND outcome_b = 'won', false) AS "won",
        coalesce(open_a AND outcome_b = 'lost', false) AS "lost",
        open_a AND NOT in_b AS "dropped out"
    FROM pair
)
"""
)


def _quoted(name: str) -> str:
    return '"' + name + '"'  # only ever CHANGE_CATEGORIES' own names: nothing a user typed reaches the SQL


_FLAGS = ", ".join(_quoted(c) for c in CHANGE_CATEGORIES)
#: The deals that changed or moved the total, each with its flags, its changes in words, and the one cause its
#: move in the total is booked under (leaving for a reason with no flag of its own is dropping out).
_CHANGES_SQL = (
    _CLASSIFIED + "SELECT deal_id, owner, account, stage_before, stage_after, amount_before, amount_after,"
    " CAST(close_before AS DATE) AS close_before, CAST(close_after AS DATE) AS close_after, concat_ws(', ', "
    + ", ".join(f"CASE WHEN {_quoted(c)} THEN '{c}' END" for c in CHANGE_CATEGORIES)
    + """) AS categories,
    CASE
        WHEN counted_a AND NOT counted_b THEN
            CASE WHEN "won" THEN 'won' WHEN "lost" THEN 'lost' WHEN "dropped out" THEN 'dropped out'
                 WHEN "slipped out of period" THEN 'slipped out of period' ELSE 'dropped out' END
        WHEN counted_b AND NOT counted_a THEN CASE WHEN open_a THEN 'pulled in' ELSE 'new' END
        WHEN counted_a AND amount_b > amount_a THEN 'amount up'
        WHEN counted_a AND amount_b < amount_a THEN 'amount down'
        ELSE ''
    END AS cause,
    CASE
        WHEN counted_a AND NOT counted_b THEN -amount_a
        WHEN counted_b AND NOT counted_a THEN amount_b
        WHEN counted_a THEN amount_b - amount_a
        ELSE 0.0
    END AS change, """
    + _FLAGS
    + " FROM flagged WHERE counted_a <> counted_b OR (counted_a AND amount_a <> amount_b) OR "
    + " OR ".join(_quoted(c) for c in CHANGE_CATEGORIES)
    + " ORDER BY deal_id"
)
_SNAPSHOT_COLUMNS = ["deal_id", "owner", "account", "stage", "outcome", "amount", "close_date"]
#: One in-memory database for every diff; each call works on its own cursor (its own names, safe across threads).
#: One thread a query: the server runs one diff per session, and the machine has few cores to share.
_ENGINE = duckdb.connect(":memory:", config={"threads": 1})


def _one_row_per_deal(snapshot: pd.DataFrame | pa.Table, owner_rates: Mapping[str, float | None]) -> pa.Table:
    """A snapshot as an Arrow table of its deals, each once: the first of its rows whose owner is not left out."""
    table = snapshot if isinstance(snapshot, pa.Table) else pa.Table.from_pandas(snapshot, preserve_index=False)
    table = table.select(_SNAPSHOT_COLUMNS)
    if pc.count_distinct(table["deal_id"], mode="all").as_py() == table.num_rows:
        return table
    frame = table.to_pandas()
    left_out = [owner for owner, factor in owner_rates.items() if factor is None]
    frame = frame[~frame["owner"].isin(left_out)].drop_duplicates("deal_id")
    return pa.Table.from_pandas(frame, preserve_index=False)


def snapshot_diff(
    older: pd.DataFrame | pa.Table,
    newer: pd.DataFrame | pa.Table,
    period_end: date | None = None,
    stage_order: Sequence[str] | None = None,
    owner_rates: Mapping[str, float | None] | None = None,
) -> SnapshotDiff:
    """Classify every deal's change from ``older`` to ``newer``, in one DuckDB join of the two snapshots.

    Snapshots (pandas or Arrow) have deal_id, owner, account, stage, outcome (open / won / lost), amount,
    close_date. ``owner_rates`` converts each deal's amount at its owner's rate as :func:`convert_pipeline`
    does, in the join. The pipeline total is the open amount closing by ``period_end`` (all open deals
    when None)::

        end = start + new + pulled in + amount up + amount down
                    - slipped out of period - won - lost - dropped out

    >>> import pandas as pd
    >>> a = pd.DataFrame({"deal_id": ["1", "2"], "owner": "Ana", "account": "", "stage": ["Demo", "Demo"],
    ...                   "outcome": "open", "amount": [100.0, 50.0], "close_date": pd.to_datetime(["2026-12-01"] * 2)})
    >>> b = pd.DataFrame({"deal_id": ["1", "3"], "owner": "Ana", "account": "", "stage": ["Proposal", "Demo"],
    ...                   "outcome": "open", "amount": [120.0, 10.0],
    ...                   "close_date": pd.to_datetime(["2027-01-15", "2026-12-05"])})
    >>> d = snapshot_diff(a, b, stage_order=["Demo", "Proposal", "Won"])
    >>> d.start_total, d.end_total, [(k, v) for k, v in d.waterfall if v]
    (150.0, 130.0, [('new', 10.0), ('amount up', 20.0), ('dropped out', -50.0)])
    >>> d.changes.set_index("deal_id").loc["1", "categories"]
    'advanced, slipped, amount up'
    """
    rates = dict(owner_rates or {})
    older_deals, newer_deals = _one_row_per_deal(older, rates), _one_row_per_deal(newer, rates)
    if stage_order is None:  # the stages in the order the snapshots first name them
        stage_order = pa.chunked_array(older_deals["stage"].chunks + newer_deals["stage"].chunks).unique().to_pylist()
    rank = _stage_rank(list(stage_order))
    params = {"end": pd.Timestamp(period_end).to_pydatetime() if period_end is not None else None}
    cur = _ENGINE.cursor()
    try:
        cur.register("older", older_deals)
        cur.register("newer", newer_deals)
        cur.register(
            "rates", pa.table({"owner": pa.array(rates, pa.string()), "factor": pa.array(rates.values(), pa.float64())})
        )
        cur.register(
            "ranks", pa.table({"stage": pa.array(rank, pa.string()), "rank": pa.array(rank.values(), pa.int64())})
        )
        totals = cur.execute(_TOTALS_SQL, params).fetchone()
        moved = cur.execute(_CHANGES_SQL, params).df()
    finally:
        cur.close()
    assert totals is not None  # an aggregate without GROUP BY has its one row
    flags = moved[list(CHANGE_CATEGORIES)].astype(bool)
    counts = {name: int(n) for name, n in flags.sum().items()}
    by_cause = moved.groupby("cause")["change"].agg(["size", "sum"])
    cause_counts = {name: int(by_cause["size"].get(name, 0)) for name in _WATERFALL}
    waterfall = tuple((name, float(by_cause["sum"].get(name, 0.0))) for name in _WATERFALL)
    changes = moved[flags.any(axis=1).to_numpy()].drop(columns=list(CHANGE_CATEGORIES)).reset_index(drop=True)
    for side in ("close_before", "close_after"):
        changes[side] = pd.to_datetime(changes[side]).dt.date
    # A side with no deals at all comes back as untyped NULLs: text is text, blank as pandas writes it.
    text = ["deal_id", "owner", "account", "stage_before", "stage_after"]
    changes = changes.astype(dict.fromkeys(text, "str") | {"amount_before": "float64", "amount_after": "float64"})
    start_total, end_total = float(totals[0]), float(totals[1])
    return SnapshotDiff(changes, waterfall, start_total, end_total, counts, cause_counts)


def waterfall_note(diff: SnapshotDiff) -> str:
    """The waterfall's caption: the deals behind each bar, then the changes that moved nothing in the total.

    Every count in its first part is a bar with that many deals in it, so a bar at 0 is never said to
    hold a deal; a deal that slipped but still closes in the period, or was won though it closed after
    the period, is told apart in the second.

    >>> import pandas as pd
    >>> a = pd.DataFrame({"deal_id": ["1", "2"], "owner": "Ana", "account": "", "stage": "Demo", "outcome": "open",
    ...                   "amount": [100.0, 50.0], "close_date": pd.to_datetime(["2026-12-01", "2027-03-01"])})
    >>> b = a.assign(outcome=["open", "won"], close_date=pd.to_datetime(["2026-12-08", "2027-03-01"]))
    >>> waterfall_note(snapshot_diff(a, b, date(2026, 12, 31), ["Demo", "Won"]))
    'No deal moved the total. Changed without moving the total: slipped within the period: 1 deal · won: 1 deal.'
    """
    counted = [f"{name}: {plural(n, 'deal')}" for name, n in diff.cause_counts.items() if n]
    others = []
    for name in CHANGE_CATEGORIES:
        n = diff.counts[name] - diff.cause_counts.get(name, 0)
        if name == "slipped":  # slipping out of the period is slipping too, and has its bar
            n -= diff.cause_counts.get("slipped out of period", 0)
        if n > 0:
            others.append(f"{'slipped within the period' if name == 'slipped' else name}: {plural(n, 'deal')}")
    first = f"In the chart: {' · '.join(counted)}." if counted else "No deal moved the total."
    return first + (f" Changed without moving the total: {' · '.join(others)}." if others else "")


def changes_table(diff: SnapshotDiff) -> pd.DataFrame:
    """Every changed deal as the page lists it: the words a manager reads, not the columns' names."""
    c = diff.changes
    none = "—"  # a deal new this week had no stage before; one that dropped out has none now
    return pd.DataFrame(
        {
            "Deal": c["deal_id"],
            "Owner": c["owner"].fillna(none),
            "Account": c["account"].fillna(none),
            "Stage before": c["stage_before"].fillna(none),
            "Stage now": c["stage_after"].fillna(none),
            "Amount before": c["amount_before"],
            "Amount now": c["amount_after"],
            "Close date before": c["close_before"],
            "Close date now": c["close_after"],
            "What changed": c["categories"],
            "Counted in the chart as": c["cause"],
            "Change to the total": c["change"],
        }
    )


def slipped_deals(diff: SnapshotDiff, slip_counts: Mapping[str, int]) -> pd.DataFrame:
    """The deals whose close date moved later, most often slipped first, as the review lists them.

    ``slip_counts`` is how many times each deal has slipped up to the newer snapshot (this time
    included), so "times slipped before" is one less.
    """
    slipped = diff.changes[diff.changes["categories"].str.contains("slipped")]
    before = [max(slip_counts.get(d, 1) - 1, 0) for d in slipped["deal_id"]]
    table = pd.DataFrame(
        {
            "Deal": slipped["deal_id"],
            "Owner": slipped["owner"],
            "Account": slipped["account"],
            "Stage": slipped["stage_after"],
            "Amount": slipped["amount_after"],
            "Close date was": slipped["close_before"],
            "Close date now": slipped["close_after"],
            "Out of the period": slipped["categories"].str.contains("out of period"),
            "Times slipped before": pd.Series(before, index=slipped.index, dtype="int64"),
        }
    )
    return table.sort_values(["Times slipped before", "Amount"], ascending=[False, False], ignore_index=True)
