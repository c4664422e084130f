"""Writes keyed by identity and version: stale writes refused, stages with ids, plans bound to their rows.

Each test is a case seen lost before: a write made from an older copy applied over newer data, an
import landing under a plan deleted at the same moment, a renamed stage leaving its counts behind.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import date
from pathlib import Path

import duckdb
import pytest

from planner import store
from planner.access import OPEN, SYSTEM, Viewer
from planner.funnel import PlanInputs, Stage
from planner.store import ActualCell, WeekActual

#: Every test here runs on DuckDB and on PostgreSQL (tests/backends.py).
pytestmark = pytest.mark.both_backends

INPUTS = PlanInputs(
    180_000,
    6_000,
    date(2026, 10, 1),
    date(2026, 12, 31),
    stages=(Stage("Calls", 3.0, 5), Stage("Meetings", 2.5, 10), Stage("Proposals", 2.0, 21)),
)
WEEK = date(2026, 10, 12)


def person(rep_id: int | None, name: str) -> Viewer:
    return Viewer(f"{name.split()[0].lower()}@acme.test", name, "ops", rep_id, "East", None)  # may write any plan


@pytest.fixture
def con(database: store.Target) -> duckdb.DuckDBPyConnection:
    connection = store.connect(database)
    yield connection
    connection.close()


@pytest.fixture
def plan(con: duckdb.DuckDBPyConnection) -> int:
    return store.save_plan(con, SYSTEM, store.add_rep(con, SYSTEM, "Ana Lima"), "Q4", INPUTS)


def version_of(con: duckdb.DuckDBPyConnection, plan_id: int, week: date) -> int:
    return next((w.version for w in store.get_recorded_weeks(con, plan_id) if w.actual.week_start == week), 0)


# --------------------------------------------------------------------------- actuals, cell by cell


def test_a_cell_write_changes_that_cell_and_nothing_else_of_its_week(con, plan: int) -> None:
    store.save_actuals(con, SYSTEM, plan, [WeekActual(WEEK, 9_000, 2, {"Calls": 40, "Meetings": 9})])
    store.save_actual_cells(con, SYSTEM, plan, [ActualCell(WEEK, store.REVENUE_FIELD, 12_000)], {WEEK: 1})
    [week] = store.get_recorded_weeks(con, plan)
    assert week.actual == WeekActual(WEEK, 12_000, 2, {"Calls": 40, "Meetings": 9})
    assert week.version == 2


def test_a_cell_written_onto_a_week_changed_since_is_refused_with_what_the_week_holds_now(con, plan: int) -> None:
    ana, ben = store.list_reps(con)[0], store.add_rep(con, SYSTEM, "Ben Carter")
    store.save_actual_cells(con, person(ana.id, ana.name), plan, [ActualCell(WEEK, store.REVENUE_FIELD, 1_000)], {})
    read_by_a = version_of(con, plan, WEEK)
    store.save_actual_cells(
        con, person(ben, "Ben Carter"), plan, [ActualCell(WEEK, store.REVENUE_FIELD, 55_555)], {WEEK: read_by_a}
    )
    meetings = next(s.id for s in store.get_plan(con, plan).inputs.stages if s.name == "Meetings")

    with pytest.raises(store.StaleWeeks) as refused:
        store.save_actual_cells(con, SYSTEM, plan, [ActualCell(WEEK, meetings, 7)], {WEEK: read_by_a})
    assert "changed by Ben Carter at" in str(refused.value)
    [now] = refused.value.weeks
    assert (now.actual.revenue, now.changed_by) == (55_555, "Ben Carter")
    assert store.get_actuals(con, plan) == [WeekActual(WEEK, 55_555)]  # nothing of the stale write


def test_a_write_with_sign_in_off_says_another_session_changed_the_week(con, plan: int) -> None:
    store.save_actual_cells(con, OPEN, plan, [ActualCell(WEEK, store.WON_FIELD, 1)], {})
    with pytest.raises(store.StaleWeeks, match="changed in another session"):
        store.save_actual_cells(con, OPEN, plan, [ActualCell(WEEK, store.WON_FIELD, 2)], {})


def test_two_sessions_writing_one_new_week_at_once_get_one_write_and_one_refusal(con, plan: int) -> None:
    start, outcomes = threading.Barrier(2), []

    def write(value: float) -> None:
        start.wait()
        try:
            store.save_actual_cells(con, SYSTEM, plan, [ActualCell(WEEK, store.REVENUE_FIELD, value)], {})
            outcomes.append("saved")
        except store.StaleWeeks:
            outcomes.append("refused")

    threads = [threading.Thread(target=write, args=(v,)) for v in (1_000.0, 2_000.0)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["refused", "saved"]
    assert version_of(con, plan, WEEK) == 1


def test_a_cell_for_a_stage_removed_meanwhile_is_refused(con, plan: int) -> None:
    proposals = store.get_plan(con, plan).inputs.stages[2].id
    store.save_plan(
        con, SYSTEM, store.list_reps(con)[0].id, "Q4", replace(INPUTS, stages=INPUTS.stages[:2]), plan_id=plan
    )
    with pytest.raises(store.StoreError, match="no longer in it"):
        store.save_actual_cells(con, SYSTEM, plan, [ActualCell(WEEK, proposals, 3)], {})
    assert store.get_actuals(con, plan) == []


# --------------------------------------------------------------------------- plans: versions, deletes


def test_a_plan_saved_from_an_older_version_is_refused_and_the_newer_one_kept(con, plan: int) -> None:
    rep = store.list_reps(con)[0].id
    opened = store.get_plan(con, plan)
    raised = replace(INPUTS, target=444_000)
    store.save_plan(
        con, person(None, "Maya"), rep, "Q4", raised, plan_id=plan, expected_version=opened.version
    )  # sales ops, on no team

    with pytest.raises(store.StalePlan) as refused:
        store.save_plan(con, SYSTEM, rep, "Q4", INPUTS, plan_id=plan, expected_version=opened.version)
    current = refused.value.current
    assert current.inputs.target == 444_000 and current.changed_by == "Maya" and current.version == 2
    assert "changed by Maya at" in str(refused.value)
    assert store.get_plan(con, plan).inputs.target == 444_000
    assert ("Target", "$180,000", "$444,000") in store.plan_differences(opened, current)


def test_a_deleted_plan_is_gone_from_every_read_and_purged_in_two_steps(con, plan: int) -> None:
    store.save_actuals(con, SYSTEM, plan, [WeekActual(WEEK, 9_000, 2, {"Calls": 40})])
    store.delete_plan(con, SYSTEM, plan)
    assert store.get_plan(con, plan) is None
    assert store.list_plans(con) == [] and store.get_actuals(con, plan) == [] and store.get_milestones(con, plan) == []
    [ana] = store.list_reps(con)  # owner_plan takes the owner's rep id (a name only passed on DuckDB by luck)
    assert store.owner_plan(con, ana.id, INPUTS.period_start, INPUTS.period_end) is None  # nor on Accounts
    assert store.is_empty(con) is False  # the rep is still there
    with pytest.raises(store.StoreError, match="deleted"):
        store.save_actuals(con, SYSTEM, plan, [WeekActual(WEEK, 1)])
    with pytest.raises(store.StoreError, match="deleted"):
        store.save_actual_cells(con, SYSTEM, plan, [ActualCell(WEEK, store.REVENUE_FIELD, 1)], {WEEK: 1})
    # Its name is free again for the rep.
    store.save_plan(con, SYSTEM, store.list_reps(con)[0].id, "Q4", INPUTS)

    assert store.purge_deleted_plans(con, SYSTEM) == 1
    assert con.execute("SELECT count(*) FROM actuals WHERE plan_id = ?", [plan]).fetchone() == (0,)
    assert con.execute("SELECT count(*) FROM plans WHERE id = ?", [plan]).fetchone() == (0,)


def test_rows_under_a_plan_that_does_not_exist_are_refused_by_the_database(con, plan: int) -> None:
    for sql in (
        "INSERT INTO actuals (plan_id, week_start) VALUES (999, DATE '2026-10-05')",
        "INSERT INTO milestones (plan_id, due_date, cumulative_target) VALUES (999, DATE '2026-10-05', 1)",
    ):
        with pytest.raises(duckdb.ConstraintException, match="foreign key"):
            con.execute(sql)


# --------------------------------------------------------------------------- stages keep their identity


def test_a_renamed_stage_keeps_its_id_and_its_counts(con, plan: int) -> None:
    store.save_actuals(con, SYSTEM, plan, [WeekActual(WEEK, 0, 0, {"Meetings": 9})])
    stages = store.get_plan(con, plan).inputs.stages
    renamed = (stages[0], Stage("Discovery calls", 2.5, 10, stages[1].id), stages[2])
    inputs = replace(INPUTS, stages=renamed)
    store.save_plan(con, SYSTEM, store.list_reps(con)[0].id, "Q4", inputs, plan_id=plan)
    assert store.get_actuals(con, plan) == [WeekActual(WEEK, 0, 0, {"Discovery calls": 9})]
    assert store.get_plan(con, plan).inputs.stages[1].id == stages[1].id


def test_a_new_stage_never_takes_the_id_of_one_removed(con, plan: int) -> None:
    store.save_actuals(con, SYSTEM, plan, [WeekActual(WEEK, 0, 0, {"Proposals": 4})])
    stages = store.get_plan(con, plan).inputs.stages
    removed = replace(INPUTS, stages=stages[:2])
    store.save_plan(con, SYSTEM, store.list_reps(con)[0].id, "Q4", removed, plan_id=plan)
    added = replace(INPUTS, stages=(*stages[:2], Stage("Demos", 2)))
    store.save_plan(con, SYSTEM, store.list_reps(con)[0].id, "Q4", added, plan_id=plan)
    demos = store.get_plan(con, plan).inputs.stages[2]
    assert demos.id not in {s.id for s in stages}
    assert store.get_actuals(con, plan) == [WeekActual(WEEK, 0, 0, {})]  # Proposals' 4 are not the Demos'


def test_a_plan_saved_without_stage_ids_keeps_them_by_name(con, plan: int) -> None:
    before = [s.id for s in store.get_plan(con, plan).inputs.stages]
    store.save_plan(con, SYSTEM, store.list_reps(con)[0].id, "Q4", INPUTS, plan_id=plan)  # INPUTS' stages have no ids
    assert [s.id for s in store.get_plan(con, plan).inputs.stages] == before


# --------------------------------------------------------------------------- the migration


@pytest.mark.duckdb_only
@pytest.mark.duckdb_only
def test_the_upgrade_gives_stages_ids_moves_counts_to_them_and_drops_orphans(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    old = duckdb.connect(str(path))
    before = next(m for m in store.MIGRATIONS if "foreign keys" in m[1])[0] - 1
    store.migrate(old, upto=before)
    old.execute("INSERT INTO reps (name) VALUES ('Kai')")
    old.execute(
        "INSERT INTO plans (rep_id, name, target, period_start, period_end, avg_deal_size, funnel, won_stage)"
        " VALUES (1, 'Old plan', 90000, DATE '2026-10-01', DATE '2026-12-31', 9000,"
        ' \'[{"name": "Calls", "ratio": 3, "lag_days": 0}, {"name": "Meetings", "ratio": 2, "lag_days": 14}]\','
        " 'Won')"
    )
    old.execute(
        "INSERT INTO actuals (plan_id, week_start, revenue, deals_won, stage_counts) VALUES"
        ' (1, DATE \'2026-10-05\', 9000, 1, \'{"meetings ": 4, "Calls": 12, "Gone stage": 2}\'),'
        " (7, DATE '2026-10-05', 1, 1, '{}')"  # under a plan deleted long ago
    )
    columns = {
        r[0]
        for r in old.execute("SELECT column_name FROM information_schema.columns WHERE table_name = 'plans'").fetchall()
    }
    old.close()

    con = store.connect(path)
    assert columns <= {
        r[0]
        for r in con.execute("SELECT column_name FROM information_schema.columns WHERE table_name = 'plans'").fetchall()
    }
    plan = store.get_plan(con, 1)
    assert [s.name for s in plan.inputs.stages] == ["Calls", "Meetings"] and None not in [
        s.id for s in plan.inputs.stages
    ]
    assert store.get_actuals(con, 1) == [WeekActual(date(2026, 10, 5), 9_000, 1, {"Calls": 12, "Meetings": 4})]
    assert con.execute("SELECT count(*) FROM actuals").fetchone() == (1,)
    assert "Gone stage" in con.execute("SELECT stage_counts FROM actuals").fetchone()[0]  # kept, hidden, as it was
    con.close()
