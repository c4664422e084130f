"""A second process opening the database while the app holds it: one clear line, never a traceback or damage.

DuckDB lets one process open a file for writing and then no other process at
all, not even read-only; the store turns DuckDB's lock error into a message
that says who holds it and what to do.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from planner import store
from planner.access import SYSTEM
from planner.funnel import DEFAULT_STAGES, DEFAULT_WON_STAGE, PlanInputs

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}

HOLDER = textwrap.dedent(
    """
    import sys
    from planner import store

    con = store.connect(sys.argv[1])  # as the app does: open for writing, and keep it open
    print("open", flush=True)
    sys.stdin.read()  # until the test closes our stdin
    con.close()
    """
)


@pytest.fixture
def saved_plan(database: Path) -> int:
    con = store.connect(database)
    try:
        rep = store.add_rep(con, SYSTEM, "Ana Lima")
        inputs = PlanInputs(385_000, 3_850, date(2027, 1, 4), date(2027, 6, 27), DEFAULT_STAGES, DEFAULT_WON_STAGE)
        return store.save_plan(con, SYSTEM, rep, "H1 2027", inputs)
    finally:
        con.close()


@pytest.fixture
def app_holding(database: Path, saved_plan: int) -> Iterator[subprocess.Popen[str]]:
    """Another process (standing in for the running app) with the database open for writing."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(database)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=ENV
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
    yield holder
    holder.communicate("", timeout=30)  # closing stdin lets it close the database and exit
    assert holder.returncode == 0


def backplan(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "planner.cli", *args], capture_output=True, text=True, env=ENV, cwd=ROOT, timeout=60
    )


def assert_one_clear_line(result: subprocess.CompletedProcess[str], holder_pid: int) -> None:
    assert result.returncode == 1
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert f"is in use by process {holder_pid}" in result.stderr
    assert "Use the app, or stop it and run this again." in result.stderr


def test_the_command_line_says_the_app_has_the_database(app_holding, database: Path, saved_plan: int) -> None:
    result = backplan("track", "--plan", str(saved_plan), "--db", str(database))
    assert_one_clear_line(result, app_holding.pid)
    assert result.stderr.startswith("backplan track: error: The database ")


def test_a_backup_from_the_command_line_says_the_same(app_holding, database: Path, tmp_path: Path) -> None:
    result = backplan("backup", str(tmp_path / "backup"), "--db", str(database))
    assert_one_clear_line(result, app_holding.pid)
    assert not (tmp_path / "backup").exists()


def test_opening_through_the_store_from_another_process_raises_the_message(app_holding, database: Path) -> None:
    for read_only in (False, True):
        probe = f"from planner import store\ntry:\n store.connect({str(database)!r}, read_only={read_only})\n"
        probe += "except store.StoreError as error:\n print(error)"
        result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=ENV, timeout=60)
        assert result.returncode == 0 and result.stderr == ""
        assert f"is in use by process {app_holding.pid}" in result.stdout


def test_the_file_is_whole_once_the_app_lets_go(app_holding, database: Path, saved_plan: int) -> None:
    assert backplan("track", "--plan", str(saved_plan), "--db", str(database)).returncode == 1
    app_holding.communicate("", timeout=30)

    result = backplan("track", "--plan", str(saved_plan), "--db", str(database), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["plan"]["name"] == "H1 2027"
