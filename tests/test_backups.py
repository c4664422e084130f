"""Backups: DuckDB's EXPORT DATABASE and the documented restore, through the store and the CLI, and the
backups the running app takes of itself (the schedule, the pruning, Team review's button).

planner/store/backups.py writes and restores them; planner/backups.py says when and what they are called.
"""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from planner import backups, cli, store
from planner.access import SYSTEM
from planner.accounts import Action, Objective, Review, default_cycle
from planner.funnel import DEFAULT_STAGES, DEFAULT_WON_STAGE, PlanInputs
from planner.milestones import WeekActual
from tests.conftest import open_store

INPUTS = PlanInputs(
    target=385_000,
    deal_size=3_850,
    period_start=date(2027, 1, 4),
    period_end=date(2027, 6, 27),
    stages=DEFAULT_STAGES,
    won_stage=DEFAULT_WON_STAGE,
)


def fill(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """One of everything a team keeps: reps, plans, actuals, a calibration profile, an account plan."""
    rep = store.add_rep(con, SYSTEM, "Ana O'Neil", team="Mid-Market", role="rep")
    store.add_rep(con, SYSTEM, "Dana Manager", team="Mid-Market", role="manager")
    deals = pd.DataFrame(
        {
            "deal_id": ["D-1", "D-2", "D-3"],
            "owner": ["Ana O'Neil"] * 3,
            "account": ["Acme", "Acme", "Globex"],
            "stage": ["Closed Won", "Closed Lost", "Proposal"],
            "outcome": ["won", "lost", "open"],
            "amount": [12_500.5, 3_000.0, None],
            "created": [date(2026, 1, 5), date(2026, 2, 1), date(2026, 3, 1)],
            "closed": [date(2026, 3, 1), date(2026, 4, 2), None],
        }
    )
    profile = store.save_profile(
        con,
        SYSTEM,
        "2026 deals",
        "crm.csv",
        {"seasonality": [1 / 12] * 12, "note": "é ✓"},
        deals,
        rows_read=4,
        rows_bad=1,
    )
    plan = store.save_plan(con, SYSTEM, rep, "H1 2027", INPUTS, currency="EUR", milestone_custom=(), profile_id=profile)
    store.save_actuals(
        con,
        SYSTEM,
        plan,
        [
            WeekActual(date(2027, 1, 4), 9_999.99, 2, {"Meetings": 7}),
            WeekActual(date(2027, 1, 11), 0.0, 0, {}),
        ],
    )
    account = store.add_account(con, SYSTEM, "Acme", date(2027, 1, 1), date(2027, 12, 31), owner_rep_id=rep)
    goal = store.add_goal(con, SYSTEM, account, "roadmap to revenue", "Expand into the data team")
    objective = store.add_objective(
        con,
        SYSTEM,
        Objective(0, goal, "Win the data team", "revenue", 120_000, 0, "Budget set", date(2027, 6, 30), True),
    )
    store.add_action(con, SYSTEM, Action(0, account, "Map the buying group", objective, "Ana O'Neil", date(2027, 2, 1)))
    store.save_cycle(con, SYSTEM, account, 2027, default_cycle(2027, 1, "Ana O'Neil"))
    store.add_review(con, SYSTEM, Review(0, account, date(2027, 2, 1), "Dana", "Raised the target", "CFO on board"))
    return {"rep": rep, "plan": plan, "profile": profile, "account": account}


def everything(con: duckdb.DuckDBPyConnection, ids: dict[str, int]) -> dict[str, object]:
    """What the pages would show, read back through the store."""
    return {
        "reps": store.list_reps(con),
        "plans": store.list_plans(con),
        "plan": store.get_plan(con, ids["plan"]),
        "milestones": store.get_milestones(con, ids["plan"]),
        "actuals": store.get_actuals(con, ids["plan"]),
        "profiles": store.list_profiles(con),
        "profile": store.get_profile(con, ids["profile"]),
        "account plans": store.list_account_plans(con),
        "cycle": store.get_cycle(con, ids["account"], 2027),
        "crm accounts": store.crm_accounts(con),
    }


@pytest.fixture
def con(database: Path):
    connection = store.connect(database)
    yield connection
    connection.close()


def test_a_backup_restores_every_plan_actual_profile_and_account_plan(con, tmp_path: Path) -> None:
    ids = fill(con)
    before = everything(con, ids)

    folder = store.backup(con, SYSTEM, tmp_path / "backups" / "2026-11-22")
    restored = store.restore(folder, tmp_path / "restored" / "backplan.duckdb")

    again = store.connect(restored)
    try:
        assert everything(again, ids) == before
        assert store.schema_version(again) == store.LATEST_VERSION
        # New rows after a restore get new ids, not ones already taken.
        new_rep = store.add_rep(again, SYSTEM, "Eve New")
        assert new_rep not in {r.id for r in before["reps"]}
        new_plan = store.save_plan(again, SYSTEM, new_rep, "Q3 2027", INPUTS)
        assert new_plan != ids["plan"]
    finally:
        again.close()


def test_backup_and_restore_from_the_command_line(con, database: Path, tmp_path: Path, capsys) -> None:
    ids = fill(con)
    before = everything(con, ids)
    con.close()
    folder = tmp_path / "it's a backup"  # a quote in the path must not break the SQL

    assert cli.main(["backup", str(folder), "--db", str(database)]) == 0
    assert f"to {folder}" in capsys.readouterr().out
    target = tmp_path / "restored.duckdb"
    assert cli.main(["restore", str(folder), "--to", str(target)]) == 0
    assert f"BACKPLAN_DB={target}" in capsys.readouterr().out

    again = store.connect(target)
    try:
        assert everything(again, ids) == before
    finally:
        again.close()


def test_a_backup_never_writes_into_a_folder_that_holds_files(con, tmp_path: Path) -> None:
    folder = tmp_path / "used"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep me")
    with pytest.raises(store.StoreError, match="not an empty folder"):
        store.backup(con, SYSTEM, folder)
    assert [p.name for p in folder.iterdir()] == ["notes.txt"]


def test_a_restore_never_overwrites_a_database(con, tmp_path: Path) -> None:
    fill(con)
    folder = store.backup(con, SYSTEM, tmp_path / "backup")
    existing = tmp_path / "live.duckdb"
    existing.write_bytes(b"precious")
    with pytest.raises(store.StoreError, match="already exists"):
        store.restore(folder, existing)
    assert existing.read_bytes() == b"precious"


def test_restoring_a_folder_that_is_not_a_backup_says_so_in_one_line(tmp_path: Path, capsys) -> None:
    (tmp_path / "photos").mkdir()
    target = tmp_path / "new.duckdb"

    assert_exit = pytest.raises(SystemExit)
    with assert_exit as stopped:
        cli.main(["restore", str(tmp_path / "photos"), "--to", str(target)])
    assert stopped.value.code == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is not a Backplan backup" in err and "Traceback" not in err
    assert not target.exists()


def test_backup_into_an_unusable_path_is_a_clear_message(con, tmp_path: Path) -> None:
    with pytest.raises(store.StoreError, match="plain folder name"):
        store.backup(con, SYSTEM, tmp_path / "line\nbreak")


# --------------------------------------------------------------------------- the app's own backups


def test_the_schedule_comes_from_the_environment_and_bad_values_are_named() -> None:
    assert backups.schedule_from_env({}) is None
    schedule = backups.schedule_from_env({"BACKPLAN_BACKUP_DIR": "/srv/b", "BACKPLAN_BACKUP_KEEP_DAYS": "7"})
    assert schedule == backups.BackupSchedule(Path("/srv/b"), time(2, 30), 7)
    with pytest.raises(ValueError, match="BACKPLAN_BACKUP_AT is '25:00'"):
        backups.schedule_from_env({"BACKPLAN_BACKUP_DIR": "/srv/b", "BACKPLAN_BACKUP_AT": "25:00"})
    with pytest.raises(ValueError, match="BACKPLAN_BACKUP_KEEP_DAYS is '0'"):
        backups.schedule_from_env({"BACKPLAN_BACKUP_DIR": "/srv/b", "BACKPLAN_BACKUP_KEEP_DAYS": "0"})


def test_the_next_run_is_later_today_or_tomorrow() -> None:
    assert backups.next_run(datetime(2026, 11, 22, 1, 0), time(2, 30)) == datetime(2026, 11, 22, 2, 30)
    assert backups.next_run(datetime(2026, 11, 22, 2, 30), time(2, 30)) == datetime(2026, 11, 23, 2, 30)


def test_a_backup_is_taken_live_and_old_ones_are_pruned_but_nothing_else(tmp_path: Path, database: Path) -> None:
    folder = tmp_path / "backups"
    (folder / "2026-09-01T023000").mkdir(parents=True)  # older than 30 days: pruned
    (folder / "2026-11-20T023000").mkdir()  # recent: kept
    (folder / "notes").mkdir()  # not a backup: never touched
    with open_store(database) as con:
        store.add_rep(con, SYSTEM, "Ana Lima", "East", "rep", "ana@acme.test")
        made = store.take_backup(con, SYSTEM, backups.BackupSchedule(folder), datetime(2026, 11, 22, 2, 30))
    assert made == folder / "2026-11-22T023000"
    assert sorted(p.name for p in folder.iterdir()) == ["2026-11-20T023000", "2026-11-22T023000", "notes"]
    assert backups.list_backups(folder) == ["2026-11-22T023000", "2026-11-20T023000"]
    restored = store.restore(made, tmp_path / "restored.duckdb")
    with open_store(restored) as con:
        assert [(r.name, r.email) for r in store.list_reps(con)] == [("Ana Lima", "ana@acme.test")]


def test_sales_ops_back_up_from_team_review_while_the_app_runs(
    app: AppTest, database: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BACKPLAN_BACKUP_DIR", str(tmp_path / "nightly"))
    with open_store(database) as con:
        store.add_rep(con, SYSTEM, "Ana Lima", "East")
    app.switch_page("pages/team.py").run()
    assert any("No backup there yet." in c.value for c in app.caption)
    app.button(key="btn.back_up_now").click().run()
    assert not app.exception, app.exception
    assert any(t.value.startswith("Backed up into") for t in app.toast)
    taken = backups.list_backups(tmp_path / "nightly")
    assert len(taken) == 1 and any(taken[0] in c.value for c in app.caption)
    with open_store(store.restore(tmp_path / "nightly" / taken[0], tmp_path / "r.duckdb")) as con:
        assert [r.name for r in store.list_reps(con)] == ["Ana Lima"]


def test_a_mistyped_backup_time_is_shown_to_sales_ops(
    app: AppTest, database: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BACKPLAN_BACKUP_DIR", str(tmp_path / "nightly"))
    monkeypatch.setenv("BACKPLAN_BACKUP_AT", "half past two")
    with open_store(database) as con:
        store.add_rep(con, SYSTEM, "Ana Lima", "East")
    app.switch_page("pages/team.py").run()
    assert not app.exception, app.exception
    said = [w.value for w in app.warning if w.value.startswith("Daily backups are off:")]
    assert len(said) == 1 and "BACKUP\\_AT is 'half past two'" in said[0]  # Markdown-escaped underscores
