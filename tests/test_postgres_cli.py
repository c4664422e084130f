"""The command line beside the running app on PostgreSQL, and moving a team's data between the engines:
``copy-db`` (checked row by row), and backups of a PostgreSQL database in the one folder format.
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

from planner import cli, store
from planner.access import SYSTEM
from planner.backups import MANIFEST
from planner.store import copy
from planner.store.backups import LOCK_FILE
from tests.backends import PostgresServer
from tests.conftest import ROOT
from tests.test_backups import everything, fill

ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


@pytest.fixture
def url(postgres: PostgresServer) -> Iterator[str]:
    made = postgres.fresh()
    yield made
    postgres.drop(made)


@pytest.fixture
def filled(tmp_path: Path) -> tuple[Path, dict[str, int], dict[str, object]]:
    """A DuckDB file holding one of everything, what fill() made and what the pages would show of it."""
    path = tmp_path / "team.duckdb"
    with store.connect(path) as con:
        ids = fill(con)
        return path, ids, everything(con, ids)


def test_copy_db_moves_every_table_to_postgresql_and_back_row_for_row(filled, url: str, tmp_path: Path, capsys) -> None:
    path, ids, before = filled
    assert cli.main(["copy-db", "--from", str(path), "--to", url, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["tables"]["plans"] == 1 and report["tables"]["deals"] == 3 and report["tables"]["actuals"] == 2
    with store.connect(url) as con:
        assert everything(con, ids) == before
        # New rows get new ids: the sequences came across too.
        assert store.add_rep(con, SYSTEM, "Eve New") not in {r.id for r in before["reps"]}
    back = tmp_path / "back.duckdb"
    assert cli.main(["copy-db", "--from", url, "--to", str(back)]) == 0
    assert "every row checked" in capsys.readouterr().out
    with store.connect(back) as con:
        assert everything(con, ids) == {**before, "reps": store.list_reps(con)}
        assert "Eve New" in [r.name for r in store.list_reps(con)]


def test_copy_db_refuses_a_target_that_holds_data_unless_told_to_replace_it(filled, url: str, capsys) -> None:
    path, ids, before = filled
    with store.connect(url) as con:
        store.add_rep(con, SYSTEM, "Someone Else")
    with pytest.raises(SystemExit) as exit_:
        cli.main(["copy-db", "--from", str(path), "--to", url])
    assert exit_.value.code == 1
    assert "already holds data" in capsys.readouterr().err
    with store.connect(url) as con:
        assert [r.name for r in store.list_reps(con)] == ["Someone Else"]  # untouched
    assert cli.main(["copy-db", "--from", str(path), "--to", url, "--replace"]) == 0
    with store.connect(url) as con:
        assert everything(con, ids) == before


def test_a_copy_that_reads_back_differently_is_reported(filled, url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    path, _, _ = filled
    real_write = copy._write

    def lossy_write(target, *args, **kwargs) -> None:
        real_write(target, *args, **kwargs)
        with store.transaction(target) as cur:
            cur.execute("UPDATE actuals SET revenue = revenue + 1")

    monkeypatch.setattr(copy, "_write", lossy_write)
    with pytest.raises(store.StoreError, match="The copy of actuals does not match"):
        store.copy_database(path, url)


def test_a_postgresql_backup_restores_into_duckdb_and_into_postgresql(
    filled, url: str, postgres: PostgresServer, tmp_path: Path
) -> None:
    path, ids, before = filled
    store.copy_database(path, url)
    with store.connect(url) as con:
        folder = store.backup(con, SYSTEM, tmp_path / "backups" / "2026-11-22")
    manifest = json.loads((folder / MANIFEST).read_text())
    assert manifest["tables"]["plans"] == 1 and manifest["schema_version"] == store.LATEST_VERSION
    assert not [p for p in folder.parent.iterdir() if p.name not in (folder.name, LOCK_FILE)]  # no staging file left
    with store.connect(store.restore(folder, tmp_path / "restored.duckdb")) as con:
        assert everything(con, ids) == before
    other = postgres.fresh(empty=True)
    try:
        assert store.restore(folder, other) == other
        with store.connect(other) as con:
            assert everything(con, ids) == before
        with pytest.raises(store.StoreError, match="already holds data"):
            store.restore(folder, other)  # never over a database in use
    finally:
        postgres.drop(other)


APP = textwrap.dedent(
    """
    import sys
    from planner import store

    con = store.connect(sys.argv[1])  # as the app does: connected, and staying connected
    con.execute("SELECT 1")
    print("open", flush=True)
    sys.stdin.read()
    con.close()
    """
)


def backplan(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "planner.cli", *args], capture_output=True, text=True, env=ENV, cwd=ROOT, timeout=120
    )


def test_track_review_and_backup_work_while_the_app_is_connected(url: str, tmp_path: Path) -> None:
    with store.connect(url) as con:
        from planner.demo import demo_team

        plan_ids = store.load_team(con, SYSTEM, demo_team(date(2026, 11, 22)))
    app = subprocess.Popen(
        [sys.executable, "-c", APP, url], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=ENV
    )
    try:
        assert app.stdout is not None and app.stdout.readline().strip() == "open"
        tracked = backplan("track", "--plan", str(plan_ids[0]), "--as-of", "2026-11-22", "--db", url, "--json")
        assert tracked.returncode == 0, tracked.stderr
        assert json.loads(tracked.stdout)["plan"]["id"] == plan_ids[0]
        reviewed = backplan("review", "--team", "Mid-Market East", "--as-of", "2026-11-22", "--json", "--db", url)
        assert reviewed.returncode == 0, reviewed.stderr
        report = json.loads(reviewed.stdout)  # the same review as on DuckDB (tests/test_cli_review.py)
        assert report["pipeline_snapshot"] == "2026-11-16"
        assert [r["rep"] for r in report["rows"]] == ["Dev Patel", "Chloe Nguyen", "Ben Carter", "Ana Lima"]
        assert [r["status"] for r in report["rows"]] == ["off track", "off track", "at risk", "on track"]
        backed = backplan("backup", str(tmp_path / "nightly"), "--db", url)
        assert backed.returncode == 0, backed.stderr
        assert (tmp_path / "nightly" / MANIFEST).is_file()
        assert "secret" not in backed.stdout
    finally:
        app.communicate("", timeout=30)
    assert app.returncode == 0


def test_a_duckdb_file_is_never_replaced_in_place(filled, tmp_path: Path) -> None:
    path, _, _ = filled
    other = tmp_path / "other.duckdb"
    with store.connect(other) as con:
        store.add_rep(con, SYSTEM, "Someone Else")
    with pytest.raises(store.StoreError, match="copy into a new file instead"):
        store.copy_database(path, other, replace=True)
    with store.connect(other) as con:
        assert [r.name for r in store.list_reps(con)] == ["Someone Else"]
