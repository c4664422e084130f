"""Plans: a rep's saved plan with its milestones, a team's plans for the review, and the demo team."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime

import duckdb

from planner.access import Viewer
from planner.funnel import PlanInputs, Stage
from planner.milestones import Milestone, build_milestones
from planner.store import StoreError, _query, retry_conflicts, transaction
from planner.store.actuals import get_actuals
from planner.store.ownership import authorise, authorise_plan, authorise_rep
from planner.store.people import Rep, _insert_rep
from planner.store.profiles import _profile_shares
from planner.team import ReviewInput

__all__ = [
    "PlanSummary",
    "SavedPlan",
    "delete_plan",
    "duplicate_plan",
    "get_milestones",
    "get_plan",
    "list_plans",
    "review_inputs",
    "save_plan",
    "team_plans",
]


@dataclass(frozen=True, slots=True)
class SavedPlan:
    """Everything on the Plan page, as saved."""

    id: int
    rep_id: int
    name: str
    inputs: PlanInputs
    currency: str = "USD"
    milestone_shape: str = "linear"
    cadence: str = "auto"
    milestone_custom: tuple[float, ...] = ()
    profile_id: int | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class PlanSummary:
    """One line of the open-plan list."""

    id: int
    name: str
    rep_id: int
    rep_name: str
    target: float
    currency: str
    period_start: date
    period_end: date
    updated_at: datetime


def _funnel_json(inputs: PlanInputs) -> str:
    return json.dumps([{"name": s.name, "ratio": s.ratio, "lag_days": s.lag_days} for s in inputs.stages])


def _plan_milestones(
    inputs: PlanInputs, shape: str, cadence: str, custom: Sequence[float], shares: Sequence[float] | None = None
) -> list[Milestone]:
    return build_milestones(
        inputs.target,
        inputs.period_start,
        inputs.period_end,
        cadence,
        shape,
        shares=shares,
        custom_to_go=list(custom) or None,
        holiday_weeks=inputs.holiday_weeks,
    )


def _write_plan(
    cur: duckdb.DuckDBPyConnection,
    rep_id: int,
    name: str,
    inputs: PlanInputs,
    currency: str,
    shape: str,
    cadence: str,
    custom: Sequence[float],
    plan_id: int | None,
    profile_id: int | None = None,
) -> int:
    shares = _profile_shares(cur, profile_id) if shape == "historical" else None
    values = [
        rep_id,
        name,
        inputs.target,
        currency,
        inputs.period_start,
        inputs.period_end,
        inputs.deal_size,
        inputs.coverage_ratio,
        shape,
        _funnel_json(inputs),
        inputs.won_stage,
        json.dumps([d.isoformat() for d in inputs.holiday_weeks]),
        cadence,
        json.dumps(list(custom)),
        profile_id,
    ]
    if plan_id is None:
        row = cur.execute(
            "INSERT INTO plans (rep_id, name, target, currency, period_start, period_end, avg_deal_size,"
            " coverage_ratio, milestone_shape, funnel, won_stage, holiday_weeks, cadence, milestone_custom,"
            " profile_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            values,
        ).fetchone()
        assert row is not None
        plan_id = int(row[0])
    else:
        updated = cur.execute(
            "UPDATE plans SET rep_id = ?, name = ?, target = ?, currency = ?, period_start = ?, period_end = ?,"
            " avg_deal_size = ?, coverage_ratio = ?, milestone_shape = ?, funnel = ?, won_stage = ?,"
            " holiday_weeks = ?, cadence = ?, milestone_custom = ?, profile_id = ?, updated_at = now()"
            " WHERE id = ? RETURNING id",
            [*values, plan_id],
        ).fetchall()
        if not updated:
            raise StoreError(f"Plan {plan_id} no longer exists — it may have been deleted.")
        cur.execute("DELETE FROM milestones WHERE plan_id = ?", [plan_id])
    steps = _plan_milestones(inputs, shape, cadence, custom, shares)
    cur.executemany(
        "INSERT INTO milestones (plan_id, due_date, cumulative_target) VALUES (?, ?, ?)",
        [[plan_id, m.due, m.cumulative] for m in steps],
    )
    return plan_id


def _authorise_save(
    cur: duckdb.DuckDBPyConnection, viewer: Viewer | None, rep: int | str, plan_id: int | None, new_rep_team: str
) -> Viewer:
    """Refuse unless ``viewer`` may save plan ``plan_id`` (as saved now) for ``rep`` (an id, or a new rep's name)."""
    if plan_id is not None:
        authorise_plan(cur, viewer, plan_id)
    if isinstance(rep, str):
        return authorise(
            viewer,
            lambda v: v.may_add_rep(new_rep_team),
            "You can add a rep only to your own team; sales ops add anyone anywhere.",
        )
    authorise_rep(cur, viewer, rep)
    assert viewer is not None
    return viewer


@retry_conflicts
def save_plan(
    con: duckdb.DuckDBPyConnection,
    viewer: Viewer | None,
    rep: int | str,
    name: str,
    inputs: PlanInputs,
    *,
    currency: str = "USD",
    milestone_shape: str = "linear",
    cadence: str = "auto",
    milestone_custom: Sequence[float] = (),
    plan_id: int | None = None,
    profile_id: int | None = None,
    new_rep_team: str = "",
) -> int:
    """Insert a plan (or replace plan ``plan_id``) and its milestones in one transaction; return its id.

    ``rep`` is a rep's id, or the name of a new rep to add in the same
    transaction (to ``new_rep_team``).  Raises :class:`planner.milestones.MilestoneError` for
    milestones that do not hold, :class:`StoreError` for a name in use and
    :class:`planner.store.Refused` when the plan or the rep is not ``viewer``'s.
    """
    name = name.strip()
    if not name:
        raise StoreError("Give the plan a name, such as “Q1 2027”.")
    if isinstance(rep, str) and not rep.strip():
        raise StoreError("Pick a rep, or type the name of a new one.")
    try:
        with transaction(con) as cur:
            who = _authorise_save(cur, viewer, rep, plan_id, new_rep_team)
            if isinstance(rep, str):
                new_rep = rep.strip()
                if cur.execute("SELECT 1 FROM reps WHERE name = ?", [new_rep]).fetchone():
                    raise StoreError(f"There is already a rep called “{new_rep}” — pick them from the list.")
                rep = _insert_rep(cur, new_rep, new_rep_team.strip(), "rep", by=who.signature)
            return _write_plan(
                cur, rep, name, inputs, currency, milestone_shape, cadence, milestone_custom, plan_id, profile_id
            )
    except duckdb.ConstraintException as error:
        # (rep_id, name) is the only unique key left for a caller to hit.
        raise StoreError(f"This rep already has a plan called “{name}” — pick another name.") from error


def _plan_from_row(row: tuple) -> SavedPlan:
    (plan_id, rep_id, name, target, currency, start, end, deal_size, coverage, shape, funnel, won_stage,
     holidays, profile_id, created, updated, cadence, custom) = row  # fmt: skip
    stages = tuple(Stage(s["name"], float(s["ratio"]), int(s["lag_days"])) for s in json.loads(funnel))
    inputs = PlanInputs(
        target=float(target),
        deal_size=float(deal_size),
        period_start=start,
        period_end=end,
        stages=stages,
        won_stage=won_stage,
        holiday_weeks=tuple(date.fromisoformat(d) for d in json.loads(holidays)),
        coverage_ratio=float(coverage),
    )
    return SavedPlan(
        id=plan_id,
        rep_id=rep_id,
        name=name,
        inputs=inputs,
        currency=currency,
        milestone_shape=shape,
        cadence=cadence,
        milestone_custom=tuple(float(v) for v in json.loads(custom)),
        profile_id=profile_id,
        created_at=created,
        updated_at=updated,
    )


_PLAN_COLUMNS = (
    "id, rep_id, name, target, currency, period_start, period_end, avg_deal_size, coverage_ratio,"
    " milestone_shape, funnel, won_stage, holiday_weeks, profile_id, created_at, updated_at, cadence,"
    " milestone_custom"
)


def get_plan(con: duckdb.DuckDBPyConnection, plan_id: int) -> SavedPlan | None:
    """The saved plan ``plan_id``, or None if there is none."""
    rows = _query(con, f"SELECT {_PLAN_COLUMNS} FROM plans WHERE id = ?", [plan_id])
    return _plan_from_row(rows[0]) if rows else None


def list_plans(
    con: duckdb.DuckDBPyConnection, rep_id: int | None = None, *, rep_ids: Collection[int] | None = None
) -> list[PlanSummary]:
    """Saved plans, newest period first; one rep's if ``rep_id`` is given, only these reps' if ``rep_ids`` is."""
    allowed = None if rep_ids is None else sorted(rep_ids)
    rows = _query(
        con,
        "SELECT p.id, p.name, p.rep_id, r.name, p.target, p.currency, p.period_start, p.period_end, p.updated_at"
        " FROM plans p JOIN reps r ON r.id = p.rep_id"
        " WHERE (? IS NULL OR p.rep_id = ?) AND (?::INTEGER[] IS NULL OR list_contains(?::INTEGER[], p.rep_id))"
        " ORDER BY p.period_start DESC, r.name, p.name",
        [rep_id, rep_id, allowed, allowed],
    )
    return [PlanSummary(*row) for row in rows]


def duplicate_plan(con: duckdb.DuckDBPyConnection, viewer: Viewer | None, plan_id: int, new_name: str) -> int:
    """A copy of plan ``plan_id`` (not its actuals) called ``new_name``; returns the new id."""
    plan = get_plan(con, plan_id)
    if plan is None:
        raise StoreError(f"Plan {plan_id} no longer exists — it may have been deleted.")
    return save_plan(
        con,
        viewer,
        plan.rep_id,
        new_name,
        plan.inputs,
        currency=plan.currency,
        milestone_shape=plan.milestone_shape,
        cadence=plan.cadence,
        milestone_custom=plan.milestone_custom,
        profile_id=plan.profile_id,
    )


@retry_conflicts
def delete_plan(con: duckdb.DuckDBPyConnection, viewer: Viewer | None, plan_id: int) -> None:
    """Delete a plan with its milestones and actuals, all or nothing."""
    with transaction(con) as cur:
        authorise_plan(cur, viewer, plan_id)
        cur.execute("DELETE FROM actuals WHERE plan_id = ?", [plan_id])
        cur.execute("DELETE FROM milestones WHERE plan_id = ?", [plan_id])
        cur.execute("DELETE FROM plans WHERE id = ?", [plan_id])


def get_milestones(con: duckdb.DuckDBPyConnection, plan_id: int) -> list[Milestone]:
    """The plan's stored checkpoints, in date order."""
    rows = _query(
        con, "SELECT due_date, cumulative_target FROM milestones WHERE plan_id = ? ORDER BY due_date", [plan_id]
    )
    return [Milestone(due, float(value)) for due, value in rows]


def team_plans(con: duckdb.DuckDBPyConnection, team: str, as_of: date) -> list[tuple[Rep, SavedPlan]]:
    """Each rep of ``team`` (not managers) with the plan whose period holds ``as_of`` (else their latest)."""
    rows = _query(
        con,
        "SELECT r.id, r.name, r.team, r.role, p.id FROM reps r JOIN plans p ON p.rep_id = r.id"
        " WHERE r.team = ? AND r.role = 'rep'"
        " QUALIFY row_number() OVER (PARTITION BY r.id"
        "   ORDER BY (p.period_start <= ? AND ? <= p.period_end) DESC, p.period_start DESC, p.id DESC) = 1"
        " ORDER BY r.name",
        [team, as_of, as_of],
    )
    out = []
    for rep_id, name, rep_team, role, plan_id in rows:
        plan = get_plan(con, plan_id)
        if plan is not None:
            out.append((Rep(rep_id, name, rep_team, role), plan))
    return out


def review_inputs(con: duckdb.DuckDBPyConnection, team: str, as_of: date) -> list[ReviewInput]:
    """Each rep's plan, milestones, weekly revenue and stage counts, as the team review needs them."""
    out = []
    for rep, plan in team_plans(con, team, as_of):
        weeks = get_actuals(con, plan.id)
        out.append(
            ReviewInput(
                rep=rep.name,
                plan_id=plan.id,
                plan_name=plan.name,
                inputs=plan.inputs,
                milestones=tuple(get_milestones(con, plan.id)),
                weekly_revenue={w.week_start: w.revenue for w in weeks},
                weekly_counts={w.week_start: dict(w.stage_counts) for w in weeks},
            )
        )
    return out
