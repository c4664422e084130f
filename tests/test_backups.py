"""Backups the running app takes of itself: the schedule, the pruning, and Team review's button."""

from __future__ import annotations

from datetime import datetime, time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from planner import backups, store
from tests.conftest import open_store


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
        store.add_rep(con, "Ana Lima", "East", "rep", "ana@acme.test")
        made = store.take_backup(con, backups.BackupSchedule(folder), datetime(2026, 11, 22, 2, 30))
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
        store.add_rep(con, "Ana Lima", "East")
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
        store.add_rep(con, "Ana Lima", "East")
    app.switch_page("pages/team.py").run()
    assert not app.exception, app.exception
    said = [w.value for w in app.warning if w.value.startswith("Daily backups are off:")]
    assert len(said) == 1 and "BACKUP\\_AT is 'half past two'" in said[0]  # Markdown-escaped underscores
