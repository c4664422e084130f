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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd

from planner.funnel import PlanInputs, build_plan
from planner.imports import guess_outcome, guess_stage_order
from planner.milestones import Milestone, plan_pace

__all__ = [
    "CHANGE_CATEGORIES",
    "OFF_TRACK_GAP",
    "STATUSES",
    "STATUS_RULE",
    "RepReview",
    "ReviewInput",
    "SnapshotDiff",
    "TeamReview",
    "activity_check",
    "rep_status",
    "review_table",
    "slipped_deals",
    "snapshot_diff",
    "team_burnup",
    "team_review",
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
    #: stage name → count, per week start
    weekly_counts: Mapping[date, Mapping[str, int]] = field(default_factory=dict)
    #: revenue by day, for weeks recorded day by day
    daily_revenue: Mapping[date, float] = field(default_factory=dict)


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
    ends = pd.DataFrame({"owner": [r.rep for r in reps], "period_end": [r.inputs.period_end for r in reps]})
    ends["period_end"] = pd.to_datetime(ends["period_end"])
    frame = pipeline[pipeline["outcome"] == "open"][["owner", "amount", "close_date"]].merge(ends, on="owner")
    closes = pd.to_datetime(frame["close_date"])
    in_period = closes.isna() | (closes <= frame["period_end"])
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
        rep="Team",
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


def review_table(review: TeamReview) -> pd.DataFrame:
    """The review as the page and the exports show it: team totals first, then reps worst first."""
    records = []
    for r in (review.totals, *review.rows):
        records.append(
            {
                "Rep": r.rep,
                "Plan": r.plan_name,
                "Status": r.status,
                "Target": round(r.target),
                "Booked": round(r.booked),
                "Milestone to date": round(r.milestone),
                "Attainment %": round(r.attainment * 100, 1),
                "Ahead (+) / behind (-)": round(r.gap),
                "Pipeline in period": round(r.pipeline),
                "Coverage of what is left": None if math.isinf(r.coverage) else round(r.coverage, 2),
                "Required coverage": round(r.required_coverage, 2),
                "Run-rate projection": round(r.run_rate_projection),
                "Pipeline-weighted projection": round(r.weighted_projection),
            }
        )
    return pd.DataFrame.from_records(records)


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def activity_check(reps: Sequence[ReviewInput], as_of: date) -> tuple[date | None, pd.DataFrame]:
    """This week's stage counts against what each rep's plan needs a week.

    "This week" is the week of ``as_of`` if anyone has recorded it, else the latest week anyone has
    recorded up to then. Returns that week's Monday and one row per rep and stage.
    """
    recorded = sorted({w for r in reps for w in r.weekly_counts if w <= as_of})
    week = _monday(as_of) if _monday(as_of) in recorded else (recorded[-1] if recorded else None)
    rows = []
    for r in reps:
        plan = build_plan(r.inputs)
        counts = r.weekly_counts.get(week, {}) if week else {}
        for stage in plan.stages[:-1]:
            done = int(counts.get(stage.name, 0))
            rows.append(
                {
                    "Rep": r.rep,
                    "Stage": stage.name,
                    "Done this week": done,
                    "Needed a week": round(stage.per_week, 1),
                    "% of need": round(100 * done / stage.per_week) if stage.per_week else None,
                }
            )
    return week, pd.DataFrame(rows, columns=["Rep", "Stage", "Done this week", "Needed a week", "% of need"])


def team_burnup(reps: Sequence[ReviewInput], as_of: date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Cumulative booked per rep and for the team by week, and the team's summed milestone steps.

    Returns (booked: columns week, rep, booked — the team as rep "Team"; milestones: due, cumulative).
    """
    rows = []
    for r in reps:
        total = 0.0
        for week in sorted(w for w in r.weekly_revenue if w <= as_of):
            total += float(r.weekly_revenue[week])
            rows.append({"week": week, "rep": r.rep, "booked": total})
    booked = pd.DataFrame(rows, columns=["week", "rep", "booked"])
    if not booked.empty:
        wide = booked.pivot_table(index="week", columns="rep", values="booked", aggfunc="last").sort_index().ffill()
        team = wide.fillna(0.0).sum(axis=1).rename("booked").reset_index().assign(rep="Team")
        booked = pd.concat([team[["week", "rep", "booked"]], booked], ignore_index=True)
    dues = sorted({m.due for r in reps for m in r.milestones})
    milestone_rows = []
    for due in dues:
        cumulative = 0.0
        for r in reps:
            reached = [m.cumulative for m in r.milestones if m.due <= due]
            cumulative += reached[-1] if reached else 0.0
        milestone_rows.append({"due": due, "cumulative": cumulative})
    return booked, pd.DataFrame(milestone_rows, columns=["due", "cumulative"])


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
    counts: dict[str, int]


def _stage_rank(stages: Sequence[str]) -> dict[str, int]:
    names = [s for s in dict.fromkeys(stages) if isinstance(s, str) and s]
    order = guess_stage_order([s for s in names if guess_outcome(s) != "lost"])
    return {s: i for i, s in enumerate(order)}


def snapshot_diff(
    older: pd.DataFrame, newer: pd.DataFrame, period_end: date | None = None, stage_order: Sequence[str] | None = None
) -> SnapshotDiff:
    """Classify every deal's change from ``older`` to ``newer`` (vectorised, for 50,000-deal pipelines).

    Snapshots have deal_id, owner, account, stage, outcome (open / won / lost), amount, close_date.
    The pipeline total is the open amount closing by ``period_end`` (all open deals when None)::

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
    columns = ["deal_id", "owner", "account", "stage", "outcome", "amount", "close_date"]
    a = older[columns].drop_duplicates("deal_id").set_index("deal_id")
    b = newer[columns].drop_duplicates("deal_id").set_index("deal_id")
    both = a.join(b, how="outer", suffixes=("_before", "_after"))
    in_b = both["outcome_after"].notna()
    amount_a = both["amount_before"].fillna(0.0).astype(float)
    amount_b = both["amount_after"].fillna(0.0).astype(float)
    close_a = pd.to_datetime(both["close_date_before"])
    close_b = pd.to_datetime(both["close_date_after"])
    end = pd.Timestamp(period_end) if period_end is not None else None

    def counted(outcome: pd.Series, close: pd.Series) -> pd.Series:
        open_ = outcome == "open"
        return open_ & (close.isna() | (close <= end)) if end is not None else open_

    counted_a = counted(both["outcome_before"], close_a).fillna(False).astype(bool)
    counted_b = counted(both["outcome_after"], close_b).fillna(False).astype(bool)
    open_a = (both["outcome_before"] == "open").fillna(False).astype(bool)
    open_b = (both["outcome_after"] == "open").fillna(False).astype(bool)

    rank = _stage_rank(list(stage_order) if stage_order else pd.unique(pd.concat([a["stage"], b["stage"]])).tolist())
    stage_a = both["stage_before"].map(rank)
    stage_b = both["stage_after"].map(rank)
    flags = {
        "new": in_b & ~open_a & open_b,
        "won": open_a & (both["outcome_after"] == "won"),
        "lost": open_a & (both["outcome_after"] == "lost"),
        "dropped out": open_a & ~in_b,
        "advanced": open_a & open_b & (stage_b > stage_a),
        "moved back": open_a & open_b & (stage_b < stage_a),
        "slipped": open_a & open_b & (close_b > close_a),
        "pulled in": open_a & open_b & (close_b < close_a),
        "amount up": open_a & open_b & (amount_b > amount_a),
        "amount down": open_a & open_b & (amount_b < amount_a),
        "slipped out of period": counted_a & open_b & ~counted_b,
    }
    flags = {k: v.fillna(False).astype(bool) for k, v in flags.items()}

    # The one cause each deal's move in the total is booked under.
    cause = pd.Series("", index=both.index, dtype="object")
    delta = pd.Series(0.0, index=both.index)
    leaving = counted_a & ~counted_b
    for name in ("won", "lost", "dropped out", "slipped out of period"):
        pick = leaving & flags[name] & (cause == "")
        cause[pick], delta[pick] = name, -amount_a[pick]
    other_leave = leaving & (cause == "")  # e.g. reopened elsewhere: counted as dropped out
    cause[other_leave], delta[other_leave] = "dropped out", -amount_a[other_leave]
    arriving = ~counted_a & counted_b
    arrive_pulled = arriving & open_a
    cause[arrive_pulled], delta[arrive_pulled] = "pulled in", amount_b[arrive_pulled]
    arrive_new = arriving & ~open_a
    cause[arrive_new], delta[arrive_new] = "new", amount_b[arrive_new]
    staying = counted_a & counted_b
    up, down = staying & (amount_b > amount_a), staying & (amount_b < amount_a)
    cause[up], delta[up] = "amount up", (amount_b - amount_a)[up]
    cause[down], delta[down] = "amount down", (amount_b - amount_a)[down]

    start_total = float(amount_a[counted_a].sum())
    end_total = float(amount_b[counted_b].sum())
    waterfall = tuple((name, float(delta[cause == name].sum())) for name in _WATERFALL)

    flag_frame = pd.DataFrame(flags)[[c for c in CHANGE_CATEGORIES if c in flags]]
    names = np.array(flag_frame.columns)
    matrix = flag_frame.to_numpy()
    changed = matrix.any(axis=1)
    categories = [", ".join(names[row]) for row in matrix[changed]]
    out = both[changed].reset_index()
    changes = pd.DataFrame(
        {
            "deal_id": out["deal_id"],
            "owner": out["owner_after"].fillna(out["owner_before"]),
            "account": out["account_after"].fillna(out["account_before"]),
            "stage_before": out["stage_before"],
            "stage_after": out["stage_after"],
            "amount_before": out["amount_before"],
            "amount_after": out["amount_after"],
            "close_before": pd.to_datetime(out["close_date_before"]).dt.date,
            "close_after": pd.to_datetime(out["close_date_after"]).dt.date,
            "categories": categories,
            "cause": cause[changed].to_numpy(),
            "change": delta[changed].to_numpy(),
        }
    )
    counts = {name: int(flags[name].sum()) for name in CHANGE_CATEGORIES}
    return SnapshotDiff(changes, waterfall, start_total, end_total, counts)


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
