"""Backups: DuckDB's EXPORT DATABASE and the documented restore, through the store and the CLI, and the
backups the running app takes of itself (the schedule, the pruning, Team review's button).

planner/store/backups.py writes and restores them; planner/backups.py says when and what they are called.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from datetime import date, datetime
from datetime import time as clock
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
from planner.store.backups import LOCK_FILE
from tests.conftest import ROOT, open_store

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
    assert schedule == backups.BackupSchedule(Path("/srv/b"), clock(2, 30), 7)
    with pytest.raises(ValueError, match="BACKPLAN_BACKUP_AT is '25:00'"):
        backups.schedule_from_env({"BACKPLAN_BACKUP_DIR": "/srv/b", "BACKPLAN_BACKUP_AT": "25:00"})
    with pytest.raises(ValueError, match="BACKPLAN_BACKUP_KEEP_DAYS is '0'"):
        backups.schedule_from_env({"BACKPLAN_BACKUP_DIR": "/srv/b", "BACKPLAN_BACKUP_KEEP_DAYS": "0"})


def test_the_next_run_is_later_today_or_tomorrow() -> None:
    assert backups.next_run(datetime(2026, 11, 22, 1, 0), clock(2, 30)) == datetime(2026, 11, 22, 2, 30)
    assert backups.next_run(datetime(2026, 11, 22, 2, 30), clock(2, 30)) == datetime(2026, 11, 23, 2, 30)


def test_a_backup_is_taken_live_and_old_ones_are_pruned_but_nothing_else(tmp_path: Path, database: Path) -> None:
    folder = tmp_path / "backups"
    for name in ("2026-09-01T023000", "2026-11-20T023000"):  # older than 30 days: pruned; recent: kept
        (folder / name).mkdir(parents=True)
        (folder / name / backups.MANIFEST).write_text("{}")  # complete backups, as far as pruning is concerned
    (folder / "notes").mkdir()  # not a backup: never touched
    with open_store(database) as con:
        store.add_rep(con, SYSTEM, "Ana Lima", "East", "rep", "ana@acme.test")
        made = store.take_backup(con, SYSTEM, backups.BackupSchedule(folder), datetime(2026, 11, 22, 2, 30))
    assert made == folder / "2026-11-22T023000"
    shown = sorted(p.name for p in folder.iterdir() if p.name != LOCK_FILE)  # the lock stays, hidden
    assert shown == ["2026-11-20T023000", "2026-11-22T023000", "notes"]
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


# --------------------------------------------------------------------------- backups that are backups

BACKUP_WRITER = """
import sys
from datetime import datetime
from pathlib import Path

from planner import backups, store
from planner.access import SYSTEM

con = store.connect(sys.argv[1])
print("started", flush=True)
store.take_backup(con, SYSTEM, backups.BackupSchedule(Path(sys.argv[2])), datetime.fromisoformat(sys.argv[3]))
print("done", flush=True)
"""
BIG_DEALS = 1_000_000


@pytest.fixture(scope="module")
def big_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Backplan database with a million-deal calibration profile: its backup takes a second or two."""
    path = tmp_path_factory.mktemp("big") / "big.duckdb"
    con = store.connect(path)
    try:
        rep = store.add_rep(con, SYSTEM, "Ana Lima", "East")
        store.save_plan(con, SYSTEM, rep, "FY2027", INPUTS)
        con.execute("SET enable_progress_bar = false")
        con.execute(
            "INSERT INTO profiles (id, name, source_file, result, rows_read, rows_used, rows_bad)"
            " VALUES (1, 'big', 'crm.csv', '{}', ?, ?, 0)",
            [BIG_DEALS, BIG_DEALS],
        )
        con.execute(
            "INSERT INTO deals SELECT 1, 'D' || i, 'Owner ' || (i % 500), 'Account ' || (i % 9000), 'Won', 'won',"
            " (i % 997) * 10.0, DATE '2026-01-01' + (i % 300)::INTEGER, DATE '2026-06-01' FROM range(?) t(i)",
            [BIG_DEALS],
        )
    finally:
        con.close()
    return path


def kill_during_backup(database: Path, folder: Path, now: datetime, tmp_path: Path) -> bool:
    """Start a process taking a backup of ``database`` into ``folder`` and SIGKILL it while it writes.

    Returns True if it was killed before it finished (it may, rarely, finish first).
    """
    script = tmp_path / "backup_writer.py"
    script.write_text(BACKUP_WRITER)
    before = set(folder.iterdir())
    child = subprocess.Popen(
        [sys.executable, str(script), str(database), str(folder), now.isoformat()],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "started"
        deadline = time.monotonic() + 60
        while not set(folder.iterdir()) - before:  # the export has begun writing
            assert child.poll() is None, child.stderr.read() if child.stderr else ""
            assert time.monotonic() < deadline, "the backup never started writing"
            time.sleep(0.01)
        time.sleep(random.uniform(0.0, 0.5))  # somewhere inside the export, the checksums or the rename
        killed = child.poll() is None  # poll() reaps a finished child, whose pid may then be gone
        if killed:
            os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    return killed


def test_a_backup_killed_half_way_is_never_listed_and_the_latest_complete_one_restores(
    big_database: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "backups"
    first = datetime(2026, 11, 20, 2, 30)
    with open_store(big_database) as con:
        store.take_backup(con, SYSTEM, backups.BackupSchedule(folder), first)
    killed = 0
    for day in (21, 22, 23):
        killed += kill_during_backup(big_database, folder, datetime(2026, 11, day, 2, 30), tmp_path)
        listed = backups.list_backups(folder)
        assert listed[-1] == "2026-11-20T023000"
        for name in listed:  # whatever is listed is whole
            assert backups.is_complete(folder / name)
    assert killed >= 2, "the backups finished before they could be killed: make the database bigger"
    latest = folder / backups.list_backups(folder)[0]
    restored = store.restore(latest, tmp_path / "restored.duckdb")
    with open_store(restored) as con:
        assert con.execute("SELECT count(*) FROM deals").fetchone() == (BIG_DEALS,)
        assert [p.name for p in store.list_plans(con)] == ["FY2027"]
    # The next backup clears what the killed ones left behind, and only that.
    (folder / "notes").mkdir()
    with open_store(big_database) as con:
        store.take_backup(con, SYSTEM, backups.BackupSchedule(folder), datetime(2026, 11, 24, 2, 30))
    assert not [p.name for p in folder.iterdir() if backups.is_partial(p.name)]
    assert (folder / "notes").is_dir() and backups.list_backups(folder)[0] == "2026-11-24T023000"


def test_a_backup_folder_without_its_manifest_is_neither_listed_nor_pruned(con, tmp_path: Path) -> None:
    folder = tmp_path / "backups"
    store.take_backup(con, SYSTEM, backups.BackupSchedule(folder), datetime(2026, 9, 1, 2, 30))
    (folder / "2026-09-02T023000").mkdir()  # what a killed backup used to leave: a name, half the files
    (folder / "2026-09-02T023000" / "schema.sql").write_text("CREATE TABLE reps (id INTEGER);")
    assert backups.list_backups(folder) == ["2026-09-01T023000"]
    store.take_backup(con, SYSTEM, backups.BackupSchedule(folder, keep_days=30), datetime(2026, 11, 22, 2, 30))
    assert backups.list_backups(folder) == ["2026-11-22T023000"]  # the old complete one pruned
    assert (folder / "2026-09-02T023000").is_dir()  # the unknown one left alone


def test_two_backups_at_once_into_one_folder_do_not_collide(database: Path, tmp_path: Path) -> None:
    folder = tmp_path / "backups"
    with open_store(database) as con:
        fill(con)
        outcomes: list[object] = []
        start = threading.Barrier(4)

        def take(minute: int) -> None:
            start.wait()
            try:
                outcomes.append(
                    store.take_backup(con, SYSTEM, backups.BackupSchedule(folder), datetime(2026, 11, 22, 2, minute))
                )
            except store.StoreError as error:
                outcomes.append(error)

        threads = [threading.Thread(target=take, args=(m % 2,)) for m in range(4)]  # two names, two each
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    made = [o for o in outcomes if isinstance(o, Path)]
    refused = [str(o) for o in outcomes if isinstance(o, store.StoreError)]
    assert len(made) + len(refused) == 4 and made
    assert all("backup" in r for r in refused), refused
    assert sorted(backups.list_backups(folder)) == sorted({p.name for p in made})
    assert not [p.name for p in folder.iterdir() if backups.is_partial(p.name)]
    for path in made:
        with open_store(store.restore(path, tmp_path / f"{path.name}.duckdb")) as again:
            assert "Ana O'Neil" in [r.name for r in store.list_reps(again)]


def test_a_damaged_backup_is_refused_on_restore_naming_the_file(con, tmp_path: Path) -> None:
    fill(con)
    folder = store.backup(con, SYSTEM, tmp_path / "backup")
    manifest = json.loads((folder / backups.MANIFEST).read_text())
    assert manifest["tables"]["plans"] == 1 and manifest["tables"]["deals"] == 3
    damaged = folder / "plans.parquet"
    damaged.write_bytes(damaged.read_bytes()[:-10])
    target = tmp_path / "restored.duckdb"
    with pytest.raises(store.StoreError, match=r"plans\.parquet"):
        store.restore(folder, target)
    assert not target.exists()
