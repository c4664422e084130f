"""The store against a real DuckDB file: round trips, migrations, and writes that fail whole."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from planner import store
from planner.access import SYSTEM
from planner.choices import PlanChoiceError
from planner.funnel import PlanInputs, Stage
from planner.milestones import MilestoneError
from planner.store import WeekActual

#: Every test here runs on DuckDB and on PostgreSQL (tests/backends.py).
pytestmark = pytest.mark.both_backends

INPUTS = PlanInputs(
    target=150_000,
    deal_size=7_500,
    period_start=date(2026, 10, 1),
    period_end=date(2026, 12, 31),
    stages=(Stage("Calls", 4.0, 3), Stage("Meetings", 2.5, 10), Stage("Proposals", 2.0, 21)),
    won_stage="Won",
    holiday_weeks=(date(2026, 12, 21),),
    coverage_ratio=3.5,
)


@pytest.fixture
def db_path(database: store.Target) -> store.Target:
    """The test's database: a DuckDB file, or a PostgreSQL database's URL."""
    return database


@pytest.fixture
def con(db_path: Path) -> duckdb.DuckDBPyConnection:
    connection = store.connect(db_path)
    yield connection
    connection.close()


@pytest.mark.duckdb_only
def test_a_new_file_is_created_with_the_latest_schema(db_path: Path) -> None:
    assert not db_path.exists()
    con = store.connect(db_path)
    assert db_path.exists()
    assert store.schema_version(con) == store.LATEST_VERSION
    assert store.is_empty(con)
    assert store.migrate(con) == []  # nothing left to apply
    con.close()


def test_a_plan_reopens_exactly_as_saved_after_a_restart(db_path: Path) -> None:
    con = store.connect(db_path)
    rep = store.add_rep(con, SYSTEM, "Ana Lima", team="Mid-Market")
    plan_id = store.save_plan(
        con, SYSTEM, rep, "Q4 2026", INPUTS, currency="EUR", milestone_shape="back-loaded", cadence="weekly"
    )
    store.save_actuals(con, SYSTEM, plan_id, [WeekActual(date(2026, 10, 5), 12_345.5, 2, {"Calls": 40, "Meetings": 9})])
    con.close()

    reopened = store.connect(db_path)
    plan = store.get_plan(reopened, plan_id)
    assert plan is not None
    assert plan.inputs == INPUTS
    assert (plan.rep_id, plan.name, plan.currency, plan.milestone_shape, plan.cadence) == (
        rep,
        "Q4 2026",
        "EUR",
        "back-loaded",
        "weekly",
    )
    milestones = store.get_milestones(reopened, plan_id)
    assert milestones[-1].due == date(2026, 12, 31) and milestones[-1].cumulative == 150_000
    assert [m.cumulative for m in milestones] == sorted(m.cumulative for m in milestones)
    assert store.get_actuals(reopened, plan_id) == [
        WeekActual(date(2026, 10, 5), 12_345.5, 2, {"Calls": 40, "Meetings": 9})
    ]
    assert [p.name for p in store.list_plans(reopened, rep)] == ["Q4 2026"]
    reopened.close()


def test_editing_a_week_replaces_it(con: duckdb.DuckDBPyConnection) -> None:
    plan_id = store.save_plan(con, SYSTEM, store.add_rep(con, SYSTEM, "Ben"), "Q4", INPUTS)
    store.save_actuals(con, SYSTEM, plan_id, [WeekActual(date(2026, 10, 5), 1_000, 1, {"Calls": 5})])
    store.save_actuals(con, SYSTEM, plan_id, [WeekActual(date(2026, 10, 5), 2_000, 0, {})])
    assert store.get_actuals(con, plan_id) == [WeekActual(date(2026, 10, 5), 2_000, 0, {})]


def test_saving_over_a_plan_rebuilds_its_milestones(con: duckdb.DuckDBPyConnection) -> None:
    rep = store.add_rep(con, SYSTEM, "Chloe")
    plan_id = store.save_plan(con, SYSTEM, rep, "Q4", INPUTS, cadence="weekly")
    bigger = PlanInputs(**{**{f: getattr(INPUTS, f) for f in INPUTS.__slots__}, "target": 300_000})
    assert store.save_plan(con, SYSTEM, rep, "Q4", bigger, cadence="monthly", plan_id=plan_id) == plan_id
    milestones = store.get_milestones(con, plan_id)
    assert [m.due for m in milestones] == [date(2026, 10, 31), date(2026, 11, 30), date(2026, 12, 31)]
    assert milestones[-1].cumulative == 300_000


def test_custom_milestones_survive_a_restart(db_path: Path) -> None:
    con = store.connect(db_path)
    december = PlanInputs(50_000, 5_000, date(2026, 12, 1), date(2026, 12, 28))
    plan_id = store.save_plan(
        con,
        SYSTEM,
        store.add_rep(con, SYSTEM, "Dev"),
        "December",
        december,
        milestone_shape="custom",
        milestone_custom=[42_000, 30_000, 20_000],
    )
    con.close()
    con = store.connect(db_path)
    assert [m.cumulative for m in store.get_milestones(con, plan_id)] == [20_000, 30_000, 42_000, 50_000]
    assert store.get_plan(con, plan_id).milestone_custom == (42_000, 30_000, 20_000)
    con.close()


def test_duplicate_copies_the_plan_but_not_its_actuals(con: duckdb.DuckDBPyConnection) -> None:
    rep = store.add_rep(con, SYSTEM, "Eve")
    plan_id = store.save_plan(con, SYSTEM, rep, "Q4", INPUTS)
    store.save_actuals(con, SYSTEM, plan_id, [WeekActual(date(2026, 10, 5), 1_000)])
    copy_id = store.duplicate_plan(con, SYSTEM, plan_id, "Q4 stretch")
    assert store.get_plan(con, copy_id).inputs == INPUTS
    assert store.get_milestones(con, copy_id) == store.get_milestones(con, plan_id)
    assert store.get_actuals(con, copy_id) == []


def test_delete_removes_the_plan_with_its_milestones_and_actuals(con: duckdb.DuckDBPyConnection) -> None:
    plan_id = store.save_plan(con, SYSTEM, store.add_rep(con, SYSTEM, "Finn"), "Q4", INPUTS)
    store.save_actuals(con, SYSTEM, plan_id, [WeekActual(date(2026, 10, 5), 1_000)])
    store.delete_plan(con, SYSTEM, plan_id)
    assert store.get_plan(con, plan_id) is None
    assert store.get_milestones(con, plan_id) == [] and store.get_actuals(con, plan_id) == []


def test_names_a_rep_already_uses_are_refused_in_words(con: duckdb.DuckDBPyConnection) -> None:
    rep = store.add_rep(con, SYSTEM, "Gia")
    store.save_plan(con, SYSTEM, rep, "Q4", INPUTS)
    with pytest.raises(store.StoreError, match="already has a plan called “Q4”"):
        store.save_plan(con, SYSTEM, rep, "Q4", INPUTS)
    with pytest.raises(store.StoreError, match="already a rep called “Gia”"):
        store.add_rep(con, SYSTEM, "Gia")
    with pytest.raises(store.StoreError, match="Give the plan a name"):
        store.save_plan(con, SYSTEM, rep, "  ", INPUTS)


# --------------------------------------------------------------------------- failures leave nothing


def test_a_plan_whose_milestones_fail_leaves_nothing_behind(con: duckdb.DuckDBPyConnection) -> None:
    december = PlanInputs(50_000, 5_000, date(2026, 12, 1), date(2026, 12, 28))
    rep = store.add_rep(con, SYSTEM, "Hal")
    with pytest.raises(MilestoneError):
        store.save_plan(
            con, SYSTEM, rep, "Bad", december, milestone_shape="custom", milestone_custom=[42_000, 45_000, 20_000]
        )
    assert store.list_plans(con) == []
    assert store.get_milestones(con, 1) == []


def test_a_batch_of_actuals_with_one_bad_row_writes_none_of_it(con: duckdb.DuckDBPyConnection) -> None:
    plan_id = store.save_plan(con, SYSTEM, store.add_rep(con, SYSTEM, "Ivy"), "Q4", INPUTS)
    good = WeekActual(date(2026, 10, 5), 1_000)
    bad = WeekActual(date(2026, 10, 12), float("nan"), deals_won=2**40)  # deals_won overflows INTEGER
    with pytest.raises((duckdb.Error, store.StoreError)):
        store.save_actuals(con, SYSTEM, plan_id, [good, bad])
    assert store.get_actuals(con, plan_id) == []


def test_an_update_to_a_deleted_plan_is_refused_and_changes_nothing(con: duckdb.DuckDBPyConnection) -> None:
    rep = store.add_rep(con, SYSTEM, "Jo")
    with pytest.raises(store.StoreError, match="no longer exists"):
        store.save_plan(con, SYSTEM, rep, "Ghost", INPUTS, plan_id=999)
    assert store.list_plans(con) == []


# --------------------------------------------------------------------------- migrations


@pytest.mark.duckdb_only
@pytest.mark.duckdb_only
def test_an_older_file_is_upgraded_on_open_and_keeps_its_data(db_path: Path) -> None:
    old = duckdb.connect(str(db_path))
    assert store.migrate(old, upto=1) == [1]
    # A plan as version 1 wrote it, before plans had a cadence or custom checkpoints.
    old.execute("INSERT INTO reps (name, team) VALUES ('Kai', 'Enterprise')")
    old.execute(
        "INSERT INTO plans (rep_id, name, target, period_start, period_end, avg_deal_size, funnel, won_stage)"
        " VALUES (1, 'Old plan', 90000, DATE '2026-10-01', DATE '2026-12-31', 9000,"
        ' \'[{"name": "Meetings", "ratio": 3, "lag_days": 14}]\', \'Won\')'
    )
    old.close()

    upgraded = store.connect(db_path)
    assert store.schema_version(upgraded) == store.LATEST_VERSION
    plan = store.get_plan(upgraded, 1)
    assert plan is not None and plan.name == "Old plan"
    assert plan.cadence == "auto" and plan.milestone_custom == ()
    assert plan.inputs.stages == (Stage("Meetings", 3.0, 14),)
    upgraded.close()


def test_a_file_from_a_newer_backplan_is_refused_not_guessed_at(db_path: Path) -> None:
    con = store.connect(db_path)
    con.execute("INSERT INTO schema_migrations (version, description) VALUES (99, 'from the future')")
    con.close()
    with pytest.raises(store.StoreError, match="newer than this Backplan"):
        store.connect(db_path)


@pytest.mark.duckdb_only
def test_the_database_path_comes_from_backplan_db(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("BACKPLAN_DB", str(tmp_path / "team.duckdb"))
    assert store.default_path() == tmp_path / "team.duckdb"
    monkeypatch.delenv("BACKPLAN_DB")
    assert store.default_path().parts[-2:] == ("data", "backplan.duckdb")


# --------------------------------------------------------------------------- demo data


def test_demo_data_fills_an_empty_database_in_one_go(con: duckdb.DuckDBPyConnection) -> None:
    from planner.demo import demo_team

    plan_ids = store.load_team(con, SYSTEM, demo_team(date(2026, 11, 22)))
    assert len(plan_ids) == 4
    assert {r.role for r in store.list_reps(con)} == {"rep", "manager"}
    first = store.get_actuals(con, plan_ids[0])
    assert len(first) == 8 and first[0].week_start == date(2026, 9, 28)
    assert store.get_milestones(con, plan_ids[0])[-1].cumulative == 180_000
    with pytest.raises(store.StoreError, match="already loaded — remove it first"):
        store.load_team(con, SYSTEM, demo_team(date(2026, 11, 22)))


@pytest.mark.duckdb_only
def test_demo_data_is_the_same_every_time() -> None:
    from planner.demo import demo_team

    first, second = demo_team(date(2026, 11, 22)), demo_team(date(2026, 11, 22))
    assert first == second
    assert [d for d, _ in first.snapshots] == [d for d, _ in second.snapshots]
    for (_, a), (_, b) in zip(first.snapshots, second.snapshots, strict=True):
        pd.testing.assert_frame_equal(a, b)


def test_a_plan_for_a_new_rep_adds_both_or_neither(con: duckdb.DuckDBPyConnection) -> None:
    plan_id = store.save_plan(con, SYSTEM, "Lena Ortiz", "Q4", INPUTS)
    assert [r.name for r in store.list_reps(con)] == ["Lena Ortiz"]
    assert store.get_plan(con, plan_id).rep_id == store.list_reps(con)[0].id
    december = PlanInputs(50_000, 5_000, date(2026, 12, 1), date(2026, 12, 28))
    with pytest.raises(MilestoneError):
        store.save_plan(
            con, SYSTEM, "Max Roy", "Bad", december, milestone_shape="custom", milestone_custom=[42_000, 45_000, 20_000]
        )
    assert [r.name for r in store.list_reps(con)] == ["Lena Ortiz"]  # no rep without the plan
    with pytest.raises(store.StoreError, match="already a rep called “Lena Ortiz”"):
        store.save_plan(con, SYSTEM, "Lena Ortiz", "Q1", INPUTS)


def test_a_sign_in_email_is_stored_lower_case_and_belongs_to_one_person_only(con) -> None:
    ana = store.add_rep(con, SYSTEM, "Ana Lima", "East", "rep", " Ana.Lima@Acme.test ")
    ben = store.add_rep(con, SYSTEM, "Ben Carter", "East")
    assert [r.email for r in store.list_reps(con)] == ["ana.lima@acme.test", ""]
    with pytest.raises(store.StoreError, match="already Ana Lima's sign-in"):
        store.update_rep(con, SYSTEM, ben, team="East", role="rep", email="ANA.LIMA@acme.test")
    with pytest.raises(store.StoreError, match="not an email address"):
        store.update_rep(con, SYSTEM, ben, team="East", role="rep", email="ben carter")
    store.update_rep(con, SYSTEM, ana, team="West", role="manager")  # no email given: hers is kept
    store.update_rep(con, SYSTEM, ben, team="East", role="rep", email="ben@acme.test")
    assert {r.name: (r.team, r.role, r.email) for r in store.list_reps(con)} == {
        "Ana Lima": ("West", "manager", "ana.lima@acme.test"),
        "Ben Carter": ("East", "rep", "ben@acme.test"),
    }
    store.update_rep(
        con, SYSTEM, ana, team="West", role="manager", email=""
    )  # cleared: she can no longer sign in as herself
    assert [r.email for r in store.list_reps(con) if r.name == "Ana Lima"] == [""]


def test_plans_can_be_listed_for_the_reps_a_person_may_see(con) -> None:
    inputs = PlanInputs(100_000, 5_000, date(2027, 1, 1), date(2027, 3, 31))
    ana, ben = store.add_rep(con, SYSTEM, "Ana Lima"), store.add_rep(con, SYSTEM, "Ben Carter")
    store.save_plan(con, SYSTEM, ana, "Q1", inputs)
    store.save_plan(con, SYSTEM, ben, "Q1", inputs)
    assert [p.rep_name for p in store.list_plans(con, rep_ids={ana})] == ["Ana Lima"]
    assert store.list_plans(con, rep_ids=set()) == []
    assert len(store.list_plans(con, rep_ids=None)) == 2


def test_a_plan_keeps_the_chance_it_is_planned_for_and_the_shape_that_fills_its_checkpoints(con) -> None:
    inputs = PlanInputs(50_000, 5_000, date(2026, 12, 1), date(2026, 12, 31))
    plan_id = store.save_plan(
        con, SYSTEM, "Priya Shah", "December", inputs, milestone_shape="custom",
        milestone_custom=[42_000, 30_000, 20_000], milestone_fill="back-loaded",
    )  # fmt: skip
    saved = store.get_plan(con, plan_id)
    assert (saved.confidence, saved.milestone_fill) == (None, "back-loaded")
    steps = store.get_milestones(con, plan_id)
    assert [m.cumulative for m in steps][1:] == [20_000, 30_000, 42_000, 50_000]
    assert 0 < steps[0].cumulative < 20_000


@pytest.mark.parametrize(
    ("choice", "value", "named"),
    [
        ("currency", "[x](http://e.vil)", "currency"),
        ("milestone_shape", "<b>zigzag</b>", "milestone shape"),
        ("cadence", "hourly", "checkpoint cadence"),
        ("milestone_fill", "custom", "not typed"),
        ("confidence", 0.99, "expected case or a 50%, 80%, 90% chance"),
        ("profile_id", 404, "calibration profile 404"),
        ("confidence", 0.9, "planned from a calibration profile"),  # with no profile to plan it from
    ],
)
def test_a_plan_choice_outside_its_values_is_never_written(con, choice: str, value: object, named: str) -> None:
    inputs = PlanInputs(50_000, 5_000, date(2026, 12, 1), date(2026, 12, 31))
    with pytest.raises(PlanChoiceError, match=re.escape(named)):
        store.save_plan(con, SYSTEM, "Priya Shah", "December", inputs, **{choice: value})
    assert store.list_plans(con) == [] and store.list_reps(con) == []
