"""The store on PostgreSQL, where several processes share one database: migrations, the data generation,
version-checked writes and row locks across connections that stand for separate app servers.

Each ``store.connect`` here is a pool of its own, as each app server or command has: two of them are
two processes as far as PostgreSQL can tell.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from datetime import date

import duckdb
import psycopg
import pytest
from streamlit.testing.v1 import AppTest

from planner import store
from planner.access import SYSTEM
from planner.funnel import DEFAULT_STAGES, DEFAULT_WON_STAGE, PlanInputs
from planner.milestones import WeekActual
from planner.store import dialect
from tests.backends import PostgresServer
from tests.conftest import ROOT

INPUTS = PlanInputs(120_000, 2_000, date(2027, 1, 4), date(2027, 3, 28), DEFAULT_STAGES, DEFAULT_WON_STAGE)
WEEK = date(2027, 1, 4)


@pytest.fixture
def url(postgres: PostgresServer) -> str:
    """A database of its own, at the latest schema."""
    made = postgres.fresh()
    yield made
    postgres.drop(made)


@pytest.fixture
def empty_url(postgres: PostgresServer) -> str:
    """A database with nothing in it at all: not even the schema."""
    made = postgres.fresh(empty=True)
    yield made
    postgres.drop(made)


def versions(url: str) -> list[tuple[int, str]]:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT version, description FROM schema_migrations ORDER BY version").fetchall()


def test_a_new_database_is_migrated_on_first_start_and_each_migration_recorded(empty_url: str) -> None:
    con = store.connect(empty_url)
    assert store.schema_version(con) == store.LATEST_VERSION
    assert store.is_empty(con)
    con.close()
    assert versions(empty_url) == [(v, d) for v, d, _ in store.MIGRATIONS]
    again = store.connect(empty_url)
    assert store.migrate(again) == []  # nothing left to apply
    again.close()


def test_two_servers_starting_at_once_migrate_once(empty_url: str) -> None:
    errors: list[BaseException] = []
    start = threading.Barrier(3)

    def start_server() -> None:
        start.wait()
        try:
            store.connect(empty_url).close()
        except BaseException as error:
            errors.append(error)

    servers = [threading.Thread(target=start_server) for _ in range(3)]
    for server in servers:
        server.start()
    for server in servers:
        server.join(timeout=60)
    assert errors == []
    assert [v for v, _ in versions(empty_url)] == [v for v, _, _ in store.MIGRATIONS]


def test_a_database_from_a_newer_backplan_is_refused_not_guessed_at(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("INSERT INTO schema_migrations (version, description) VALUES (99, 'from the future')")
    with pytest.raises(store.StoreError, match="newer than this Backplan"):
        store.connect(url)


def test_a_report_on_a_database_not_yet_migrated_is_refused_in_words(empty_url: str) -> None:
    with pytest.raises(store.StoreError, match="needs upgrading"):
        store.connect(empty_url, read_only=True)


def test_a_report_connection_cannot_write(url: str) -> None:
    report = store.connect(url, read_only=True)
    try:
        with pytest.raises(duckdb.Error, match="read-only"):
            store.add_rep(report, SYSTEM, "Ana Lima")
    finally:
        report.close()


def test_an_unreachable_server_is_said_in_one_line_without_the_password() -> None:
    with pytest.raises(store.StoreError, match=r"cannot reach the database at postgresql://ana:\*\*\*@127\.0\.0\.1:9/"):
        store.connect("postgresql://ana:secret@127.0.0.1:9/backplan?connect_timeout=1")


def in_another_process(url: str, code: str) -> str:
    """Run ``code`` (with ``con``, a store connection to ``url``) in a process of its own; what it prints."""
    script = f"from planner import store\nfrom planner.access import SYSTEM\ncon = store.connect({url!r})\n"
    script += f"{textwrap.dedent(code)}\ncon.close()\n"
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_write_in_another_process_changes_the_data_generation_this_one_reads(url: str) -> None:
    con = store.connect(url)
    try:
        seen = store.data_generation(con)
        in_another_process(url, "store.add_rep(con, SYSTEM, 'Ana Lima')")
        assert store.data_generation(con) > seen
        quiet = store.data_generation(con)
        in_another_process(url, "print(store.list_reps(con))")  # a read changes nothing
        assert store.data_generation(con) == quiet
    finally:
        con.close()


def test_a_cell_saved_on_one_server_refuses_a_stale_cell_from_another(url: str) -> None:
    app_a, app_b = store.connect(url), store.connect(url)
    try:
        plan_id = store.save_plan(app_a, SYSTEM, store.add_rep(app_a, SYSTEM, "Ana Lima"), "Q1", INPUTS)
        cell = store.ActualCell(WEEK, store.REVENUE_FIELD, 1_000)
        store.save_actual_cells(app_a, SYSTEM, plan_id, [cell], {})
        with pytest.raises(store.StaleWeeks, match="was changed by the command line"):
            store.save_actual_cells(app_b, SYSTEM, plan_id, [store.ActualCell(WEEK, store.REVENUE_FIELD, 5)], {})
        assert [w.revenue for w in store.get_actuals(app_b, plan_id)] == [1_000]
    finally:
        app_a.close()
        app_b.close()


def test_a_plan_write_waits_for_the_row_lock_another_server_holds_then_sees_its_commit(url: str) -> None:
    app_a, app_b = store.connect(url), store.connect(url)
    try:
        plan_id = store.save_plan(app_a, SYSTEM, store.add_rep(app_a, SYSTEM, "Ana Lima"), "Q1", INPUTS)
        holder = app_a.cursor()
        holder.execute("BEGIN TRANSACTION")
        holder.execute("UPDATE plans SET writes = writes + 1 WHERE id = ? AND deleted_at IS NULL", [plan_id])
        done = threading.Event()
        failures: list[BaseException] = []

        def import_weeks() -> None:
            try:
                store.save_actuals(app_b, SYSTEM, plan_id, [WeekActual(WEEK, 500)])
            except BaseException as error:
                failures.append(error)
            done.set()

        writer = threading.Thread(target=import_weeks)
        writer.start()
        assert not done.wait(0.5), "the import went ahead while another server held the plan's row"
        holder.execute("UPDATE plans SET deleted_at = now() WHERE id = ?", [plan_id])
        holder.execute("COMMIT")
        holder.close()
        writer.join(timeout=30)
        assert len(failures) == 1 and "deleted" in str(failures[0])  # it saw the delete, and wrote nothing
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT count(*) FROM actuals").fetchone() == (0,)
    finally:
        app_a.close()
        app_b.close()


@pytest.mark.parametrize(
    ("error", "conflict"),
    [
        (psycopg.errors.SerializationFailure("could not serialize access"), True),
        (psycopg.errors.DeadlockDetected("deadlock detected"), True),
        (psycopg.errors.LockNotAvailable("canceling statement due to lock timeout"), True),
        (psycopg.errors.UniqueViolation("duplicate key value violates unique constraint"), True),
        (psycopg.errors.NotNullViolation("null value in column"), False),
        (psycopg.errors.CheckViolation("violates check constraint"), False),
    ],
)
def test_serialization_failures_and_deadlocks_are_run_again_like_duckdb_conflicts(
    error: psycopg.Error, conflict: bool
) -> None:
    translated = dialect._as_duckdb_error(error)
    assert isinstance(translated, duckdb.Error)
    assert store._is_conflict(translated) is conflict


def test_a_conflict_on_postgresql_is_run_again_and_lands(url: str) -> None:
    con = store.connect(url)
    calls = []

    @store.retry_conflicts
    def write() -> None:
        calls.append(1)
        with store.transaction(con) as cur:
            if len(calls) == 1:  # the first run is refused as PostgreSQL refuses a serialization failure
                raise dialect._as_duckdb_error(psycopg.errors.SerializationFailure("could not serialize access"))
            cur.execute("INSERT INTO reps (name) VALUES (?)", ["Ana Lima"])

    try:
        write()
        assert len(calls) == 2
        assert [r.name for r in store.list_reps(con)] == ["Ana Lima"]
    finally:
        con.close()


def test_the_pages_read_afresh_when_another_server_writes(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BACKPLAN_DB", url)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30).run()
    assert not at.exception
    in_another_process(
        url,
        """
        from datetime import date
        from planner.funnel import PlanInputs
        q1 = PlanInputs(120_000, 2_000, date(2027, 1, 4), date(2027, 3, 28))
        store.save_plan(con, SYSTEM, "Ana Lima", "Q1 2027", q1)
        """,
    )
    at.run()
    assert [o for o in at.selectbox(key="plan.pick").options if "Q1 2027" in o]


def test_the_database_url_comes_from_the_secrets_when_backplan_db_is_unset(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BACKPLAN_DB")
    with store.connect(url) as con:
        plan_id = store.save_plan(con, SYSTEM, "Ana Lima", "Q1 2027", INPUTS)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    at.secrets["backplan"] = {"database_url": url}
    at.run()
    assert not at.exception
    assert [o for o in at.selectbox(key="plan.pick").options if "Q1 2027" in o], plan_id
