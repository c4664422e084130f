"""Backup and restore of the whole database with DuckDB's ``EXPORT`` / ``IMPORT DATABASE``."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from shutil import rmtree

import duckdb

from planner.access import Viewer
from planner.backups import BackupSchedule, expired, folder_name, list_backups
from planner.store import StoreError, _open, migrate, schema_version
from planner.store.ownership import authorise

__all__ = ["BACKUP_FILES", "backup", "restore", "take_backup"]


#: What DuckDB's EXPORT DATABASE writes beside one Parquet file per table.
BACKUP_FILES = ("schema.sql", "load.sql")


def _sql_path(path: Path) -> str:
    """An absolute path as a SQL string literal: EXPORT and IMPORT DATABASE take no ``?`` parameters."""
    text = str(path.expanduser().resolve())
    if any(c in text for c in "\x00\n\r"):
        raise StoreError(f"{text!r} cannot be used as a backup folder: pick a plain folder name.")
    return "'" + text.replace("'", "''") + "'"


def backup(con: duckdb.DuckDBPyConnection, viewer: Viewer | None, folder: str | Path) -> Path:
    """Write the whole database to ``folder`` (new, or empty) with DuckDB's ``EXPORT DATABASE``; return it.

    The copy is one consistent snapshot (a single transaction), taken while
    sessions go on working: the schema and load scripts plus one Parquet file
    per table, sequences included. :func:`restore` reads it back.
    """
    authorise(viewer, lambda v: v.can_manage_people, "Only sales ops can back the database up.")
    target = Path(folder).expanduser()
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise StoreError(f"{target} is not an empty folder — back up into a new one, such as one named by the date.")
    quoted = _sql_path(target)
    target.mkdir(parents=True, exist_ok=True)
    cur = con.cursor()
    try:
        cur.execute(f"EXPORT DATABASE {quoted} (FORMAT parquet)")
    finally:
        cur.close()
    return target


def restore(folder: str | Path, new_db_path: str | Path) -> Path:
    """Build a new database file at ``new_db_path`` from a :func:`backup` folder; return its path.

    Never overwrites: the file must not exist yet (point ``BACKPLAN_DB`` at it
    afterwards). A backup from an older Backplan is brought up to date. Run
    only on backups you made: the folder's SQL scripts are executed as they are.
    """
    source = Path(folder).expanduser()
    missing = [name for name in BACKUP_FILES if not (source / name).is_file()]
    if missing:
        raise StoreError(f"{source} is not a Backplan backup: it has no {missing[0]}.")
    target = Path(new_db_path).expanduser()
    if target.exists():
        raise StoreError(f"{target} already exists — restore into a new file, then point BACKPLAN_DB at it.")
    quoted = _sql_path(source)
    target.parent.mkdir(parents=True, exist_ok=True)
    con = _open(target, read_only=False)
    try:
        con.execute(f"IMPORT DATABASE {quoted}")
        if schema_version(con) == 0:
            raise StoreError(f"{source} is a DuckDB export, but not of a Backplan database.")
        migrate(con)
    except BaseException:
        con.close()
        for leftover in (target, target.with_name(target.name + ".wal")):
            leftover.unlink(missing_ok=True)
        raise
    con.close()
    return target


def take_backup(con: duckdb.DuckDBPyConnection, viewer: Viewer | None, schedule: BackupSchedule, now: datetime) -> Path:
    """Back the database up into a new folder named by ``now``, then remove backups past their days."""
    target = backup(con, viewer, schedule.folder / folder_name(now))
    for name in expired(list_backups(schedule.folder), now, schedule.keep_days):
        rmtree(schedule.folder / name, ignore_errors=True)
    return target
