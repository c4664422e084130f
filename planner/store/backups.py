"""Backup and restore of the whole database with DuckDB's ``EXPORT`` / ``IMPORT DATABASE``.

One folder format for both engines: a PostgreSQL database is backed up by way
of a DuckDB copy, and restored into one the same way, so a backup moves a team
between the two as well.

A backup is written into a hidden folder beside its final one, finished with a
manifest (each file's size and SHA-256, each table's rows: :data:`planner.backups.MANIFEST`)
and only then renamed into place, in one step the file system makes atomic. So a
process killed half-way leaves a hidden ``.NAME.partial-…`` folder, never a
folder that passes for a backup; the next backup into that folder removes it.
One backup at a time is written into a folder (a lock file beside the backups),
and a second one started meanwhile is refused in words. A restore checks every
file against the manifest first and every table's rows afterwards.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from shutil import rmtree

import duckdb

from planner.access import Viewer
from planner.backups import MANIFEST, BackupSchedule, expired, folder_name, is_partial, list_backups, partial_name
from planner.store import StoreError, Target, _open, connect, is_server_url, migrate, schema_version
from planner.store.dialect import PgConnection
from planner.store.ownership import authorise

try:  # POSIX; elsewhere the unique hidden names alone keep two backups apart
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["BACKUP_FILES", "LOCK_FILE", "backup", "restore", "take_backup"]


#: What DuckDB's EXPORT DATABASE writes beside one Parquet file per table.
BACKUP_FILES = ("schema.sql", "load.sql")
#: Held (flock) by the backup being written into a folder; lives beside the backups.
LOCK_FILE = ".backplan-backup.lock"
#: Bumped when the manifest's layout changes.
_MANIFEST_FORMAT = 1


def _sql_path(path: Path) -> str:
    """An absolute path as a SQL string literal: EXPORT and IMPORT DATABASE take no ``?`` parameters."""
    text = str(path.expanduser().resolve())
    if any(c in text for c in "\x00\n\r"):
        raise StoreError(f"{text!r} cannot be used as a backup folder: pick a plain folder name.")
    return "'" + text.replace("'", "''") + "'"


@contextmanager
def _one_backup_at_a_time(parent: Path) -> Iterator[None]:
    """Hold the folder's backup lock, or refuse at once: a backup is being written there now.

    ``flock`` is let go when its holder dies, even by SIGKILL, so a killed
    backup never blocks the next one.
    """
    if fcntl is None:  # pragma: no cover - Windows
        yield
        return
    fd = os.open(parent / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StoreError(
                f"Another backup is being written into {parent} right now — try again when it has finished."
            ) from None
        yield
    finally:
        os.close(fd)  # lets go of the lock


def _remove_leftovers(parent: Path) -> None:
    """Remove the hidden folders of backups killed while they wrote (called holding the folder's lock)."""
    if fcntl is None:  # pragma: no cover - without the lock, another backup's folder cannot be told apart
        return
    for entry in parent.iterdir():
        if entry.is_dir() and is_partial(entry.name):
            rmtree(entry, ignore_errors=True)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _manifest(cur: duckdb.DuckDBPyConnection, folder: Path, version: int) -> dict[str, object]:
    """Each exported file's size and checksum, and the rows each table's Parquet file holds."""
    files = sorted(p for p in folder.iterdir() if p.is_file())
    tables = {}
    for path in files:
        if path.suffix == ".parquet":
            row = cur.execute("SELECT count(*) FROM read_parquet(?)", [str(path)]).fetchone()
            tables[path.stem] = int(row[0]) if row else 0
    return {
        "backplan_backup": _MANIFEST_FORMAT,
        "taken_at": datetime.now().isoformat(timespec="seconds"),
        "schema_version": version,
        "tables": tables,
        "files": {p.name: {"bytes": p.stat().st_size, "sha256": _sha256(p)} for p in files},
    }


def _write_backup(con: duckdb.DuckDBPyConnection, temp: Path) -> None:
    """EXPORT DATABASE into ``temp``, then its manifest, everything flushed to disk."""
    cur = con.cursor()
    try:
        cur.execute(f"EXPORT DATABASE {_sql_path(temp)} (FORMAT parquet)")
        manifest = _manifest(cur, temp, schema_version(con))
    finally:
        cur.close()
    for path in temp.iterdir():
        _fsync(path)
    (temp / MANIFEST).write_text(json.dumps(manifest, indent=2))
    _fsync(temp / MANIFEST)
    _fsync(temp)


def backup(con: duckdb.DuckDBPyConnection, viewer: Viewer | None, folder: str | Path) -> Path:
    """Write the whole database to ``folder`` (new, or empty) with DuckDB's ``EXPORT DATABASE``; return it.

    The copy is one consistent snapshot (a single transaction), taken while
    sessions go on working: the schema and load scripts plus one Parquet file
    per table, sequences included, and the manifest. It appears at ``folder``
    whole or not at all. :func:`restore` reads it back. A PostgreSQL database
    is backed up in the same format: copied (in one snapshot, checked row by
    row) into a DuckDB file beside the backup, which is exported and removed.
    """
    authorise(viewer, lambda v: v.can_manage_people, "Only sales ops can back the database up.")
    target = Path(folder).expanduser()
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise StoreError(f"{target} is not an empty folder — back up into a new one, such as one named by the date.")
    _sql_path(target)  # a name SQL cannot take is refused before anything is written
    parent = target.parent
    parent.mkdir(parents=True, exist_ok=True)
    with _one_backup_at_a_time(parent):
        _remove_leftovers(parent)
        temp = parent / partial_name(target.name)
        temp.mkdir()
        try:
            if isinstance(con, PgConnection):
                _write_server_backup(con, temp)
            else:
                _write_backup(con, temp)
            try:  # an empty folder of that name is replaced; a folder with files in it is not
                os.rename(temp, target)
            except OSError:
                raise StoreError(
                    f"{target} was taken by another backup meanwhile — back up into a new folder."
                ) from None
            _fsync(parent)
        except BaseException:
            rmtree(temp, ignore_errors=True)
            raise
    return target


def _write_server_backup(con: PgConnection, temp: Path) -> None:
    """A PostgreSQL database's backup, in DuckDB's folder format: copied into a DuckDB file, exported from it."""
    from planner.store.copy import copy_into  # the copy builds on this package's engine

    # Beside the backup, in a hidden folder of its own: a backup killed meanwhile leaves it for the next to remove.
    staging = temp.with_name(partial_name(temp.name.lstrip(".") + "-copy"))
    staging.mkdir()
    try:
        duck = connect(staging / "copy.duckdb")
        try:
            copy_into(con, duck)
            _write_backup(duck, temp)
        finally:
            duck.close()
    finally:
        rmtree(staging, ignore_errors=True)


def _check_files(source: Path, manifest: dict) -> None:
    """Refuse a backup whose files are missing or differ from what its manifest recorded."""
    for name, recorded in manifest.get("files", {}).items():
        path = source / name
        if not path.is_file():
            raise StoreError(f"{source} is damaged: {name} is missing — restore another backup.")
        if path.stat().st_size != recorded["bytes"] or _sha256(path) != recorded["sha256"]:
            raise StoreError(f"{source} is damaged: {name} is not as it was written — restore another backup.")


def _check_rows(con: duckdb.DuckDBPyConnection, source: Path, manifest: dict) -> None:
    for table, rows in manifest.get("tables", {}).items():
        # The names come from the manifest just checked against its files; quoted as identifiers all the same.
        found = con.execute(f'SELECT count(*) FROM "{table.replace(chr(34), chr(34) * 2)}"').fetchone()
        if not found or found[0] != rows:
            raise StoreError(f"{source} is damaged: {table} restored {found[0] if found else 0} rows of {rows}.")


def restore(folder: str | Path, new_db_path: Target) -> Target:
    """Build a new database file at ``new_db_path`` from a :func:`backup` folder; return its path.

    Never overwrites: the file must not exist yet (point ``BACKPLAN_DB`` at it
    afterwards). A backup from an older Backplan is brought up to date. Every file
    is checked against the backup's manifest before anything is read, and every
    table's rows after (a backup from before manifests is restored unchecked). Run
    only on backups you made: the folder's SQL scripts are executed as they are.

    ``new_db_path`` may be a ``postgresql://`` URL of an empty database: the
    backup is restored into a DuckDB file beside it first, then copied across
    and checked row by row (:mod:`planner.store.copy`).
    """
    if is_server_url(new_db_path):
        return _restore_to_server(folder, str(new_db_path))
    source = Path(folder).expanduser()
    missing = [name for name in BACKUP_FILES if not (source / name).is_file()]
    if missing:
        raise StoreError(f"{source} is not a Backplan backup: it has no {missing[0]}.")
    manifest: dict = {}
    if (source / MANIFEST).is_file():
        try:
            manifest = json.loads((source / MANIFEST).read_text())
        except (ValueError, OSError):
            raise StoreError(f"{source} is damaged: its {MANIFEST} cannot be read — restore another backup.") from None
        _check_files(source, manifest)
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
        _check_rows(con, source, manifest)
        migrate(con)
    except BaseException:
        con.close()
        for leftover in (target, target.with_name(target.name + ".wal")):
            leftover.unlink(missing_ok=True)
        raise
    con.close()
    return target


def _restore_to_server(folder: str | Path, url: str) -> str:
    from planner.store.copy import copy_database  # the copy builds on this package's engine

    staging = Path(tempfile.mkdtemp(prefix="backplan-restore-"))
    try:
        copy_database(restore(folder, staging / "restored.duckdb"), url)
    finally:
        rmtree(staging, ignore_errors=True)
    return url


def take_backup(con: duckdb.DuckDBPyConnection, viewer: Viewer | None, schedule: BackupSchedule, now: datetime) -> Path:
    """Back the database up into a new folder named by ``now``, then remove complete backups past their days."""
    target = backup(con, viewer, schedule.folder / folder_name(now))
    for name in expired(list_backups(schedule.folder), now, schedule.keep_days):
        rmtree(schedule.folder / name, ignore_errors=True)
    return target
