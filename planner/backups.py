"""Backups the running app takes of its own database, so nobody has to stop it.

DuckDB lets one process open the file, so while the app runs the command line
cannot back it up; the app can, through its own connection
(:func:`planner.store.take_backup`: ``EXPORT DATABASE``, one consistent snapshot
while sessions go on working). A team turns the daily copy on with
``BACKPLAN_BACKUP_DIR``; sales ops can also press **Back up now**. This module
decides when backups run, what their folders are called and which have expired;
the store writes and removes them.

Each backup is a folder named by its local time, ``2026-11-22T023000``, so
names sort by age and say when they were taken. A backup is written into a
hidden folder beside it (:func:`partial_name`), finished with a manifest
(:data:`MANIFEST`: every file's size and checksum, every table's rows) and only
then renamed into place, so a backup killed half-way never carries a backup's
name: only folders with a manifest are listed, pruned or offered to restore.

>>> from datetime import datetime, time
>>> next_run(datetime(2026, 11, 22, 9, 0), time(2, 30))
datetime.datetime(2026, 11, 23, 2, 30)
>>> expired(["2026-10-01T023000", "2026-11-21T023000", "notes"], datetime(2026, 11, 22, 9, 0), keep_days=30)
['2026-10-01T023000']
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path

__all__ = [
    "FOLDER_FORMAT",
    "MANIFEST",
    "BackupSchedule",
    "expired",
    "folder_name",
    "is_complete",
    "is_partial",
    "list_backups",
    "next_run",
    "partial_name",
    "schedule_from_env",
]

#: How a backup folder is named: its local time, to the second.
FOLDER_FORMAT = "%Y-%m-%dT%H%M%S"
#: The file that marks a backup folder complete; written last, before the folder gets its name.
MANIFEST = "backplan-backup.json"
#: What a backup still being written (or one a killed process left) is called: ``.NAME.partial-TOKEN``.
_PARTIAL = re.compile(r"^\..+\.partial-[0-9a-f]{16}$")


@dataclass(frozen=True, slots=True)
class BackupSchedule:
    """Where daily backups go, when they are taken, and how many days of them are kept."""

    folder: Path
    at: time = time(2, 30)
    keep_days: int = 30


def schedule_from_env(env: dict[str, str]) -> BackupSchedule | None:
    """The schedule ``BACKPLAN_BACKUP_DIR`` / ``_AT`` (HH:MM) / ``_KEEP_DAYS`` describe; None when the folder is unset.

    Raises ValueError naming the variable and the form it wants.

    >>> schedule_from_env({"BACKPLAN_BACKUP_DIR": "/srv/b", "BACKPLAN_BACKUP_AT": "23:05"}).at
    datetime.time(23, 5)
    """
    folder = env.get("BACKPLAN_BACKUP_DIR", "").strip()
    if not folder:
        return None
    at_text = env.get("BACKPLAN_BACKUP_AT", "02:30").strip()
    try:
        at = time.fromisoformat(at_text)
    except ValueError:
        raise ValueError(f"BACKPLAN_BACKUP_AT is {at_text!r}; give a time of day such as 02:30.") from None
    keep_text = env.get("BACKPLAN_BACKUP_KEEP_DAYS", "30").strip()
    if not keep_text.isdigit() or int(keep_text) < 1:
        raise ValueError(f"BACKPLAN_BACKUP_KEEP_DAYS is {keep_text!r}; give a whole number of days, 1 or more.")
    return BackupSchedule(Path(folder).expanduser(), at, int(keep_text))


def folder_name(now: datetime) -> str:
    """The folder a backup taken at ``now`` goes into."""
    return now.strftime(FOLDER_FORMAT)


def next_run(now: datetime, at: time) -> datetime:
    """The first ``at`` o'clock strictly after ``now``."""
    today = datetime.combine(now.date(), at)
    return today if today > now else today + timedelta(days=1)


def _taken_at(name: str) -> datetime | None:
    try:
        return datetime.strptime(name, FOLDER_FORMAT)
    except ValueError:
        return None


def expired(names: Iterable[str], now: datetime, keep_days: int) -> list[str]:
    """The backup folders among ``names`` older than ``keep_days``; anything not named like a backup is kept."""
    cutoff = now - timedelta(days=keep_days)
    return sorted(n for n in names if (taken := _taken_at(n)) is not None and taken < cutoff)


def is_complete(folder: Path) -> bool:
    """True if ``folder`` is a finished backup: it has its manifest (a backup in progress is not there yet)."""
    return (folder / MANIFEST).is_file()


def partial_name(name: str) -> str:
    """A fresh, unique name for the hidden folder a backup called ``name`` is written into.

    >>> partial_name("2026-11-22T023000").startswith(".2026-11-22T023000.partial-")
    True
    >>> is_partial(partial_name("x")), is_partial("2026-11-22T023000")
    (True, False)
    """
    return f".{name}.partial-{secrets.token_hex(8)}"


def is_partial(name: str) -> bool:
    """True if ``name`` is a backup still being written, or left by a process killed while writing it."""
    return bool(_PARTIAL.match(name))


def list_backups(folder: Path) -> list[str]:
    """The complete backup folders in ``folder``, newest first (none when it does not exist).

    A folder named like a backup but without a manifest (a backup by an older
    Backplan, or a copy someone made by hand) is neither listed nor pruned.
    """
    if not folder.is_dir():
        return []
    return sorted(
        (p.name for p in folder.iterdir() if p.is_dir() and _taken_at(p.name) and is_complete(p)), reverse=True
    )
