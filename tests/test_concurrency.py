"""Many sessions writing at once through the one connection the app shares (each write on its own cursor).

DuckDB refuses one of two transactions that change the same row at once; the
store runs the refused one again, so no user sees a conflict and no write is lost.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import threading
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest

from planner import store
from planner.access import SYSTEM
from planner.funnel import DEFAULT_STAGES, DEFAULT_WON_STAGE, PlanInputs
from planner.milestones import WeekActual

#: Every test here runs on DuckDB and on PostgreSQL (tests/backends.py).
pytestmark = pytest.mark.both_backends

THREADS = 8
ROUNDS = 25
FIRST_WEEK = date(2027, 1, 4)
INPUTS = PlanInputs(
    target=120_000,
    deal_size=2_000,
    period_start=FIRST_WEEK,
    period_end=date(2027, 3, 28),
    stages=DEFAULT_STAGES,
    won_stage=DEFAULT_WON_STAGE,
)


def run_together(work: Callable[[int], None], threads: int = THREADS) -> list[BaseException]:
    """Start ``work(n)`` on ``threads`` threads at the same instant; the errors that escaped them."""
    start = threading.Barrier(threads)
    errors: list[BaseException] = []

    def run(n: int) -> None:
        start.wait()
        try:
            work(n)
        except BaseException as error:
            errors.append(error)

    pool = [threading.Thread(target=run, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in pool), "a writer never finished"
    return errors


@pytest.fixture
def con(database: Path):
    connection = store.connect(database)
    yield connection
    connection.close()


def test_sessions_editing_actuals_and_saving_plans_at_once_lose_nothing(con) -> None:
    rep = store.add_rep(con, SYSTEM, "Ana Lima")
    plan_id = store.save_plan(con, SYSTEM, rep, "Q1 2027", INPUTS)
    shared_week = FIRST_WEEK
    last_shared: dict[int, float] = {}

    def session(n: int) -> None:
        own_week = FIRST_WEEK + timedelta(weeks=n + 1)
        for i in range(ROUNDS):
            # Everyone edits the same week (a manager and the rep at once), and a week of their own.
            revenue = float(n * 1_000 + i)
            store.save_actuals(con, SYSTEM, plan_id, [WeekActual(shared_week, revenue, n, {"Meetings": i})])
            last_shared[n] = revenue
            store.save_actuals(con, SYSTEM, plan_id, [WeekActual(own_week, float(i), i, {})])
            if i % 5 == 0:
                store.save_plan(con, SYSTEM, rep, f"Session {n} draft {i}", INPUTS)

    errors = run_together(session)

    assert errors == [], f"a user would have seen: {errors[0]!r}"
    weeks = {w.week_start: w for w in store.get_actuals(con, plan_id)}
    assert len(weeks) == THREADS + 1
    # The shared week holds one session's last edit, whole: last writer wins per row.
    shared = weeks[shared_week]
    assert shared.revenue in last_shared.values()
    writer = int(shared.revenue) // 1_000
    assert (shared.deals_won, shared.stage_counts) == (writer, {"Meetings": ROUNDS - 1})
    # Every session's own week holds its last edit.
    for n in range(THREADS):
        own = weeks[FIRST_WEEK + timedelta(weeks=n + 1)]
        assert (own.revenue, own.deals_won) == (ROUNDS - 1, ROUNDS - 1)
    # Every plan saved at the same time landed, with its milestones.
    names = {p.name for p in store.list_plans(con)}
    expected = {f"Session {n} draft {i}" for n in range(THREADS) for i in range(0, ROUNDS, 5)}
    assert expected <= names
    assert len(names) == len(expected) + 1
    for summary in store.list_plans(con):
        assert store.get_milestones(con, summary.id), f"{summary.name} was saved without its milestones"


def test_two_sessions_saving_the_same_plan_name_get_one_plan_and_a_clear_message(con) -> None:
    rep = store.add_rep(con, SYSTEM, "Ben Okafor")
    outcomes: list[str] = []

    def session(n: int) -> None:
        try:
            store.save_plan(con, SYSTEM, rep, "Q2 2027", INPUTS)
            outcomes.append("saved")
        except store.StoreError as error:
            outcomes.append(str(error))

    errors = run_together(session, threads=4)

    assert errors == []
    assert outcomes.count("saved") == 1
    assert [o for o in outcomes if o != "saved"] == [
        "This rep already has a plan called “Q2 2027” — pick another name."
    ] * 3
    assert [p.name for p in store.list_plans(con)] == ["Q2 2027"]


def test_sessions_adding_the_same_new_rep_at_once_get_one_rep(con) -> None:
    outcomes: list[str] = []

    def session(n: int) -> None:
        try:
            store.save_plan(con, SYSTEM, "Cleo Park", f"Plan {n}", INPUTS)
            outcomes.append("saved")
        except store.StoreError as error:
            outcomes.append(str(error))

    assert run_together(session, threads=4) == []
    assert [r.name for r in store.list_reps(con)] == ["Cleo Park"]
    assert len(store.list_plans(con)) == outcomes.count("saved") >= 1
    assert all("Cleo Park" in o for o in outcomes if o != "saved")


def test_every_public_write_runs_again_after_a_conflict() -> None:
    """A write added later without the retry would show users DuckDB's "Conflict on update!"."""
    unwrapped = []
    aggregates = [importlib.import_module(f"planner.store.{m.name}") for m in pkgutil.iter_modules(store.__path__)]
    for module in [store, *aggregates]:
        source = inspect.getsource(module)
        for node in ast.parse(source).body:
            if (
                not isinstance(node, ast.FunctionDef)
                or node.name.startswith("_")
                or node.name in ("transaction", "migrate")
            ):
                continue
            body = ast.get_source_segment(source, node) or ""
            if "transaction(" in body and "retry_conflicts" not in [ast.unparse(d) for d in node.decorator_list]:
                unwrapped.append(node.name)
    assert unwrapped == []


def test_a_write_that_is_wrong_is_not_tried_again(con, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    @store.retry_conflicts
    def bad_write() -> None:
        calls.append(1)
        with store.transaction(con) as cur:
            cur.execute("INSERT INTO reps (name) VALUES (NULL)")

    with pytest.raises(Exception, match=r"(?i)not.null"):
        bad_write()
    assert len(calls) == 1
    assert store.list_reps(con) == []
