"""The database, for every page: this process's one connection, its daily backups, and cached reads.

The connection is a ``st.cache_resource``: one per server process, shared by
every session (each write takes its own cursor, see :mod:`planner.store`); on
PostgreSQL it is a pool. Beside it runs the one thread that backs it up daily
when ``BACKPLAN_BACKUP_DIR`` is set; it ends when the connection is released.
Cached reads are keyed by the store's data generation, which on PostgreSQL
is the database's own: a write on another server makes them read afresh.
"""

from __future__ import annotations

import dataclasses
import gc
import hashlib
import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import duckdb
import pandas as pd
import streamlit as st

from planner import backups, store
from planner.access import SYSTEM, Viewer
from planner.calibrate import Calibration, CalibrationError, Confidence, plan_confidence
from planner.forecast import (
    TEAM,
    Accuracy,
    TeamOutlook,
    accuracy_by_week,
    forecast_accuracy,
    headline_method,
    period_actuals,
    team_outlook,
)
from planner.funnel import PlanInputs, validate
from planner.milestones import bookings
from planner.team import (
    CurrencyView,
    ReviewInput,
    SnapshotDiff,
    TeamReview,
    TeamRollup,
    in_one_currency,
    slipped_deals,
    snapshot_diff,
    team_review,
)
from planner.team import team_rollup as _team_rollup

__all__ = [
    "BACKUP_THREAD",
    "WRITE_ERRORS",
    "TeamFigures",
    "TeamForecast",
    "backup_schedule",
    "calibration",
    "confidence",
    "database_target",
    "db",
    "deployment_settings",
    "failure",
    "freeze_start_up_heap",
    "pipeline_changes",
    "plan_forecast",
    "profiles",
    "record_projections",
    "reps",
    "saved_plans",
    "team_forecast",
    "team_rollup",
]

#: The name of the daily backup thread, one per server process.
BACKUP_THREAD = "backplan-daily-backup"

_log = logging.getLogger("backplan")


@dataclass(eq=False)
class _Database:
    """The connection, and the signal that stops its backup thread when the connection is released."""

    con: store.Connection
    released: threading.Event = field(default_factory=threading.Event)

    def release(self) -> None:
        self.released.set()
        self.con.close()


@st.cache_resource(show_spinner=False, max_entries=4, on_release=_Database.release)
def _database(path: str) -> _Database:
    database = _Database(store.connect(path if store.is_server_url(path) else Path(path)))
    _start_daily_backups(database)
    return database


def backup_schedule() -> tuple[backups.BackupSchedule, bool, str]:
    """Where backups go, whether they run daily, and what is wrong with the settings ("" when nothing).

    Without ``BACKPLAN_BACKUP_DIR`` they go to ``backups/`` beside the database, on demand only.
    """
    fallback = backups.BackupSchedule(store.default_path().parent / "backups")
    try:
        schedule = backups.schedule_from_env(dict(os.environ))
    except ValueError as error:
        return fallback, False, str(error)
    return (schedule, True, "") if schedule else (fallback, False, "")


def _start_daily_backups(database: _Database) -> None:
    """With ``BACKPLAN_BACKUP_DIR`` set, a thread beside the new connection backs it up every day."""
    schedule, daily, problem = backup_schedule()
    if problem:  # Team review's Backups section says it to sales ops too
        _log.error("Daily backups are off: %s", problem)
    if not daily:
        return

    def run() -> None:
        while True:
            now = datetime.now()
            if database.released.wait((backups.next_run(now, schedule.at) - now).total_seconds()):
                return  # the connection was released: a new one has its own thread
            try:
                store.take_backup(database.con, SYSTEM, schedule, datetime.now())
            except Exception:  # whatever it was, logged and tried again tomorrow: the thread must not die
                _log.exception("The daily backup into %s failed", schedule.folder)

    threading.Thread(target=run, name=BACKUP_THREAD, daemon=True).start()


def deployment_settings() -> dict:
    """The ``[backplan]`` section of the deployment's secrets (empty when there is none)."""
    section = st.secrets.get("backplan", {}) if st.secrets.load_if_toml_exists() else {}
    return dict(section) if hasattr(section, "keys") else {}


def database_target() -> store.Target:
    """``BACKPLAN_DB``, else the secrets' ``[backplan] database_url``, else ``data/backplan.duckdb``."""
    if os.environ.get("BACKPLAN_DB", "").strip():
        return store.default_target()
    try:
        url = str(deployment_settings().get("database_url", "")).strip()
    except Exception:  # an unreadable secrets file is logged by Streamlit; the default database still opens
        url = ""
    return url or store.default_target()


def _key() -> tuple[str, int]:
    """The database, and its data generation now: what every cached read is keyed by."""
    return str(database_target()), store.data_generation(db())


def db() -> store.Connection:
    """This process's one connection to the database; a page that cannot have it says why and stops."""
    target = database_target()
    try:
        return _database(str(target)).con
    except (store.StoreError, duckdb.Error, OSError) as error:
        st.error(
            f"Backplan could not open its database at `{store.describe(target)}`: {error}\n\n"
            "If another Backplan or the command line has it open for writing, close that and reload. "
            "Set BACKPLAN_DB to use another file.",
            icon=":material/database:",
        )
        st.stop()
        raise  # st.stop() raises; this keeps type checkers honest


_FREEZE = threading.Lock()
_frozen = False


def freeze_start_up_heap() -> bool:
    """Once per process, after its first run: keep what start-up made out of Python's full garbage collections.

    By then the heap holds pandas, Plotly, Streamlit and the planner, hundreds of thousands of objects
    that live as long as the process; every full collection walked all of them again (120-200 ms, the
    slow tail of a slider move). ``gc.freeze`` moves everything alive now into a generation the
    collector never scans; what reruns make is still collected as before (``bench/bench_load.py``'s
    soak shows memory flat). Returns whether this call froze it.
    """
    global _frozen
    with _FREEZE:
        if _frozen:
            return False
        gc.collect()  # what the first run left as garbage is freed, not frozen
        gc.freeze()
        _frozen = True
        return True


#: What a write can fail with that a page can explain: the store's refusals, and the database giving up
#: (PostgreSQL's errors come as DuckDB's: see planner.store.dialect).
WRITE_ERRORS = (store.StoreError, duckdb.Error)


def failure(error: Exception) -> str:
    """The words for a refused write: the store's and the planner's are written for users; DuckDB's are logged."""
    if not isinstance(error, duckdb.Error):
        return str(error)
    _log.error("A write failed: %s", error)
    return "The database could not take the change just now — try again."


# --------------------------------------------------------------------------- reads every rerun makes
# The Plan page lists saved plans, reps and profiles on every slider move. They change only when something
# writes: on DuckDB only this process can (its single-writer lock); on PostgreSQL any server or the command
# line, and the database's generation says so. So they are cached per store.data_generation().


@st.cache_data(max_entries=64, show_spinner=False)
def _reps(path: str, generation: int) -> list[store.Rep]:
    return store.list_reps(db())


@st.cache_data(max_entries=64, show_spinner=False)
def _plans(path: str, generation: int, rep_ids: tuple[int, ...] | None) -> list[store.PlanSummary]:
    return store.list_plans(db(), rep_ids=rep_ids)


@st.cache_data(max_entries=64, show_spinner=False)
def _profiles(path: str, generation: int) -> list[store.ProfileSummary]:
    return store.list_profiles(db())


def reps() -> list[store.Rep]:
    """Every rep on file (cached until the next write)."""
    return _reps(*_key())


def saved_plans(who: Viewer) -> list[store.PlanSummary]:
    """The saved plans ``who`` may see (cached until the next write)."""
    rep_ids = None if who.visible_rep_ids is None else tuple(sorted(who.visible_rep_ids))
    return _plans(*_key(), rep_ids)


def profiles() -> list[store.ProfileSummary]:
    """The saved calibration profiles (cached until the next write)."""
    return _profiles(*_key())


@st.cache_data(max_entries=16, show_spinner=False)
def _calibration(path: str, generation: int, profile_id: int) -> tuple[store.ProfileSummary, Calibration] | None:
    found = store.get_profile(db(), profile_id)
    return (found[0], Calibration.from_dict(found[1])) if found else None


def calibration(profile_id: int | None) -> tuple[store.ProfileSummary, Calibration] | None:
    """A saved profile's summary and calibration, or None (cached until the next write)."""
    if profile_id is None:
        return None
    return _calibration(*_key(), profile_id)


@st.cache_data(max_entries=64, show_spinner=False)
def _confidence(path: str, generation: int, profile_id: int, inputs: PlanInputs) -> Confidence | None:
    found = calibration(profile_id)
    try:
        return plan_confidence(found[1], inputs) if found else None
    except CalibrationError:
        return None


def confidence(profile_id: int | None, inputs: PlanInputs) -> Confidence | None:
    """How sure a plan is, from profile ``profile_id``'s sample sizes; None without a usable profile or valid inputs.

    20,000 simulated years take about 12 ms: a move that lands on a plan seen before skips them.
    """
    if profile_id is None or validate(inputs):
        return None
    return _confidence(*_key(), profile_id, inputs)


# --------------------------------------------------------------------------- Team review's rollups
# A team of 2,000 reps is thousands of rows to read and add up: done once per change of data, team, date and
# currency, and shared by every session (cache_resource: not copied on each use, so the pages only read them).


@dataclass(frozen=True, slots=True)
class TeamFigures:
    """Team review's figures, the snapshot they take the pipeline from, and a key for what they were converted with."""

    rollup: TeamRollup
    snapshot_date: date | None
    #: changes exactly when the reps' rates into the rollup's currency do (a short key for the pipeline diff's cache)
    rates_key: str


@st.cache_resource(max_entries=8, show_spinner="Adding up the team…")
def _rollup(path: str, generation: int, team: str, as_of: date, currency: str | None) -> TeamFigures:
    con = db()
    reps = store.review_inputs(con, team, as_of)
    snapshot_date = store.latest_snapshot_date(con, team, as_of)
    pipeline = store.get_snapshot(con, team, snapshot_date) if snapshot_date else None
    rates = {(r.from_currency, r.to_currency): r.rate for r in store.list_rates(con)}
    rollup = _team_rollup(reps, as_of, pipeline, currency, rates)
    key = hashlib.sha256(repr(sorted(rollup.view.owner_rates.items())).encode()).hexdigest()
    return TeamFigures(rollup, snapshot_date, key)


def team_rollup(team: str, as_of: date, currency: str | None = None) -> TeamFigures:
    """Team review's figures for ``team`` on ``as_of`` in ``currency`` (None: the one most of its plans are in);
    cached until the next write."""
    path, generation = _key()
    figures = _rollup(path, generation, team, as_of, None)
    if currency is None or currency == figures.rollup.view.currency:
        return figures  # one entry for the team's own currency, however it is asked for
    return _rollup(path, generation, team, as_of, currency)


@st.cache_resource(max_entries=8, show_spinner=False)
def _changes(
    path: str,
    generation: int,
    team: str,
    older: date,
    newer: date,
    period_end: date,
    rates_key: str,
    _owner_rates: Mapping[str, float | None],  # not hashed: rates_key stands for it
) -> tuple[SnapshotDiff, pd.DataFrame]:
    con = db()
    older_deals, newer_deals = store.snapshot_deals(con, team, older), store.snapshot_deals(con, team, newer)
    diff = snapshot_diff(older_deals, newer_deals, period_end, owner_rates=_owner_rates)
    return diff, slipped_deals(diff, store.slip_counts(con, team, newer))


def pipeline_changes(team: str, older: date, newer: date, figures: TeamFigures) -> tuple[SnapshotDiff, pd.DataFrame]:
    """What changed between two of ``team``'s snapshots, in the figures' currency and period, and the slipped
    deals; cached until the next write (a new "as of" day with the same period and rates computes nothing)."""
    rollup = figures.rollup
    path, generation = _key()
    return _changes(path, generation, team, older, newer, rollup.period[1], figures.rates_key, rollup.view.owner_rates)


# --------------------------------------------------------------------------- the forecast


@dataclass(frozen=True, slots=True)
class TeamForecast:
    """A team's forecast on a day, how accurate its past projections were, and the headline it leads with."""

    outlook: TeamOutlook
    accuracy: Accuracy
    #: forecast vs actual by snapshot date for the latest finished period (the team's), for the small chart
    by_week: pd.DataFrame
    #: the headline's method and why it is the one
    headline: tuple[str, str]
    #: currencies projections were recorded in, other than this forecast's: their accuracy shows in those
    other_currencies: tuple[str, ...]


def _profile(sources: store.ForecastSources) -> Calibration | None:
    return Calibration.from_dict(sources.profile_result) if sources.profile_result else None


def _outlook(team: str, view: CurrencyView, review: TeamReview, sources: store.ForecastSources) -> TeamOutlook:
    return team_outlook(
        team,
        view,
        review,
        sources.pipeline,
        _profile(sources),
        history=sources.history,
        slips=sources.slips,
        profile_name=sources.profile.name if sources.profile else "",
        profile_plans=sources.profile_plans,
        plans=sources.plans,
    )


@st.cache_resource(max_entries=8, show_spinner="Simulating the period…")
def _forecast(path: str, generation: int, team: str, as_of: date, currency: str | None) -> TeamForecast:
    figures = team_rollup(team, as_of, currency)
    con = db()
    sources = store.forecast_sources(con, team, as_of)
    rates = {(r.from_currency, r.to_currency): r.rate for r in store.list_rates(con)}
    outlook = _outlook(team, figures.rollup.view, figures.rollup.review, sources)
    shown_in = figures.rollup.view.currency
    made = sources.projections.get(shown_in, [])
    actuals = period_actuals(sources.finished, shown_in, rates)
    accuracy = forecast_accuracy(made, actuals)
    others = tuple(sorted(c for c in sources.projections if c != shown_in))
    return TeamForecast(
        outlook, accuracy, accuracy_by_week(made, actuals, TEAM), headline_method(outlook, accuracy), others
    )


def team_forecast(team: str, as_of: date, currency: str | None = None) -> TeamForecast:
    """Team review's forecast for ``team`` on ``as_of`` in ``currency`` (as :func:`team_rollup` takes it), with
    the accuracy of every projection recorded for the team; cached until the next write."""
    return _forecast(str(store.default_path()), store.data_generation(), team, as_of, currency)


def record_projections(viewer: Viewer | None, team: str, snapshot_date: date) -> int:
    """Record what Team review shows for ``team`` as of ``snapshot_date`` (just stored): each rep's and the team's
    run-rate, pipeline-weighted, P50 and commit, in the team's own currency; the store checks ``viewer`` may.
    A step of the snapshot's write callback, after its own check. Returns how many were recorded."""
    con = db()
    rollup = team_rollup(team, snapshot_date).rollup
    outlook = _outlook(team, rollup.view, rollup.review, store.forecast_sources(con, team, snapshot_date))
    return store.save_projections(con, viewer, team, snapshot_date, outlook.projections, rollup.view.currency)


@st.cache_resource(max_entries=16, show_spinner="Simulating the period…")
def _plan_forecast(path: str, generation: int, plan_id: int, as_of: date) -> TeamOutlook | None:
    con = db()
    saved = store.get_plan(con, plan_id)
    rep = next((r for r in store.list_reps(con) if saved is not None and r.id == saved.rep_id), None)
    if saved is None or rep is None:
        return None
    sources = store.forecast_sources(con, rep.team, as_of)
    # The plan's own profile, when it applies one; else the one its team's forecast reads (said so).
    found = store.get_profile(con, saved.profile_id) if saved.profile_id is not None else None
    if found is not None:
        sources = dataclasses.replace(sources, profile=found[0], profile_result=found[1], profile_plans=1)
    else:
        sources = dataclasses.replace(sources, profile_plans=0)
    pipeline = sources.pipeline
    if pipeline is not None:
        pipeline = pipeline[pipeline["owner"] == rep.name]
    weekly, daily = bookings(store.get_actuals(con, plan_id))
    steps = tuple(store.get_milestones(con, plan_id))
    mine = ReviewInput(rep.name, plan_id, saved.name, saved.inputs, steps, weekly, daily_revenue=daily,
                       currency=saved.currency)  # fmt: skip
    view = in_one_currency([mine], saved.currency, {})
    review = team_review(view.reps, as_of, pipeline)  # the rep's deals are in the plan's currency already
    return _outlook(rep.team, view, review, dataclasses.replace(sources, pipeline=pipeline, plans=1))


def plan_forecast(plan_id: int, as_of: date) -> TeamOutlook | None:
    """Track's forecast for one saved plan on ``as_of``: its rep's open deals in the latest snapshot of their
    team, with the plan's profile (else the team's); None when the plan is gone. Cached until the next write."""
    return _plan_forecast(str(store.default_path()), store.data_generation(), plan_id, as_of)
