"""Forecasts: every projection shown, recorded per rep and team at each snapshot date, and what a forecast reads.

A projection is recorded so that, once the period is over, Backplan can say how far each method
(run-rate, pipeline-weighted, P50, commit) was from what was booked (:mod:`planner.forecast`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

import duckdb
import pandas as pd

from planner.access import Viewer
from planner.forecast import METHODS, RecordedProjection
from planner.store import StoreError, _query, retry_conflicts, transaction
from planner.store.ownership import authorise
from planner.store.plans import review_inputs, team_plans
from planner.store.profiles import ProfileSummary, get_profile
from planner.store.snapshots import get_snapshot, latest_snapshot_date, slip_counts, stage_history
from planner.team import ReviewInput

__all__ = ["ForecastSources", "forecast_sources", "list_projections", "save_projections"]


def _write_projections(
    cur: duckdb.DuckDBPyConnection,
    team: str,
    as_of: date,
    projections: Sequence[RecordedProjection],
    currency: str,
) -> None:
    """Replace what ``team`` recorded on ``as_of`` with ``projections`` (all of that team and day)."""
    wrong = sorted({p.method for p in projections} - set(METHODS)) + sorted(
        {f"{p.team} on {p.as_of}" for p in projections if p.team != team or p.as_of != as_of}
    )
    if wrong:
        raise StoreError(f"Projections of {team} on {as_of} cannot hold {', '.join(wrong)}.")
    cur.execute("DELETE FROM projections WHERE team = ? AND as_of = ?", [team, as_of])
    if projections:
        cur.executemany(
            "INSERT INTO projections (team, rep, as_of, method, period_start, period_end, projected, currency)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [[team, p.rep, as_of, p.method, p.period_start, p.period_end, p.projected, currency] for p in projections],
        )


@retry_conflicts
def save_projections(
    con: duckdb.DuckDBPyConnection,
    viewer: Viewer | None,
    team: str,
    as_of: date,
    projections: Sequence[RecordedProjection],
    currency: str,
) -> int:
    """Record the projections shown for ``team`` on snapshot date ``as_of`` (replacing that day's), in one
    transaction; returns how many were recorded. Whoever may store the team's pipeline may record them."""
    with transaction(con) as cur:
        authorise(
            viewer, lambda v: v.can_review(team), "Only this team's manager or sales ops can record its forecast."
        )
        _write_projections(cur, team, as_of, projections, currency)
    return len(projections)


def list_projections(con: duckdb.DuckDBPyConnection, team: str) -> dict[str, list[RecordedProjection]]:
    """Every projection recorded for ``team`` by the currency its figures were in, oldest first."""
    rows = _query(
        con,
        "SELECT currency, team, rep, as_of, period_start, period_end, method, projected FROM projections"
        " WHERE team = ? ORDER BY as_of, rep, method",
        [team],
    )
    found: dict[str, list[RecordedProjection]] = {}
    for currency, *row in rows:
        found.setdefault(currency, []).append(RecordedProjection(*row))
    return found


@dataclass(frozen=True, slots=True)
class ForecastSources:
    """What a team's forecast reads from the database on a day, beside the review's own reads.

    ``profile`` is the calibration result as stored; ``profile_plans`` how many of the team's plans
    apply it (0: none applies a profile, and this is the newest one on file, the demo's aside). ``finished`` holds,
    for each period end of the recorded projections that has passed, the team's plans as of that
    day: what was booked in the period, for the accuracy table.
    """

    snapshot_date: date | None
    pipeline: pd.DataFrame | None = field(compare=False)
    history: pd.DataFrame | None = field(compare=False)
    slips: dict[str, int]
    profile: ProfileSummary | None
    profile_result: dict | None = field(compare=False)
    profile_plans: int
    plans: int
    #: by the currency the team's figures were in when they were recorded
    projections: dict[str, list[RecordedProjection]] = field(compare=False)
    finished: dict[date, list[ReviewInput]] = field(compare=False)


def forecast_sources(con: duckdb.DuckDBPyConnection, team: str, as_of: date) -> ForecastSources:
    """The latest snapshot up to ``as_of`` with the deals' stage history and slips, the profile the forecast
    takes its win rates from, and the recorded projections with what their finished periods booked."""
    snapshot_date = latest_snapshot_date(con, team, as_of)
    pipeline = history = None
    slips: dict[str, int] = {}
    if snapshot_date is not None:
        pipeline = get_snapshot(con, team, snapshot_date)
        history = stage_history(con, team, snapshot_date)
        slips = slip_counts(con, team, snapshot_date)
    # The profile most of the team's plans apply (ties: the newest); with none applied, the newest on file.
    chosen = team_plans(con, team, as_of)
    applied = Counter(plan.profile_id for _, plan in chosen if plan.profile_id is not None)
    profile = result = None
    used = 0
    for profile_id, count in sorted(applied.items(), key=lambda item: (-item[1], -item[0])):
        found = get_profile(con, profile_id)
        if found is not None:
            (profile, result), used = found, count
            break
    if profile is None:  # the newest a real team calibrated: never the demo's
        newest = _query(con, "SELECT id FROM profiles WHERE NOT demo ORDER BY created_at DESC, id DESC LIMIT 1")
        found = get_profile(con, int(newest[0][0])) if newest else None
        if found is not None:
            profile, result = found
    projections = list_projections(con, team)
    ends = sorted({p.period_end for made in projections.values() for p in made if p.period_end < as_of})
    finished = {end: review_inputs(con, team, end) for end in ends}
    return ForecastSources(
        snapshot_date, pipeline, history, slips, profile, result, used, len(chosen), projections, finished
    )
