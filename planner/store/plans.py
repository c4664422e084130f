"""Plans: a rep's saved plan with its milestones, and a team's plans for the review.

A plan has an identity beyond its name: an id, a ``version`` that every save
adds one to, and ids for its funnel's stages. A save made from an older
version than the database holds is refused (:class:`StalePlan`) with what the
plan holds now, so two people saving one plan never overwrite each other
unawares. A delete is soft (``deleted_at``): milestones and actuals reference
their plan by foreign key, DuckDB cannot delete them and their plan in one
transaction, and every read leaves a deleted plan out;
:func:`purge_deleted_plans` removes them for good, in two steps.

Every write to a plan, or under it, first takes the plan's row with
:func:`_lock_plan` (``writes = writes + 1``): DuckDB's MVCC sees two
transactions changing the same column of one row as a conflict, so an import
racing a delete cannot both commit (one is run again, and then finds the plan
gone). PostgreSQL takes the same statement as a row lock.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime

import duckdb

from planner.access import Viewer
from planner.choices import PlanChoices, check_choices
from planner.funnel import PlanInputs, Stage
from planner.milestones import Milestone, plan_milestones
from planner.store import StaleWrite, StoreError, _query, retry_conflicts, transaction
from planner.store.ownership import authorise, authorise_plan, authorise_rep
from planner.store.people import Rep, _insert_rep
from planner.store.profiles import _profile_exists, _profile_shares
from planner.team import ReviewInput
from planner.units import money

__all__ = [
    "PlanSummary",
    "SavedPlan",
    "StalePlan",
    "delete_plan",
    "duplicate_plan",
    "get_milestones",
    "get_plan",
    "list_plans",
    "milestones_by_plan",
    "plan_differences",
    "purge_deleted_plans",
    "review_inputs",
    "save_plan",
    "team_plans",
]


@dataclass(frozen=True, slots=True)
class SavedPlan:
    """Everything on the Plan page, as saved; ``version`` and who saved it last, to refuse stale saves."""

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
    version: int = 1
    #: The name of whoever saved it last ("" when sign-in was off).
    changed_by: str = ""
    #: the chance of hitting the target the activity is planned for; None: the expected case
    confidence: float | None = None
    #: the shape that fills the checkpoints a custom plan does not type
    milestone_fill: str = "linear"


class StalePlan(StaleWrite):
    """A save from an older version of the plan than the database holds; ``current`` is what it holds."""

    def __init__(self, current: SavedPlan) -> None:
        self.current = current
        super().__init__(
            f"“{current.name}” was changed {changed_by_words(current.changed_by)} at "
            f"{current.updated_at:%d %b %Y %H:%M} since you opened it — your save was not applied."
        )


def changed_by_words(name: str) -> str:
    """ "by Ben Carter", or, when sign-in was off and nobody is named, "in another session"."""
    return f"by {name}" if name else "in another session"


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


def _author(viewer: Viewer | None) -> tuple[int | None, str]:
    """Who is writing, as stored: their rep id when they have one, and their name ('' with sign-in off)."""
    return (viewer.rep_id, viewer.name) if viewer is not None else (None, "")


def _funnel_json(stages: Sequence[Stage]) -> str:
    return json.dumps([{"id": s.id, "name": s.name, "ratio": s.ratio, "lag_days": s.lag_days} for s in stages])


@functools.lru_cache(maxsize=4096)
def _funnel_stages(funnel: str) -> tuple[Stage, ...]:
    """A plan's stored funnel as its stages, remembered by its text: a team review reads thousands of plans."""
    return tuple(
        Stage(s["name"], float(s["ratio"]), int(s["lag_days"]), int(s["id"]) if s.get("id") is not None else None)
        for s in json.loads(funnel)
    )


def _lock_plan(cur: duckdb.DuckDBPyConnection, plan_id: int) -> tuple[Stage, ...] | None:
    """Take plan ``plan_id``'s row for this transaction and return its stages; None when it is gone.

    The increment is what makes DuckDB see a concurrent write to the plan (a
    delete, a save, another import) as a conflict: a no-op ``SET x = x`` is not
    one. No RETURNING: DuckDB refuses an UPDATE ... RETURNING of a row that a
    foreign key references.
    """
    cur.execute("UPDATE plans SET writes = writes + 1 WHERE id = ? AND deleted_at IS NULL", [plan_id])
    row = cur.execute("SELECT funnel FROM plans WHERE id = ? AND deleted_at IS NULL", [plan_id]).fetchone()
    return _funnel_stages(row[0]) if row else None


def _with_stage_ids(cur: duckdb.DuckDBPyConnection, stages: Sequence[Stage], stored: Sequence[Stage]) -> list[Stage]:
    """``stages`` each with an id: its own, else that of the stored stage of the same name, else a new one.

    A stage keeps its id through a rename; a stage added (or an id given twice)
    gets a fresh one from a sequence, so an id never returns to mean another stage.
    """
    by_name = {s.name.strip().casefold(): s.id for s in stored if s.id is not None}
    taken: set[int] = set()
    out = []
    for stage in stages:
        stage_id = stage.id if stage.id is not None else by_name.get(stage.name.strip().casefold())
        if stage_id is None or stage_id in taken:
            row = cur.execute("SELECT nextval('stage_ids')").fetchone()
            assert row is not None
            stage_id = int(row[0])
        taken.add(stage_id)
        out.append(Stage(stage.name, stage.ratio, stage.lag_days, stage_id))
    return out


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
    *,
    expected_version: int | None = None,
    viewer: Viewer | None = None,
    confidence: float | None = None,
    fill: str = "linear",
) -> int:
    # The rep's row, taken first: two saves of one name for one rep cannot both pass the check below.
    cur.execute("UPDATE reps SET writes = writes + 1 WHERE id = ?", [rep_id])
    stored: tuple[Stage, ...] = ()
    if plan_id is not None:
        locked = _lock_plan(cur, plan_id)
        if locked is None:
            raise StoreError(f"Plan {plan_id} no longer exists — it may have been deleted.")
        stored = locked
        if expected_version is not None:
            current = _read_plan(cur, plan_id)
            if current is not None and current.version != expected_version:
                raise StalePlan(current)
    if cur.execute(
        "SELECT 1 FROM plans WHERE rep_id = ? AND name = ? AND deleted_at IS NULL AND id IS DISTINCT FROM ?",
        [rep_id, name, plan_id],
    ).fetchone():
        raise StoreError(f"This rep already has a plan called “{name}” — pick another name.")
    historical = shape == "historical" or (shape == "custom" and fill == "historical")
    shares = _profile_shares(cur, profile_id) if historical else None  # says what the historical shape needs
    profiles = [profile_id] if _profile_exists(cur, profile_id) else []
    check_choices(PlanChoices(currency, shape, cadence, fill, confidence, profile_id), profile_ids=profiles)
    steps = plan_milestones(inputs, shape, cadence, custom, shares, fill)
    by_rep, by_name = _author(viewer)
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
        _funnel_json(_with_stage_ids(cur, inputs.stages, stored)),
        inputs.won_stage,
        json.dumps([d.isoformat() for d in inputs.holiday_weeks]),
        cadence,
        json.dumps(list(custom)),
        profile_id,
        by_rep,
        by_name,
        confidence,
        fill,
    ]
    if plan_id is None:
        row = cur.execute(
            "INSERT INTO plans (rep_id, name, target, currency, period_start, period_end, avg_deal_size,"
            " coverage_ratio, milestone_shape, funnel, won_stage, holiday_weeks, cadence, milestone_custom,"
            " profile_id, updated_by_rep_id, updated_by, confidence, milestone_fill)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " RETURNING id",
            values,
        ).fetchone()
        assert row is not None
        plan_id = int(row[0])
    else:
        cur.execute(
            "UPDATE plans SET rep_id = ?, name = ?, target = ?, currency = ?, period_start = ?, period_end = ?,"
            " avg_deal_size = ?, coverage_ratio = ?, milestone_shape = ?, funnel = ?, won_stage = ?,"
            " holiday_weeks = ?, cadence = ?, milestone_custom = ?, profile_id = ?, updated_by_rep_id = ?,"
            " updated_by = ?, confidence = ?, milestone_fill = ?, version = version + 1, updated_at = now()"
            " WHERE id = ?",
            [*values, plan_id],
        )
        cur.execute("DELETE FROM milestones WHERE plan_id = ?", [plan_id])
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
    expected_version: int | None = None,
    confidence: float | None = None,
    milestone_fill: str = "linear",
) -> int:
    """Insert a plan (or replace plan ``plan_id``) and its milestones in one transaction; return its id.

    ``rep`` is a rep's id, or the name of a new rep to add in the same
    transaction (to ``new_rep_team``). With ``expected_version`` (the version
    the caller read), a plan saved since is not overwritten: :class:`StalePlan`
    says by whom and what it holds now. ``viewer`` must own the plan and the rep (or may add the new rep to
    ``new_rep_team``), else :class:`planner.store.Refused`; it is recorded as who saved it.
    Stages keep their ids (or take a stored stage's of the same name), so a
    rename carries the counts recorded for the stage. Raises
    :class:`planner.milestones.MilestoneError` for milestones that do not hold,
    :class:`planner.choices.PlanChoiceError` for a choice outside its values (a
    currency, shape, cadence or confidence Backplan does not offer, a profile
    that does not exist) and :class:`StoreError` for a name in use or a plan
    deleted meanwhile.
    """
    name = name.strip()
    if not name:
        raise StoreError("Give the plan a name, such as “Q1 2027”.")
    if isinstance(rep, str) and not rep.strip():
        raise StoreError("Pick a rep, or type the name of a new one.")
    with transaction(con) as cur:
        who = _authorise_save(cur, viewer, rep, plan_id, new_rep_team)
        if isinstance(rep, str):
            new_rep = rep.strip()
            if cur.execute("SELECT 1 FROM reps WHERE name = ?", [new_rep]).fetchone():
                raise StoreError(f"There is already a rep called “{new_rep}” — pick them from the list.")
            try:
                rep = _insert_rep(cur, new_rep, new_rep_team.strip(), "rep", by=who.signature)
            except duckdb.ConstraintException as error:
                # Added by another session a moment ago (reps.name is unique).
                raise StoreError(f"There is already a rep called “{new_rep}” — pick them from the list.") from error
        return _write_plan(
            cur,
            rep,
            name,
            inputs,
            currency,
            milestone_shape,
            cadence,
            milestone_custom,
            plan_id,
            profile_id,
            expected_version=expected_version,
            viewer=viewer,
            confidence=confidence,
            fill=milestone_fill,
        )


def _plan_from_row(row: tuple) -> SavedPlan:
    (plan_id, rep_id, name, target, currency, start, end, deal_size, coverage, shape, funnel, won_stage,
     holidays, profile_id, created, updated, cadence, custom, version, changed_by, confidence, fill) = row  # fmt: skip
    inputs = PlanInputs(
        target=float(target),
        deal_size=float(deal_size),
        period_start=start,
        period_end=end,
        stages=_funnel_stages(funnel),
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
        version=int(version),
        changed_by=changed_by or "",
        confidence=confidence,
        milestone_fill=fill or "linear",
    )


#: A plan's row as :func:`_plan_from_row` reads it, from ``plans p`` joined to its last author ``reps who``.
_PLAN_COLUMNS = (
    "p.id, p.rep_id, p.name, p.target, p.currency, p.period_start, p.period_end, p.avg_deal_size,"
    " p.coverage_ratio, p.milestone_shape, p.funnel, p.won_stage, p.holiday_weeks, p.profile_id, p.created_at,"
    " p.updated_at, p.cadence, p.milestone_custom, p.version, coalesce(who.name, p.updated_by),"
    " p.confidence, p.milestone_fill"
)
_PLAN_QUERY = (
    f"SELECT {_PLAN_COLUMNS} FROM plans p LEFT JOIN reps who ON who.id = p.updated_by_rep_id"
    " WHERE p.id = ? AND p.deleted_at IS NULL"
)


def _read_plan(cur: duckdb.DuckDBPyConnection, plan_id: int) -> SavedPlan | None:
    row = cur.execute(_PLAN_QUERY, [plan_id]).fetchone()
    return _plan_from_row(row) if row else None


def get_plan(con: duckdb.DuckDBPyConnection, plan_id: int) -> SavedPlan | None:
    """The saved plan ``plan_id``, or None if there is none (or it was deleted)."""
    rows = _query(con, _PLAN_QUERY, [plan_id])
    return _plan_from_row(rows[0]) if rows else None


def plan_differences(mine: SavedPlan, theirs: SavedPlan) -> list[tuple[str, str, str]]:
    """What ``mine`` (about to be saved) and ``theirs`` (saved meanwhile) say differently: (what, mine, theirs).

    Stages are matched by id, so a renamed stage reads as a rename, not as a
    stage removed and another added.

    >>> from planner.funnel import Stage
    >>> a = SavedPlan(1, 1, "Q1", PlanInputs(180_000, 6_000, date(2027, 1, 1), date(2027, 3, 31),
    ...               stages=(Stage("Calls", 2, 0, 7),)))
    >>> b = SavedPlan(1, 1, "Q1", PlanInputs(444_000, 6_000, date(2027, 1, 1), date(2027, 3, 31),
    ...               stages=(Stage("Dials", 2, 0, 7),)))
    >>> plan_differences(a, b)
    [('Target', '$180,000', '$444,000'), ('Name of stage “Dials”', 'Calls', 'Dials')]
    """
    a, b = mine.inputs, theirs.inputs
    found: list[tuple[str, str, str]] = []

    def differ(label: str, left: object, right: object) -> None:
        if left != right:
            found.append((label, str(left), str(right)))

    def period(inputs: PlanInputs) -> str:
        return f"{inputs.period_start:%d %b %Y} to {inputs.period_end:%d %b %Y}"

    def stage_text(stage: Stage | None) -> str:
        return "—" if stage is None else f"{stage.name}, {stage.ratio:g} : 1, {stage.lag_days} days"

    differ("Plan name", mine.name, theirs.name)
    differ("Target", money(a.target, mine.currency), money(b.target, theirs.currency))
    differ("Average deal size", money(a.deal_size, mine.currency), money(b.deal_size, theirs.currency))
    differ("Currency", mine.currency, theirs.currency)
    differ("Period", period(a), period(b))
    differ("Holiday weeks", len(a.holiday_weeks), len(b.holiday_weeks))
    differ("Pipeline coverage", f"{a.coverage_ratio:g}×", f"{b.coverage_ratio:g}×")
    differ("Milestones", f"{mine.milestone_shape}, {mine.cadence}", f"{theirs.milestone_shape}, {theirs.cadence}")
    differ(
        "Custom checkpoints",
        ", ".join(f"{v:,.0f}" for v in mine.milestone_custom),
        ", ".join(f"{v:,.0f}" for v in theirs.milestone_custom),
    )
    differ("Won stage", a.won_stage, b.won_stage)
    theirs_by_id = {s.id: s for s in b.stages if s.id is not None}
    for stage in a.stages:
        other = theirs_by_id.get(stage.id) if stage.id is not None else None
        if other is None:
            found.append((f"Stage “{stage.name}”", stage_text(stage), "—"))
            continue
        differ(f"Name of stage “{other.name}”", stage.name, other.name)
        differ(f"“{other.name}” ratio", f"{stage.ratio:g} : 1", f"{other.ratio:g} : 1")
        differ(f"“{other.name}” lag", f"{stage.lag_days} days", f"{other.lag_days} days")
    mine_ids = {s.id for s in a.stages if s.id is not None}
    for stage in b.stages:
        if stage.id is None or stage.id not in mine_ids:
            found.append((f"Stage “{stage.name}”", "—", stage_text(stage)))
    if not found and [s.id for s in a.stages] != [s.id for s in b.stages]:
        found.append(("Stage order", " → ".join(s.name for s in a.stages), " → ".join(s.name for s in b.stages)))
    return found


def list_plans(
    con: duckdb.DuckDBPyConnection, rep_id: int | None = None, *, rep_ids: Collection[int] | None = None
) -> list[PlanSummary]:
    """Saved plans, newest period first; one rep's if ``rep_id`` is given, only these reps' if ``rep_ids`` is."""
    allowed = None if rep_ids is None else sorted(rep_ids)
    rows = _query(
        con,
        "SELECT p.id, p.name, p.rep_id, r.name, p.target, p.currency, p.period_start, p.period_end, p.updated_at"
        " FROM plans p JOIN reps r ON r.id = p.rep_id"
        " WHERE p.deleted_at IS NULL AND (? IS NULL OR p.rep_id = ?)"
        " AND (?::INTEGER[] IS NULL OR list_contains(?::INTEGER[], p.rep_id))"
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
        confidence=plan.confidence,
        milestone_fill=plan.milestone_fill,
    )


@retry_conflicts
def delete_plan(con: duckdb.DuckDBPyConnection, viewer: Viewer | None, plan_id: int) -> None:
    """Delete a plan with its milestones and actuals, all or nothing: from then on no read returns any of them.

    The rows stay, marked, until :func:`purge_deleted_plans` (DuckDB cannot
    delete them and the plan their foreign keys point at in one transaction).
    """
    by_rep, by_name = _author(viewer)
    with transaction(con) as cur:
        authorise_plan(cur, viewer, plan_id)
        cur.execute(
            "UPDATE plans SET deleted_at = now(), version = version + 1, writes = writes + 1,"
            " updated_by_rep_id = ?, updated_by = ? WHERE id = ? AND deleted_at IS NULL",
            [by_rep, by_name, plan_id],
        )


@retry_conflicts
def _purge_children(con: duckdb.DuckDBPyConnection) -> None:
    with transaction(con) as cur:
        for table in ("actuals", "milestones"):
            cur.execute(f"DELETE FROM {table} WHERE plan_id IN (SELECT id FROM plans WHERE deleted_at IS NOT NULL)")


@retry_conflicts
def _purge_plans(con: duckdb.DuckDBPyConnection) -> int:
    with transaction(con) as cur:
        row = cur.execute(
            "SELECT count(*) FROM plans p WHERE p.deleted_at IS NOT NULL"
            " AND NOT EXISTS (SELECT 1 FROM actuals a WHERE a.plan_id = p.id)"
            " AND NOT EXISTS (SELECT 1 FROM milestones m WHERE m.plan_id = p.id)"
        ).fetchone()
        cur.execute(
            "DELETE FROM plans p WHERE p.deleted_at IS NOT NULL"
            " AND NOT EXISTS (SELECT 1 FROM actuals a WHERE a.plan_id = p.id)"
            " AND NOT EXISTS (SELECT 1 FROM milestones m WHERE m.plan_id = p.id)"
        )
        return int(row[0]) if row else 0


def purge_deleted_plans(con: duckdb.DuckDBPyConnection, viewer: Viewer | None) -> int:
    """Remove deleted plans for good, in two transactions (their rows, then the plans); the number removed.

    Between the two a crash leaves deleted plans without their rows: nothing
    anyone can see, and the next purge finishes the job. Sales ops' or the server's job.
    """
    authorise(viewer, lambda v: v.can_manage_people, "Only sales ops can purge deleted plans.")
    _purge_children(con)
    return _purge_plans(con)


def get_milestones(con: duckdb.DuckDBPyConnection, plan_id: int) -> list[Milestone]:
    """The plan's stored checkpoints, in date order (none for a deleted plan)."""
    rows = _query(
        con,
        "SELECT m.due_date, m.cumulative_target FROM milestones m JOIN plans p ON p.id = m.plan_id"
        " WHERE m.plan_id = ? AND p.deleted_at IS NULL ORDER BY m.due_date",
        [plan_id],
    )
    return [Milestone(due, float(value)) for due, value in rows]


def milestones_by_plan(con: duckdb.DuckDBPyConnection, plan_ids: Sequence[int]) -> dict[int, list[Milestone]]:
    """:func:`get_milestones` of many plans in one query, by plan id (none for a deleted plan)."""
    rows = _query(
        con,
        "SELECT m.plan_id, m.due_date, m.cumulative_target FROM milestones m"
        " JOIN (SELECT unnest(?::INTEGER[]) AS id) chosen ON chosen.id = m.plan_id"
        " JOIN plans p ON p.id = m.plan_id WHERE p.deleted_at IS NULL ORDER BY m.plan_id, m.due_date",
        [list(plan_ids)],
    )
    out: dict[int, list[Milestone]] = {plan_id: [] for plan_id in plan_ids}
    for plan_id, due, value in rows:
        out[plan_id].append(Milestone(due, float(value)))
    return out


def team_plans(con: duckdb.DuckDBPyConnection, team: str, as_of: date) -> list[tuple[Rep, SavedPlan]]:
    """Each rep of ``team`` (not managers) with the plan whose period holds ``as_of`` (else their latest).

    One query however big the team (a team of 2,000 reps is 2,000 plans); deleted plans are never chosen.
    """
    rows = _query(
        con,
        f"SELECT DISTINCT ON (r.name, r.id) r.id, r.name, r.team, r.role, {_PLAN_COLUMNS}"
        " FROM reps r JOIN plans p ON p.rep_id = r.id"
        " LEFT JOIN reps who ON who.id = p.updated_by_rep_id"
        " WHERE r.team = ? AND r.role = 'rep' AND p.deleted_at IS NULL"
        # One plan per rep: DISTINCT ON, which DuckDB and PostgreSQL both take (rep names are unique).
        " ORDER BY r.name, r.id, (p.period_start <= ? AND ? <= p.period_end) DESC, p.period_start DESC, p.id DESC",
        [team, as_of, as_of],
    )
    return [(Rep(rep_id, name, rep_team, role), _plan_from_row(plan)) for rep_id, name, rep_team, role, *plan in rows]


def review_inputs(con: duckdb.DuckDBPyConnection, team: str, as_of: date) -> list[ReviewInput]:
    """Each rep's plan, milestones, revenue by week and by day, and latest stage counts up to ``as_of``, as the
    team review needs them (:func:`planner.store.actuals.review_actuals`), in three queries however big the team.

    Counts are named as each plan names its stages now (they are stored by stage id), and the revenue by
    day is there for weeks recorded day by day, so ahead or behind is the same figure as on Track.
    """
    from planner.store.actuals import review_actuals  # actuals builds on this module (the plan's row lock)

    chosen = team_plans(con, team, as_of)
    steps = milestones_by_plan(con, [plan.id for _, plan in chosen])
    actuals = review_actuals(con, {plan.id: plan.inputs.stages for _, plan in chosen}, as_of)
    return [
        ReviewInput(
            rep=rep.name,
            plan_id=plan.id,
            plan_name=plan.name,
            inputs=plan.inputs,
            milestones=tuple(steps[plan.id]),
            weekly_revenue=actuals[plan.id].weekly_revenue,
            weekly_counts=actuals[plan.id].latest_counts,
            daily_revenue=actuals[plan.id].daily_revenue,
            currency=plan.currency,
        )
        for rep, plan in chosen
    ]
